import ArgumentParser
import Engine
import Kernels
import Foundation

/// Throughput of resnet_ref on random inputs, the Foldwise side of
/// scripts/bench-engine (the same measurement as ../shared/reference/torch_cnn.py).
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Measure resnet_ref training and inference images/s; prints one JSON line.")

    @Option var threads = 2
    @Option var size = 28
    @Option var channels = 1
    @Option var classes = 10
    @Option var batch = 128
    @Option var steps = 60
    @Option var warmup = 10

    func validate() throws {
        for (name, value) in [("threads", threads), ("size", size), ("channels", channels), ("batch", batch), ("steps", steps)]
        where value < 1 {
            throw ValidationError("--\(name) must be at least 1, got \(value)")
        }
        if classes < 2 { throw ValidationError("--classes must be at least 2, got \(classes)") }
        if warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
    }

    func run() throws {
        ComputeThreads.set(threads)
        let model = ModelRegistry.make(name: "resnet_ref", config: .resnetRef, inputChannels: channels,
                                       classes: classes, seed: 0)
        var random = SeededRandom(seed: 1)
        var x = Tensor(zeros: [batch, channels, size, size])
        for i in 0..<x.count { x[i] = random.normal() }
        let labels = (0..<batch).map { _ in random.int(below: classes) }
        let trainer = Trainer(model: model, loss: CrossEntropyLoss(), optimizer: Adam(),
                              policy: .schedule(ConstantSchedule(3e-4)))
        let train = timeSteps { trainer.trainStep(images: x, targets: .classes(labels)) }
        let infer = timeSteps { _ = model.forward(x, mode: .eval) }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let result: [String: Any] = [
            "network": "resnet_ref", "threads": threads, "batch": batch, "input": [channels, size, size],
            "train_images_per_s": round1(Double(steps * batch) / train),
            "infer_images_per_s": round1(Double(steps * batch) / infer),
            "peak_rss_mib": round1(Double(usage.ru_maxrss) / 1024), "blas_core": ComputeThreads.blasCoreName,
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    private func timeSteps(_ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }
}
