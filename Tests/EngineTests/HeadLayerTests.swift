import XCTest
@testable import Engine
import TestSupport

/// GeM, dual pooling, BNNeck and the cosine classifier: values and gradients.
final class HeadLayerTests: XCTestCase {
    func testGeMValuesAtKnownExponents() {
        let x = Tensor(shape: [1, 2, 1, 2], scalars: [1, 3, -1, 4])
        let gem = GeMPool(name: "pool")
        XCTAssertEqual(gem.p.name, "pool.p")
        XCTAssertFalse(gem.p.decays)
        let y = gem.forward(x, mode: .eval)
        XCTAssertEqual(y[0], powf((1 + 27) / 2, 1 / 3), accuracy: 1e-5)
        // Negative values are clamped to ε before the power.
        XCTAssertEqual(y[1], powf((1e-18 + 64) / 2, 1 / 3), accuracy: 1e-5)
        gem.p.value[0] = 1
        XCTAssertEqual(gem.forward(x, mode: .eval)[0], 2, accuracy: 1e-6)
    }

    func testGeMGradientsIncludingTheExponent() {
        var random = SeededRandom(seed: 41)
        let gem = GeMPool(name: "pool")
        var x = random.tensor([3, 4, 3, 3])
        for i in 0..<x.count { x[i] = 0.2 + abs(x[i]) }  // away from the clamp
        let result = checkLayerGradients(gem, input: x, epsilon: 1e-3)
        XCTAssertLessThan(result.error, 1e-2, "\(result)")
        gem.p.zeroGrad()
        _ = gem.forward(x, mode: .train)
        _ = gem.backward(Tensor(repeating: 1, shape: [3, 4]))
        XCTAssertNotEqual(gem.p.grad[0], 0)
    }

    func testDualPoolConcatenatesAverageThenMax() {
        let x = Tensor(shape: [1, 2, 1, 2], scalars: [1, 3, -1, 4])
        let pool = DualPool()
        XCTAssertEqual(pool.forward(x, mode: .eval), Tensor(shape: [1, 4], scalars: [2, 1.5, 3, 4]))
        var random = SeededRandom(seed: 42)
        let result = checkLayerGradients(pool, input: random.tensor([2, 3, 3, 4]))
        XCTAssertLessThan(result.error, 1e-2, "\(result)")
    }

    func testBNNeckBiasStaysZeroAndOutOfTheOptimizer() {
        var random = SeededRandom(seed: 43)
        let neck = BatchNorm(name: "neck", channels: 4, trainableBias: false)
        XCTAssertTrue(neck.bias.isBuffer)
        XCTAssertFalse(neck.bias.decays)
        let result = checkLayerGradients(neck, input: random.tensor([6, 4]), epsilon: 1e-3)
        XCTAssertLessThan(result.error, 2e-2, "\(result)")
        let store = ParameterStore(neck.parameters)
        XCTAssertEqual(store.trainable.map(\.name), ["neck.weight"])
        SGD(momentum: 0.9, weightDecay: 0.1).step(store, lr: 0.5, step: 1)
        XCTAssertEqual(neck.bias.value.scalars, [0, 0, 0, 0])
    }

    func testCosineClassifierLogitsAndGradients() {
        var random = SeededRandom(seed: 44)
        let classifier = CosineClassifier(name: "fc", inFeatures: 5, outFeatures: 3, scale: 16, random: &random)
        XCTAssertEqual(classifier.parameters.map(\.name), ["fc.weight"])
        let x = random.tensor([4, 5])
        let y = classifier.forward(x, mode: .train)
        for n in 0..<4 { for k in 0..<3 {
            let row = (0..<5).map { x[n * 5 + $0] }, w = (0..<5).map { classifier.weight.value[k * 5 + $0] }
            let dot = zip(row, w).map(*).reduce(0, +)
            let norms = row.map { $0 * $0 }.reduce(0, +).squareRoot() * w.map { $0 * $0 }.reduce(0, +).squareRoot()
            XCTAssertEqual(y[n * 3 + k], 16 * dot / norms, accuracy: 1e-4)
        }}
        let result = checkLayerGradients(classifier, input: x, epsilon: 1e-3)
        XCTAssertLessThan(result.error, 1e-2, "\(result)")
    }
}
