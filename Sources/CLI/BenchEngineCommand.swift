import ArgumentParser
import Engine
import Kernels
import Foundation

/// Throughput of a network (resnet_ref by default) on random inputs, the Foldwise
/// side of scripts/bench-engine (the same measurement as scripts/torch_replica.py).
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Measure a network's training and inference images/s; prints one JSON line.")

    @OptionGroup var options: BenchOptions
    @Option var classes = 10
    @Option(help: "A network of the model registry with a default configuration (resnet_ref, resnet18, …).")
    var network = "resnet_ref"

    func validate() throws {
        if classes < 2 { throw ValidationError("--classes must be at least 2, got \(classes)") }
        if ModelRegistry.defaultArchitecture(for: network) == nil {
            let names = ModelRegistry.names.filter { ModelRegistry.defaultArchitecture(for: $0) != nil }
            throw ValidationError("--network \(network) has no default configuration; use one of \(names.joined(separator: ", "))")
        }
    }

    func run() throws {
        let (threads, size, channels, batch) = (options.threads, options.size, options.channels, options.batch)
        ComputeThreads.set(threads)
        let model = ModelRegistry.make(name: network, config: ModelRegistry.defaultArchitecture(for: network)!,
                                       inputChannels: channels, classes: classes, seed: 0)
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
            network: network, threads: threads, batch: batch, input: [channels, size, size],
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
