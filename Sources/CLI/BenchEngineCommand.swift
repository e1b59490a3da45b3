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

    @OptionGroup var options: BenchOptions
    @Option var classes = 10

    func validate() throws {
        if classes < 2 { throw ValidationError("--classes must be at least 2, got \(classes)") }
    }

    func run() throws {
        let (threads, size, channels, batch) = (options.threads, options.size, options.channels, options.batch)
        ComputeThreads.set(threads)
        let model = ModelRegistry.make(name: "resnet_ref", config: .resnetRef, inputChannels: channels,
                                       classes: classes, seed: 0)
        var random = SeededRandom(seed: 1)
        var x = Tensor(zeros: [batch, channels, size, size])
        for i in 0..<x.count { x[i] = random.normal() }
        let labels = (0..<batch).map { _ in random.int(below: classes) }
        let trainer = Trainer(model: model, loss: CrossEntropyLoss(), optimizer: Adam(),
                              policy: .schedule(ConstantSchedule(3e-4)))
        let train = options.timeSteps { trainer.trainStep(images: x, targets: .classes(labels)) }
        let infer = options.timeSteps { _ = model.forward(x, mode: .eval) }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let result = EngineBenchmark(
            network: "resnet_ref", threads: threads, batch: batch, input: [channels, size, size],
            trainImagesPerS: options.rate(Double(batch), seconds: train),
            inferImagesPerS: options.rate(Double(batch), seconds: infer),
            peakRssMib: (Double(usage.ru_maxrss) / 1024 * 10).rounded() / 10, blasCore: ComputeThreads.blasCoreName,
            kernels: KernelBackend.selected.rawValue, ompWaitPolicy: OpenMPWaitPolicy.current)
        print(try result.jsonString())
    }
}

/// `bench-engine`'s one line of JSON (snake_case keys, sorted).
struct EngineBenchmark: JSONSummary {
    var network: String
    var threads, batch: Int
    var input: [Int]
    var trainImagesPerS, inferImagesPerS, peakRssMib: Double
    var blasCore, kernels, ompWaitPolicy: String
}
