import XCTest
@testable import Engine
import Kernels
import TestSupport

/// The registered backbones and heads: block gradients, parameter names and
/// counts against torchvision/timm, 16×16 inputs, and every parameter's part.
final class ArchitectureTests: XCTestCase {
    private func model(_ name: String, _ config: ArchitectureConfig, channels: Int = 1, classes: Int = 10) -> Model {
        ModelRegistry.make(name: name, config: config, inputChannels: channels, classes: classes, seed: 3)
    }

    private static let resNeXt50 = ResNetConfig(widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3], stem: .conv7Pool,
                                                block: .bottleneck(cardinality: 32, baseWidth: 4))

    // MARK: blocks

    func testBottleneckGradients() {
        var random = SeededRandom(seed: 51)
        for (stride, inC, se, ibn) in [(1, 8, false, false), (2, 4, true, false), (1, 8, true, true)] {
            let block = Bottleneck(name: "b", inChannels: inC, planes: 2, stride: stride, cardinality: 2, baseWidth: 64,
                                   squeezeExcitation: se, ibn: ibn, random: &random)
            let result = checkLayerGradients(block, input: random.tensor([2, inC, 3, 3]), epsilon: 1e-3, samples: 25)
            XCTAssertLessThan(result.error, 5e-2, "stride \(stride) se \(se) ibn \(ibn): \(result)")
        }
    }

    func testBasicBlockWithIBNGradients() {
        var random = SeededRandom(seed: 52)
        let block = BasicBlock(name: "b", inChannels: 3, outChannels: 4, stride: 2, ibn: true, random: &random)
        XCTAssertTrue(block.parameters.map(\.name).contains("b.bn1.IN.weight"))
        let result = checkLayerGradients(block, input: random.tensor([2, 3, 4, 4]), epsilon: 1e-3, samples: 25)
        XCTAssertLessThan(result.error, 5e-2, "\(result)")
    }

    func testMBConvGradientsWithAndWithoutResidual() {
        var random = SeededRandom(seed: 53)
        for (inC, outC, expansion, kernel, stride) in [(4, 4, 6, 3, 1), (4, 6, 1, 5, 2), (3, 3, 1, 3, 1)] {
            let block = MBConv(name: "m", inChannels: inC, outChannels: outC, expansion: expansion, kernel: kernel,
                               stride: stride, random: &random)
            if case .identity = block.shortcut {} else {
                XCTAssertFalse(stride == 1 && inC == outC, "a block with unchanged shape adds its input back")
            }
            // Float32 rounding dominates below ε = 1e-2 here (many BN'd outputs feed each gate).
            let result = checkLayerGradients(block, input: random.tensor([2, inC, 4, 4]), epsilon: 1e-2, samples: 25)
            XCTAssertLessThan(result.error, 5e-2, "\(inC)→\(outC) e\(expansion) k\(kernel) s\(stride): \(result)")
        }
    }

    // MARK: backbones against torchvision and timm (1000 classes, 3 channels)

    func testParameterCountsMatchTheReferenceImplementations() {
        let counts: [(String, ArchitectureConfig, Int)] = [
            ("resnet18", .resnet(.resnet18), 11_689_512),            // torchvision resnet18
            ("resnext50", .resnet(Self.resNeXt50), 25_028_904),      // torchvision resnext50_32x4d
            ("efficientnet_b0", .efficientNet(.b0), 5_288_548),      // timm efficientnet_b0
        ]
        for (name, config, expected) in counts {
            XCTAssertEqual(model(name, config, channels: 3, classes: 1000).parameters.parameterCount, expected, name)
        }
        var seResNeXt50 = Self.resNeXt50
        seResNeXt50.squeezeExcitation = true  // timm seresnext50_32x4d
        XCTAssertEqual(model("se", .resnet(seResNeXt50), channels: 3, classes: 1000).parameters.parameterCount, 27_559_896)
    }

    func testIBNKeepsTheParameterCountAndSparesTheLastStage() {
        var config = ResNetConfig.resnet18
        config.ibn = true
        let ibn = model("resnet18", .resnet(config), channels: 3, classes: 1000)
        XCTAssertEqual(ibn.parameters.parameterCount, 11_689_512)  // IBN-a's IN and BN halves hold as much as one BN
        let names = ibn.parameters.all.map(\.name)
        for stage in 1...3 { XCTAssertTrue(names.contains("stage\(stage).1.bn1.IN.weight"), "stage \(stage)") }
        XCTAssertTrue(names.contains("stage4.0.bn1.weight"))
        XCTAssertFalse(names.contains { $0.hasPrefix("stage4") && $0.contains(".IN.") })
        XCTAssertFalse(names.contains { $0.contains(".bn2.IN") })
    }

    /// `zero_init_residual`: every block's last batch norm starts at γ = 0, so a
    /// block with an identity shortcut passes its input through (after ReLU) and the
    /// gradient still reaches γ, so the block can leave the identity.
    func testZeroInitResidualStartsEachBlockAsItsShortcut() {
        for (block, last, channels) in [(ResNetConfig.Block.basic, "bn2", 4), (.bottleneck(cardinality: 2, baseWidth: 64), "bn3", 16)] {
            for se in [false, true] {
                var config = ResNetConfig(widths: [4], blocks: [2], block: block, squeezeExcitation: se)
                XCTAssertFalse(zeroWeights(model("r", .resnet(config))).contains { $0.hasPrefix("stage") }, "off by default")
                config.zeroInitResidual = true
                let network = model("r", .resnet(config))
                XCTAssertEqual(zeroWeights(network).filter { $0.hasPrefix("stage") },
                               ["stage1.0.\(last).weight", "stage1.1.\(last).weight"], "\(block) se \(se)")
                guard let stage = ((network.network as? Sequential)?.layers[1] as? Sequential)?.layers.last else {
                    return XCTFail("no second block")
                }
                var random = SeededRandom(seed: 54)
                let x = Tensor(shape: [2, channels, 3, 3], scalars: random.tensor([2, channels, 3, 3]).scalars.map(abs))
                XCTAssertEqual(stage.forward(x, mode: .eval).converted(to: .nchw).scalars, x.scalars,
                               "\(block) se \(se): the block is its shortcut")
            }
        }
        var random = SeededRandom(seed: 55)
        let block = BasicBlock(name: "b", inChannels: 3, outChannels: 4, stride: 2, random: &random)
        block.zeroInitialiseLastNorm()
        let result = checkLayerGradients(block, input: random.tensor([2, 3, 4, 4]), epsilon: 1e-3, samples: 25)
        XCTAssertLessThan(result.error, 5e-2, "\(result)")
        let gamma = block.parameters.first { $0.name == "b.bn2.weight" }
        XCTAssertTrue(gamma?.grad.scalars.contains { $0 != 0 } ?? false, "γ = 0 still gets a gradient")
    }

    private func zeroWeights(_ model: Model) -> [String] {
        model.parameters.all.filter { $0.name.hasSuffix(".weight") && $0.value.scalars.allSatisfy { $0 == 0 } }.map(\.name)
    }

    func testEfficientNetNamesAndMultipliers() {
        let b0 = model("efficientnet_b0", .efficientNet(.b0))
        let names = b0.parameters.all.map(\.name)
        XCTAssertEqual(names.first, "stem.0.weight")
        XCTAssertFalse(names.contains("stage1.0.conv_pw.weight"), "expansion 1 has no expansion convolution")
        for name in ["stage1.0.conv_dw.weight", "stage2.0.conv_pw.weight", "stage2.1.se.fc1.bias", "stage6.3.conv_pwl.weight",
                     "stage7.conv_head.weight", "stage7.bn_head.running_var"] {
            XCTAssertTrue(names.contains(name), name)
        }
        XCTAssertEqual(b0.parameters["stage2.0.se.fc1.weight"]?.shape, [4, 96], "SE reduces to a quarter of the block's input")
        XCTAssertEqual(b0.parameters["stage3.0.conv_dw.weight"]?.shape, [144, 1, 5, 5])
        XCTAssertEqual(b0.parameters["fc.weight"]?.shape, [10, 1280])
        let small = model("efficientnet_b0", .efficientNet(EfficientNetConfig(widthMultiplier: 0.5, depthMultiplier: 0.5)))
        XCTAssertEqual(small.parameters["stem.0.weight"]?.shape, [16, 1, 3, 3])
        XCTAssertEqual(small.parameters["fc.weight"]?.shape, [10, 640])
        XCTAssertNil(small.parameters["stage6.2.conv_dw.weight"], "⌈4·0.5⌉ = 2 blocks")
        XCTAssertNotNil(small.parameters["stage6.1.conv_dw.weight"])
        XCTAssertEqual(EfficientNetConfig(widthMultiplier: 0.25).channels(24), 8)
        XCTAssertEqual(EfficientNetConfig(widthMultiplier: 1.1).channels(40), 48)  // timm: make_divisible(44) = 48
    }

    // MARK: heads

    func testHeadsNameTheirParameters() {
        func headNames(_ head: HeadConfig) -> [String] {
            var config = ResNetConfig.resnetRef
            config.head = head
            let names = model("resnet_ref", .resnet(config)).parameters.all.map(\.name)
            return names.filter { ["pool", "reduce", "neck", "fc"].contains(String($0.prefix { $0 != "." })) }
        }
        XCTAssertEqual(headNames(HeadConfig()), ["fc.weight", "fc.bias"])
        XCTAssertEqual(headNames(HeadConfig(pooling: .gem)), ["pool.p", "fc.weight", "fc.bias"])
        XCTAssertEqual(headNames(HeadConfig(pooling: .dual)), ["reduce.weight", "reduce.bias", "fc.weight", "fc.bias"])
        XCTAssertEqual(headNames(HeadConfig(bnneck: true)),
                       ["neck.weight", "neck.bias", "neck.running_mean", "neck.running_var", "fc.weight"])
        XCTAssertEqual(headNames(HeadConfig(cosineScale: 30)), ["fc.weight"])
    }

    /// The default head draws the same weights as before heads were configurable.
    func testDefaultHeadKeepsTheNetworkLayoutAndNames() {
        let model = ModelRegistry.make(name: "resnet_ref", config: .resnetRef, inputChannels: 1, classes: 10, seed: 0)
        let network = makeResNet(.resnetRef, inputChannels: 1, classes: 10, seed: 0)
        XCTAssertEqual(model.parameters.all.map(\.name), network.parameters.map(\.name))
        XCTAssertEqual(model.parameters.all.map(\.value), network.parameters.map(\.value))
    }

    func testHeadGradientsThroughWholeHeads() {
        var random = SeededRandom(seed: 54)
        for head in [HeadConfig(pooling: .gem, bnneck: true), HeadConfig(pooling: .dual, cosineScale: 8),
                     HeadConfig(pooling: .max, bnneck: true, cosineScale: 4)] {
            var headRandom = SeededRandom(seed: 5)
            let layers = makeHead(head, features: 4, classes: 3, seed: 1, random: &headRandom)
            var x = random.tensor([5, 4, 2, 2])
            for i in 0..<x.count { x[i] = 0.2 + abs(x[i]) }
            let result = checkLayerGradients(layers, input: x, epsilon: 3e-3, samples: 30)
            XCTAssertLessThan(result.error, 3e-2, "\(head): \(result)")
        }
    }

    // MARK: registry, small inputs and parts

    func testEveryRegisteredArchitectureRunsOn16x16Digits() {
        for name in ModelRegistry.names {
            let config = ModelRegistry.defaultArchitecture(for: name)
                ?? .resnet(ResNetConfig(widths: [16, 32], blocks: [1, 1],
                                        block: name == "resnext" ? .bottleneck(cardinality: 4, baseWidth: 16) : .basic))
            var random = SeededRandom(seed: 55)
            let m = model(name, config)
            let logits = m.forward(random.tensor([2, 1, 16, 16]), mode: .train)
            XCTAssertEqual(logits.shape, [2, 10], name)
            XCTAssertTrue(logits.scalars.allSatisfy(\.isFinite), name)
            m.backward(random.tensor([2, 10]))
            XCTAssertEqual(m.forward(random.tensor([3, 1, 16, 16]), mode: .eval).shape, [3, 10], name)
        }
    }

    func testEveryParameterHasAPart() {
        var reference = ResNetConfig.resnetRef
        reference.head = HeadConfig(pooling: .gem, bnneck: true)
        let cases: [(ArchitectureConfig, Int)] = [(.resnet(reference), 2), (.resnet(.seResNeXt), 3), (.efficientNet(.b0), 7)]
        for (config, stages) in cases {
            let m = model("m", config)
            XCTAssertEqual(m.stageCount, stages)
            for p in m.parameters.all {
                let expected: ModelPart
                if p.name.hasPrefix("stem.") {
                    expected = .stem
                } else if p.name.hasPrefix("stage"), let k = Int(p.name.dropFirst(5).prefix { $0.isNumber }) {
                    expected = .stage(k)
                } else {
                    expected = .head
                }
                XCTAssertEqual(m.part(of: p.name), expected, p.name)
            }
        }
        let m = model("m", .resnet(reference))
        XCTAssertEqual(m.part(of: "pool.p"), .head)
        XCTAssertEqual(m.part(of: "neck.running_mean"), .head)
        XCTAssertEqual(m.part(of: "stage2.0.shortcut.1.weight"), .stage(2))
        XCTAssertEqual(m.part(of: "stem.1.running_var"), .stem)
        var random = SeededRandom(seed: 56)
        let plain = Model(architecture: "plain", network: Linear(name: "fc", inFeatures: 2, outFeatures: 2, random: &random),
                          classes: 2)
        XCTAssertEqual(plain.stageCount, 1)
        XCTAssertEqual(plain.part(of: "fc.weight"), .stage(1))
    }
}
