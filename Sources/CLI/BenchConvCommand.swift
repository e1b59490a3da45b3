import ArgumentParser
import Foundation
import Kernels

/// Throughput of resnet_ref's convolutions alone (no batch norm, pooling, loss or
/// optimizer) on one kernel backend; the Swift side of scripts/bench-conv.
/// Buffers stay in the engine's NCHW layout, so oneDNN's time includes its
/// reorders to and from its blocked layouts at every call.
struct BenchConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-conv",
        abstract: "Measure resnet_ref's convolutions (forward, backward data, backward weights) on one backend; prints one JSON line.")

    @Option(help: "blas (im2col + OpenBLAS) or dnnl (oneDNN)") var backend = "blas"
    @OptionGroup var options: BenchOptions

    func validate() throws {
        if KernelBackend(rawValue: backend) == nil {
            throw ValidationError("--backend \(backend) is not a backend; use blas or dnnl")
        }
    }

    func run() throws {
        ComputeThreads.set(options.threads)
        let kind = KernelBackend(rawValue: backend)!
        var layers = resnetRefConvolutions().enumerated().map { i, conv in
            BenchConvLayer(conv.shape, inputGradient: conv.inputGradient, seed: UInt64(i))
        }
        let train = options.timeSteps { for i in layers.indices { layers[i].forward(kind); layers[i].backward(kind) } }
        let infer = options.timeSteps { for i in layers.indices { layers[i].forward(kind) } }
        let forwardFLOP = layers.reduce(0.0) { $0 + $1.flop }
        let trainFLOP = layers.reduce(0.0) { $0 + $1.flop * ($1.inputGradient ? 3 : 2) }
        let result = ConvBenchmark(
            network: "resnet_ref convolutions", backend: backend, threads: options.threads, batch: options.batch,
            input: [options.channels, options.size, options.size], layout: "NCHW at the boundary",
            trainImagesPerS: options.rate(Double(options.batch), seconds: train),
            inferImagesPerS: options.rate(Double(options.batch), seconds: infer),
            trainGflopPerS: options.rate(trainFLOP / 1e9, seconds: train),
            inferGflopPerS: options.rate(forwardFLOP / 1e9, seconds: infer))
        print(try result.jsonString())
    }

    /// resnet_ref (ResNetConfig.resnetRef: widths 32, 64, two basic blocks each): a 3×3 stem, four
    /// 3×3 convolutions at full size, then a stride-2 block with its 1×1 projection and three 3×3
    /// convolutions at half size. The stem needs no input gradient.
    private func resnetRefConvolutions() -> [(shape: ConvShape, inputGradient: Bool)] {
        let (size, batch) = (options.size, options.batch)
        let half = (size - 1) / 2 + 1
        func conv(_ C: Int, _ F: Int, _ H: Int, kernel: Int = 3, stride: Int = 1) -> ConvShape {
            ConvShape(N: batch, C: C, H: H, W: H, F: F, R: kernel, S: kernel, stride: stride, padding: kernel / 2)
        }
        return [(conv(options.channels, 32, size), false)]
            + Array(repeating: (conv(32, 32, size), true), count: 4)
            + [(conv(32, 64, size, stride: 2), true), (conv(32, 64, size, kernel: 1, stride: 2), true)]
            + Array(repeating: (conv(64, 64, half), true), count: 3)
    }
}

/// One convolution's buffers, filled with noise once.
private struct BenchConvLayer {
    let shape: ConvShape
    let inputGradient: Bool
    let x, w, dy: [Float]
    var y, dx, dw: [Float]
    var dBias: [Float]? = nil
    var workspace = Workspace()

    init(_ s: ConvShape, inputGradient: Bool, seed: UInt64) {
        (shape, self.inputGradient) = (s, inputGradient)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func noise(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 24) - 0.5
            }
        }
        (x, w, dy) = (noise(s.N * s.C * s.H * s.W), noise(s.F * s.CRS), noise(s.N * s.F * s.P * s.Q))
        (y, dx, dw) = ([Float](repeating: 0, count: dy.count), [], [Float](repeating: 0, count: w.count))
    }

    /// Multiply-adds × 2 of one pass (forward, backward data and backward weights each cost this).
    var flop: Double { 2 * Double(shape.N * shape.F * shape.P * shape.Q * shape.CRS) }

    mutating func forward(_ backend: KernelBackend) {
        switch backend {
        case .blas: convForward(input: x, weight: w, bias: nil, output: &y, shape: shape, workspace: &workspace)
        case .dnnl: dnnlConvForward(input: x, weight: w, bias: nil, output: &y, shape: shape)
        }
    }

    mutating func backward(_ backend: KernelBackend) {
        switch backend {
        case .blas:
            convBackward(input: x, weight: w, dOutput: dy, dInput: &dx, computeDInput: inputGradient, dWeight: &dw,
                         dBias: &dBias, shape: shape, workspace: &workspace)
        case .dnnl:
            dnnlConvBackward(input: x, weight: w, dOutput: dy, dInput: &dx, computeDInput: inputGradient, dWeight: &dw,
                             dBias: &dBias, shape: shape)
        }
    }
}

/// `bench-conv`'s one line of JSON (snake_case keys, sorted).
struct ConvBenchmark: JSONSummary {
    var network, backend: String
    var threads, batch: Int
    var input: [Int]
    var layout: String
    var trainImagesPerS, inferImagesPerS, trainGflopPerS, inferGflopPerS: Double
}
