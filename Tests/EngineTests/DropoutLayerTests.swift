import XCTest
import Engine
import TestSupport

final class DropoutLayerTests: XCTestCase {
    func testEvalModeIsTheIdentityForwardAndBackward() {
        let dropout = Dropout(p: 0.5, seed: 1)
        var random = SeededRandom(seed: 31)
        let x = random.tensor([2, 3, 4, 4])
        XCTAssertEqual(dropout.forward(x, mode: .eval), x)
        XCTAssertTrue(dropout.mask.isEmpty)
        let dOutput = random.tensor([2, 3, 4, 4])
        XCTAssertEqual(dropout.backward(dOutput), dOutput)
    }

    func testZeroProbabilityIsTheIdentityInTraining() {
        let dropout = Dropout(p: 0, seed: 1)
        var random = SeededRandom(seed: 32)
        let x = random.tensor([5, 7])
        XCTAssertEqual(dropout.forward(x, mode: .train), x)
    }

    func testTrainingMaskValuesAndInvertedScaling() {
        let dropout = Dropout(p: 0.2, seed: 2)
        let x = Tensor(repeating: 3, shape: [4, 50])
        let y = dropout.forward(x, mode: .train)
        XCTAssertEqual(dropout.mask.count, 200)
        for (value, mask) in zip(y.scalars, dropout.mask) {
            XCTAssertTrue(mask == 0 || mask == 1.25, "mask value \(mask)")
            XCTAssertEqual(value, 3 * mask)
        }
    }

    func testKeepRateAndMeanArePreservedStatistically() {
        let p: Float = 0.3, count = 100_000
        let dropout = Dropout(p: p, seed: 3)
        let y = dropout.forward(Tensor(repeating: 1, shape: [count]), mode: .train)
        let kept = Double(dropout.mask.filter { $0 != 0 }.count) / Double(count)
        // Four standard deviations of a binomial proportion: sqrt(0.3·0.7/1e5) ≈ 0.00145.
        XCTAssertEqual(kept, 0.7, accuracy: 0.006)
        let mean = y.scalars.reduce(0.0) { $0 + Double($1) } / Double(count)
        XCTAssertEqual(mean, 1, accuracy: 0.006 / 0.7)
    }

    func testBackwardIsMaskTimesGradient() {
        let dropout = Dropout(p: 0.5, seed: 4)
        var random = SeededRandom(seed: 33)
        let x = random.tensor([3, 2, 5])
        _ = dropout.forward(x, mode: .train)
        let dOutput = random.tensor([3, 2, 5])
        let dx = dropout.backward(dOutput)
        XCTAssertEqual(dx.shape, [3, 2, 5])
        XCTAssertEqual(dx.scalars, zip(dOutput.scalars, dropout.mask).map { $0 * $1 })
        XCTAssertTrue(dropout.mask.contains(0) && dropout.mask.contains(2), "p = 0.5 over 30 values should drop and keep")
    }

    func testStreamAdvancesPerForwardAndIsReproducibleFromTheSeed() {
        let x = Tensor(repeating: 1, shape: [256])
        let first = Dropout(p: 0.5, seed: 5), second = Dropout(p: 0.5, seed: 5), other = Dropout(p: 0.5, seed: 6)
        let a1 = first.forward(x, mode: .train), a2 = first.forward(x, mode: .train)
        XCTAssertNotEqual(a1, a2, "each training forward draws a new mask")
        XCTAssertEqual(second.forward(x, mode: .train), a1)
        XCTAssertEqual(second.forward(x, mode: .train), a2)
        XCTAssertNotEqual(other.forward(x, mode: .train), a1)
    }

    func testEvalForwardDoesNotAdvanceTheStream() {
        let x = Tensor(repeating: 1, shape: [64])
        let plain = Dropout(p: 0.5, seed: 7), interrupted = Dropout(p: 0.5, seed: 7)
        _ = interrupted.forward(x, mode: .eval)
        XCTAssertEqual(interrupted.forward(x, mode: .train), plain.forward(x, mode: .train))
    }

    func testGradientsWithAReplayedMask() {
        let dropout = Dropout(p: 0.4, seed: 8)
        var random = SeededRandom(seed: 34)
        let x = random.tensor([2, 3, 3, 3])
        _ = dropout.forward(x, mode: .train)
        let replay = ReplayedDropout(dropout, mask: dropout.mask)
        let result = checkLayerGradients(replay, input: x)
        XCTAssertLessThan(result.error, 1e-3, "\(result)")
        XCTAssertTrue(dropout.parameters.isEmpty)
    }
}

/// Runs a Dropout with one fixed mask, so finite differences see a deterministic function.
private final class ReplayedDropout: Layer {
    let dropout: Dropout
    let mask: [Float]

    init(_ dropout: Dropout, mask: [Float]) { (self.dropout, self.mask) = (dropout, mask) }

    func forward(_ input: Tensor, mode: Mode) -> Tensor { dropout.forward(input, mask: mask) }
    func backward(_ dOutput: Tensor) -> Tensor { dropout.backward(dOutput) }
    var parameters: [Parameter] { dropout.parameters }
}
