import XCTest
@testable import Engine
import Kernels
import TestSupport

/// Finite-difference checks for the layers and blocks written on top of the kernels.
final class LayerGradientTests: XCTestCase {
    func testBatchNorm2dWithAndWithoutReLU() {
        var random = SeededRandom(seed: 4)
        for relu in [false, true] {
            let bn = BatchNorm(name: "bn", channels: 3, relu: relu)
            for i in 0..<3 { bn.weight.value[i] = random.uniform(0.5, 1.5); bn.bias.value[i] = random.uniform(-0.3, 0.3) }
            let result = checkLayerGradients(bn, input: random.tensor([4, 3, 3, 2]), epsilon: 1e-3)
            XCTAssertLessThan(result.error, 2e-2, "relu \(relu): \(result)")
        }
    }

    func testBatchNorm1d() {
        var random = SeededRandom(seed: 5)
        let bn = BatchNorm(name: "bn", channels: 4)
        let result = checkLayerGradients(bn, input: random.tensor([6, 4]), epsilon: 1e-3)
        XCTAssertLessThan(result.error, 2e-2, "\(result)")
    }

    func testBatchNormStatisticsAndEvalMode() {
        let bn = BatchNorm(name: "bn", channels: 1)
        let x = Tensor(shape: [4, 1], scalars: [1, 2, 3, 6])
        let y = bn.forward(x, mode: .train)
        // mean 3, biased variance 3.5
        XCTAssertEqual(y[0], (1 - 3) / (3.5 + 1e-5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(bn.runningMean.value[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVariance.value[0], 0.9 + 0.1 * 3.5 * 4 / 3, accuracy: 1e-6)
        let e = bn.forward(x, mode: .eval)
        XCTAssertEqual(e[3], (6 - 0.3) / (bn.runningVariance.value[0] + 1e-5).squareRoot(), accuracy: 1e-5)
    }

    func testReLU() {
        var random = SeededRandom(seed: 6)
        var x = random.tensor([3, 10])
        for i in 0..<x.count where abs(x[i]) < 0.05 { x[i] = 0.5 }  // keep away from the kink
        XCTAssertLessThan(checkLayerGradients(ReLU(), input: x).error, 1e-2)
    }

    func testLinear() {
        var random = SeededRandom(seed: 7)
        let fc = Linear(name: "fc", inFeatures: 5, outFeatures: 3, random: &random)
        let result = checkLayerGradients(fc, input: random.tensor([4, 5]))
        XCTAssertLessThan(result.error, 1e-2, "\(result)")
    }

    func testSqueezeExcitation() {
        var random = SeededRandom(seed: 8)
        let se = SqueezeExcitation(name: "se", channels: 8, reduction: 4, random: &random)
        let result = checkLayerGradients(se, input: random.tensor([2, 8, 3, 3]), epsilon: 1e-3)
        XCTAssertLessThan(result.error, 2e-2, "\(result)")
    }

    /// Small spatial sizes keep ReLU kinks (where finite differences are wrong)
    /// out of reach of the ±epsilon probes; the PyTorch golden test checks full size.
    func testBasicBlockWithShortcutAndSE() {
        var random = SeededRandom(seed: 9)
        for (stride, inC, se) in [(1, 4, false), (2, 3, true), (1, 4, true)] {
            let block = BasicBlock(name: "b", inChannels: inC, outChannels: 4, stride: stride,
                                   squeezeExcitation: se, random: &random)
            let result = checkLayerGradients(block, input: random.tensor([2, inC, 3, 3]), epsilon: 1e-3, samples: 25)
            XCTAssertLessThan(result.error, 5e-2, "stride \(stride) se \(se): \(result)")
        }
    }

    func testResNetNamesFollowPyTorch() {
        let model = ModelRegistry.make(name: "resnet_ref", config: .resnetRef, inputChannels: 1, classes: 10, seed: 0)
        let names = model.parameters.all.map(\.name)
        XCTAssertEqual(names.first, "stem.0.weight")
        XCTAssertTrue(names.contains("stage2.0.shortcut.1.running_var"))
        XCTAssertEqual(names.last, "fc.bias")
        // stem conv + BN, stage1 (4 convs, 4 BNs), stage2 (conv 32→64, 3 convs 64→64, 1×1 shortcut, 5 BNs), fc
        XCTAssertEqual(model.parameters.parameterCount,
                       288 + 64 + 4 * 9216 + 4 * 64 + 18432 + 3 * 36864 + 2048 + 5 * 128 + 650)
    }
}
