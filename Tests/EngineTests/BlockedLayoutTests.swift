import XCTest
@testable import Engine
@testable import Kernels
import TestSupport

/// FOLDWISE_ENGINE=dnnl keeps activations in oneDNN's blocked layout between the
/// layers it runs. These check that whole networks agree with the OpenBLAS path
/// (whose kernels have their own finite-difference checks) wherever blocked and
/// plain layers meet, that blocks' gradients hold by finite differences on the
/// blocked path, and that oneDNN never falls back to its slow reference kernels.
final class BlockedLayoutTests: XCTestCase {
    override func tearDown() {
        KernelBackend.use(KernelBackend.configured)
        ComputeThreads.set(1)
    }

    /// Layers that take blocked inputs beside ones that do not: SE and IBN (reordered to nchw inside a
    /// residual block, whose shortcut stays blocked), grouped convolutions, the max-pooling stem, a
    /// 1×1 stride-2 shortcut, channel counts that fit no block (12), and the pooling head.
    private let configs: [(String, ResNetConfig)] = [
        ("resnet_ref", .resnetRef),
        ("se+ibn", ResNetConfig(widths: [16, 32], blocks: [1, 1], squeezeExcitation: true, ibn: true)),
        ("resnext pool stem", ResNetConfig(widths: [16, 32], blocks: [1, 1], stem: .conv7Pool,
                                           block: .bottleneck(cardinality: 4, baseWidth: 4))),
        ("odd widths", ResNetConfig(widths: [12, 32], blocks: [1, 1])),
    ]

    /// Relative errors have a floor of 0.01: some quantities are zero up to rounding (the mean after
    /// a 1×1 convolution of batch-normalised channels, the gradient of a bias that the next batch
    /// norm removes), where the backends' rounding differs.
    private let floor: Float = 1e-2

    /// Models to compare: the residual networks above, with a GeM + BNNeck + dropout head on the
    /// first, and a narrow EfficientNet-B0 (depthwise convolutions, swish, blocks without a shortcut).
    private var models: [(String, ArchitectureConfig)] {
        var gem = ResNetConfig.resnetRef
        gem.head = HeadConfig(pooling: .gem, bnneck: true, dropout: 0.2)
        return configs.map { ($0.0, .resnet($0.1)) } + [("gem head", .resnet(gem)),
               ("efficientnet_b0", .efficientNet(EfficientNetConfig(widthMultiplier: 0.25, depthMultiplier: 0.34)))]
    }

    func testNetworksMatchTheBLASPathForwardAndBackward() {
        for (name, config) in models {
            for threads in [1, 2] {
                ComputeThreads.set(threads)
                var random = SeededRandom(seed: 17)
                let x = random.tensor([4, 3, 20, 20])
                let labels = [1, 0, 3, 2]
                func step(_ backend: KernelBackend) -> (logits: Tensor, eval: Tensor, grads: [String: [Float]], stats: [String: [Float]]) {
                    KernelBackend.use(backend)
                    let model = ModelRegistry.make(name: name, config: config, inputChannels: 3, classes: 5, seed: 4)
                    let logits = model.forward(x, mode: .train)
                    let (_, dLogits) = CrossEntropyLoss().evaluate(logits: logits, targets: .classes(labels))
                    model.parameters.zeroGrads()
                    model.backward(dLogits)
                    let eval = model.forward(x, mode: .eval)
                    return (logits, eval,
                            Dictionary(uniqueKeysWithValues: model.parameters.trainable.map { ($0.name, $0.grad.scalars) }),
                            Dictionary(uniqueKeysWithValues: model.parameters.buffers.map { ($0.name, $0.value.scalars) }))
                }
                let blas = step(.blas), dnnl = step(.dnnl)
                let label = "\(name) threads \(threads)"
                XCTAssertEqual(dnnl.logits.layout, .nchw, label)
                XCTAssertLessThan(relativeError(dnnl.logits.scalars, blas.logits.scalars, floor: floor), 1e-4, "logits " + label)
                XCTAssertLessThan(relativeError(dnnl.eval.scalars, blas.eval.scalars, floor: floor), 1e-4, "eval logits " + label)
                // Max pooling routes each gradient to its window's largest value; where two nearly tie,
                // the backends' last-bit differences can pick different ones.
                var tolerance: Float = 2e-3
                if case .resnet(let resnet) = config, resnet.stem == .conv7Pool { tolerance = 2e-2 }
                for (parameter, grad) in blas.grads {
                    XCTAssertLessThan(relativeError(dnnl.grads[parameter]!, grad, floor: floor), tolerance, "gradient of \(parameter) " + label)
                }
                for (buffer, value) in blas.stats {
                    XCTAssertLessThan(relativeError(dnnl.stats[buffer]!, value, floor: floor), 1e-4, "\(buffer) " + label)
                }
            }
        }
    }

