import XCTest
import TestSupport
@testable import Engine

/// Expected values come from a float64 NumPy transcription of
/// 1 − mean_k (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp + 1e-7).
final class SoftFBetaLossTests: XCTestCase {
    private let logits = Tensor(shape: [4, 3], scalars: [1.2, -0.4, 0.3, -1.1, 0.8, 0.05, 0.4, 0.1, -0.9, 2.0, -1.5, 0.6])
    private let labels = Targets.classes([0, 1, 0, 2])
    private let multiLabel = Targets.dense(Tensor(shape: [4, 3], scalars: [1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0]))

    private func assertValue(_ loss: SoftFBetaLoss, _ targets: Targets, _ expected: Float,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(loss.evaluate(logits: logits, targets: targets).value, expected, accuracy: 2e-6,
                       file: file, line: line)
    }

    func testValues() {
        assertValue(SoftFBetaLoss(), labels, 0.5519094599687395)
        assertValue(SoftFBetaLoss(beta: 2), labels, 0.5472573635004743)
        assertValue(SoftFBetaLoss(activation: .sigmoid), multiLabel, 0.45738608901004696)
        assertValue(SoftFBetaLoss(beta: 0.5, activation: .sigmoid), multiLabel, 0.4843766966898987)
    }

    func testPerfectPredictionsScoreZero() {
        let certain = Tensor(shape: [2, 2], scalars: [30, -30, -30, 30])
        XCTAssertEqual(SoftFBetaLoss().evaluate(logits: certain, targets: .classes([0, 1])).value, 0, accuracy: 1e-5)
        XCTAssertEqual(SoftFBetaLoss(activation: .sigmoid).evaluate(logits: certain, targets: .classes([0, 1])).value,
                       0, accuracy: 1e-5)
    }

    func testGradientChecks() {
        let mixed = Targets.dense(Tensor(shape: [4, 3], scalars: [0.7, 0.3, 0, 0, 1, 0, 0.6, 0, 0.4, 0, 0, 1]))
        for beta: Float in [0.5, 1, 2] {
            for (loss, targets) in [(SoftFBetaLoss(beta: beta), labels), (SoftFBetaLoss(beta: beta), mixed),
                                    (SoftFBetaLoss(beta: beta, activation: .sigmoid), multiLabel)] {
                let result = checkLossGradients(loss, logits: logits, targets: targets, epsilon: 1e-2)
                XCTAssertLessThan(result.error, 2e-3, "β=\(beta) \(loss.activation): \(result)")
            }
        }
    }
}
