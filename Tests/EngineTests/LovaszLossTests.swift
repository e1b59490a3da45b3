import XCTest
import TestSupport
@testable import Engine

/// Expected values come from a float64 NumPy transcription of Berman et al.'s
/// lovasz_losses.py (lovasz_softmax_flat per class; lovasz_hinge_flat per class,
/// averaged). The loss is piecewise linear in the errors, so the gradient checks
/// use logits whose errors are far from ties and from the hinge's kink: sorted
/// errors differ by ≥ 0.011 (softmax, where ε = 0.01 moves an error by ≤ 0.0025)
/// and by ≥ 0.1, at least 0.1 from 0 (hinge).
final class LovaszLossTests: XCTestCase {
    private let logits = Tensor(shape: [4, 3], scalars: [1.2, -0.4, 0.3, -1.1, 0.8, 0.05, 0.4, 0.1, -0.9, 2.0, -1.5, 0.6])
    private let labels = Targets.classes([0, 1, 0, 2])
    /// Class 2 is absent: `present` skips it, `all` counts it.
    private let twoClasses = Targets.classes([0, 1, 0, 1])
    private let multiLabel = Targets.dense(Tensor(shape: [4, 3], scalars: [1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0]))

    private func assertValue(_ loss: any Loss, _ targets: Targets, _ expected: Float,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(loss.evaluate(logits: logits, targets: targets).value, expected, accuracy: 2e-6,
                       file: file, line: line)
    }

    private func assertGradients(_ loss: any Loss, _ targets: Targets, file: StaticString = #filePath, line: UInt = #line) {
        let result = checkLossGradients(loss, logits: logits, targets: targets, epsilon: 1e-2)
        XCTAssertLessThan(result.error, 2e-3, result.description, file: file, line: line)
    }

    func testLovaszSoftmaxValues() {
        assertValue(LovaszSoftmaxLoss(), labels, 0.5817512743565341)
        assertValue(LovaszSoftmaxLoss(classes: .present), twoClasses, 0.6174198279781729)
        assertValue(LovaszSoftmaxLoss(classes: .all), twoClasses, 0.5086920170542175)
    }

    func testLovaszHingeValue() {
        assertValue(LovaszHingeLoss(), multiLabel, 1.0083333333333333)
    }

    func testLovaszSoftmaxIsZeroWhenEveryRowIsCertainAndRight() {
        let certain = Tensor(shape: [2, 2], scalars: [40, -40, -40, 40])
        XCTAssertEqual(LovaszSoftmaxLoss().evaluate(logits: certain, targets: .classes([0, 1])).value, 0, accuracy: 1e-6)
    }

    func testLovaszHingeIsZeroBeyondTheMargin() {
        let separated = Tensor(shape: [2, 2], scalars: [1.5, -2, -1, 3])
        let (value, dLogits) = LovaszHingeLoss().evaluate(logits: separated, targets: .classes([0, 1]))
        XCTAssertEqual(value, 0)
        XCTAssertEqual(dLogits.scalars, [0, 0, 0, 0])
    }

    func testGradientChecks() {
        assertGradients(LovaszSoftmaxLoss(), labels)
        assertGradients(LovaszSoftmaxLoss(classes: .present), twoClasses)
        assertGradients(LovaszSoftmaxLoss(classes: .all), twoClasses)
        assertGradients(LovaszSoftmaxLoss(), .dense(Tensor(shape: [4, 3], scalars: [0.7, 0.3, 0, 0, 1, 0, 0.6, 0, 0.4, 0, 0, 1])))
        assertGradients(LovaszHingeLoss(), multiLabel)
        assertGradients(LovaszHingeLoss(), labels)
    }

    func testExtensionWeightsAreTheJaccardIncrements() {
        // Sorted errors 0.9 (row 1, positive), 0.5 (row 0, negative), 0.1 (row 2, positive); with two
        // positives, 1 - IoU after each row joins is 1 - 1/2, 1 - 1/3, 1 - 0/3: increments 1/2, 1/6, 1/3.
        let (value, dErrors) = lovaszExtension(errors: [0.5, 0.9, 0.1], truth: [0, 1, 1])
        XCTAssertEqual(dErrors[1], 0.5, accuracy: 1e-7)
        XCTAssertEqual(dErrors[0], 1.0 / 6, accuracy: 1e-7)
        XCTAssertEqual(dErrors[2], 1.0 / 3, accuracy: 1e-7)
        XCTAssertEqual(value, 0.9 * 0.5 + 0.5 / 6 + 0.1 / 3, accuracy: 1e-6)
    }
}