    func testActivationsStayBlockedInsideTheNetwork() throws {
        guard let native = ActivationLayout.native else { throw XCTSkip("oneDNN has no blocked kernels for this CPU") }
        KernelBackend.use(.dnnl)
        let model = ModelRegistry.make(name: "resnet_ref", config: .resnetRef, inputChannels: 1, classes: 10, seed: 1)
        var random = SeededRandom(seed: 2)
        let x = random.tensor([2, 1, 12, 12])
        let layers = try XCTUnwrap(model.network as? Sequential).layers
        let stem = layers[0].forward(x, mode: .train)
        XCTAssertEqual(stem.layout, native, "the stem's convolution + BN + ReLU hand on oneDNN's layout")
        XCTAssertEqual(layers[1].forward(stem, mode: .train).layout, native, "a stage of residual blocks keeps it")
        KernelBackend.use(.blas)
        XCTAssertEqual(layers[0].forward(x, mode: .train).layout, .nchw, "the OpenBLAS path is plain throughout")
    }

    /// Central differences through a residual block on the blocked path (its convolutions and
    /// batch norms in oneDNN's layout, the fused ReLUs' masks in oneDNN's workspace).
    func testBlockGradientsOnTheBlockedPathMatchFiniteDifferences() {
        KernelBackend.use(.dnnl)
        var random = SeededRandom(seed: 60)
        for stride in [1, 2] {
            let block = BasicBlock(name: "b", inChannels: 16, outChannels: 16, stride: stride, random: &random)
            block.allowBlockedActivations()
            let result = checkLayerGradients(block, input: random.tensor([2, 16, 6, 6]), epsilon: 1e-3, samples: 25)
            XCTAssertLessThan(result.error, 5e-2, "stride \(stride): \(result)")
        }
    }

    func testOneDNNRunsNoReferenceKernels() throws {
        try XCTSkipIf(ActivationLayout.native == nil, "oneDNN has no blocked kernels for this CPU")
        KernelBackend.use(.dnnl)
        // Only what runs from here on: other tests leave plans of other layouts in the cache.
        DNNLRuntime.shared.run(threads: 1) { $0.plans.removeAll() }
        for (name, config) in models {
            let model = ModelRegistry.make(name: name, config: config, inputChannels: 3, classes: 5, seed: 4)
            var random = SeededRandom(seed: 3)
            let logits = model.forward(random.tensor([4, 3, 20, 20]), mode: .train)
            model.backward(logits)
            _ = model.forward(random.tensor([4, 3, 20, 20]), mode: .eval)
        }
        let slow = DNNLRuntime.shared.run(threads: 1) { runtime in
            runtime.plans.filter { $0.value.executions > 0 && $0.value.implementation.hasPrefix("ref") }.map { "\($0.key): \($0.value.implementation)" }
        }
        XCTAssertEqual(slow, [], "oneDNN fell back to its reference kernels")
    }
}
