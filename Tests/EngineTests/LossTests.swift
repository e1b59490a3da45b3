import XCTest
import TestSupport
@testable import Engine

/// Expected values come from torch.nn.functional (float64) on the same inputs;
/// the focal loss reference is the formula written in autograd.
final class LossTests: XCTestCase {
    // Row losses by hand: logsumexp(1, 2, 0.5) = 2.4643 → -log p0 = 1.4643;
    // logsumexp(-1, 0.3, 2.2) = 2.3743 → -log p2 = 0.1743; mean 0.8193.
    private let logits = Tensor(shape: [2, 3], scalars: [1, 2, 0.5, -1, 0.3, 2.2])
    private let labels = Targets.classes([0, 2])
    private let soft = Targets.dense(Tensor(shape: [2, 3], scalars: [0.7, 0.2, 0.1, 0, 0.5, 0.5]))
    private let indicators = Targets.dense(Tensor(shape: [2, 3], scalars: [1, 0, 1, 0, 0, 1]))
    private let weights: [Float] = [0.2, 1, 3]

    private func assertValue(_ loss: any Loss, _ targets: Targets, _ expected: Float, logits: Tensor? = nil,
                             file: StaticString = #filePath, line: UInt = #line) {
        let value = loss.evaluate(logits: logits ?? self.logits, targets: targets).value
        XCTAssertEqual(value, expected, accuracy: 2e-6 * max(1, abs(expected)), file: file, line: line)
    }

    private func assertGradients(_ loss: any Loss, _ targets: Targets, logits: Tensor? = nil,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let result = checkLossGradients(loss, logits: logits ?? self.logits, targets: targets, epsilon: 1e-2)
        XCTAssertLessThan(result.error, 2e-3, result.description, file: file, line: line)
    }

    func testCrossEntropyValues() {
        assertValue(CrossEntropyLoss(), labels, 0.8193000276428563)
        assertValue(CrossEntropyLoss(labelSmoothing: 0.1), labels, 0.8959666943095229)
        assertValue(CrossEntropyLoss(classWeights: weights), labels, 0.25486486573590367)
        assertValue(CrossEntropyLoss(labelSmoothing: 0.1, classWeights: weights), labels, 0.33273379824772986)
    }

    func testCrossEntropySoftTargets() {
        assertValue(CrossEntropyLoss(), soft, 1.2193000276428563)
        assertValue(CrossEntropyLoss(labelSmoothing: 0.1, classWeights: weights), soft, 1.1489150244197455)
        // One-hot dense targets are the same as class indices.
        let oneHot = Targets.dense(Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 0, 1]))
        assertValue(CrossEntropyLoss(labelSmoothing: 0.2), oneHot,
                    CrossEntropyLoss(labelSmoothing: 0.2).evaluate(logits: logits, targets: labels).value)
    }

    func testCrossEntropyGradientMatchesTorch() {
        let dLogits = CrossEntropyLoss(labelSmoothing: 0.1, classWeights: weights).evaluate(logits: logits, targets: labels).dLogits
        let expected: [Float] = [-0.03521094357111843, 0.05243650525450958, -0.017225561683391153,
                                 0.0283086008463726, 0.10110035614143174, -0.12940895698780436]
        for (a, e) in zip(dLogits.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    func testCrossEntropyGradientChecks() {
        for loss in [CrossEntropyLoss(), CrossEntropyLoss(labelSmoothing: 0.1),
                     CrossEntropyLoss(classWeights: weights), CrossEntropyLoss(labelSmoothing: 0.1, classWeights: weights)] {
            assertGradients(loss, labels)
            assertGradients(loss, soft)
        }
    }

    func testCrossEntropyIsStableForLargeLogits() {
        let large = Tensor(shape: [1, 3], scalars: [1000, 0, -1000])
        let (value, dLogits) = CrossEntropyLoss().evaluate(logits: large, targets: .classes([1]))
        XCTAssertEqual(value, 1000, accuracy: 1e-3)
        XCTAssertEqual(dLogits.scalars, [1, -1, 0])
    }

    func testBCEWithLogitsValues() {
        assertValue(BCEWithLogitsLoss(), indicators, 0.6978278224161246)
        assertValue(BCEWithLogitsLoss(positiveWeight: [2, 0.5, 1]), indicators, 0.7500381036691618)
        assertValue(BCEWithLogitsLoss(), .dense(Tensor(shape: [1, 2], scalars: [0, 1])), 100,
                    logits: Tensor(shape: [1, 2], scalars: [100, -100]))
        // A single column takes class indices as the 0/1 target.
        assertValue(BCEWithLogitsLoss(), .classes([1, 0]), 0.3005024976115397,
                    logits: Tensor(shape: [2, 1], scalars: [0.5, -2]))
    }

    func testBCEClassIndicesBecomeOneHotRows() {
        let fromClasses = BCEWithLogitsLoss().evaluate(logits: logits, targets: labels)
        let oneHot = BCEWithLogitsLoss().evaluate(logits: logits, targets: .dense(Tensor(shape: [2, 3], scalars: [1, 0, 0, 0, 0, 1])))
        XCTAssertEqual(fromClasses.value, oneHot.value)
        XCTAssertEqual(fromClasses.dLogits, oneHot.dLogits)
    }

    func testBCEGradientChecks() {
        assertGradients(BCEWithLogitsLoss(), indicators)
        assertGradients(BCEWithLogitsLoss(positiveWeight: [2, 0.5, 1]), indicators)
        assertGradients(BCEWithLogitsLoss(), soft)
        assertGradients(BCEWithLogitsLoss(), .classes([1, 0]), logits: Tensor(shape: [2, 1], scalars: [0.5, -2]))
    }

    func testFocalLossValues() {
        assertValue(FocalLoss(gamma: 2), labels, 0.43496050141467385)
        assertValue(FocalLoss(gamma: 0.5, alpha: 0.25), labels, 0.16920336601703012)
        assertValue(FocalLoss(gamma: 2), soft, 0.7794642163105834)
        // γ = 0 without α is plain cross-entropy.
        assertValue(FocalLoss(gamma: 0), labels, 0.8193000276428563)
    }

    func testFocalLossGradientMatchesReference() {
        let dLogits = FocalLoss(gamma: 2).evaluate(logits: logits, targets: labels).dLogits
        let expected: [Float] = [-0.42729627008387355, 0.3493465241933206, 0.07794974589055294,
                                 0.0012392416139147431, 0.004547145124312462, -0.005786386738227204]
        for (a, e) in zip(dLogits.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    func testFocalLossGradientChecks() {
        for loss in [FocalLoss(gamma: 2), FocalLoss(gamma: 0.5, alpha: 0.25), FocalLoss(gamma: 0), FocalLoss(gamma: 1.5, alpha: 2)] {
            assertGradients(loss, labels)
            assertGradients(loss, soft)
        }
    }

    // Per-row cross-entropy (torch): [2.2395, 0.5514, 3.0949, 1.0550].
    private let hardLogits = Tensor(shape: [4, 3], scalars: [2, 0, 0, 0, 1, 0, 0, 0, 3, 1, -1, 0.5])
    private let hardLabels = Targets.classes([1, 1, 0, 2])

    func testOHEMKeepsTheHardestRows() {
        let loss = OHEMLoss(keepFraction: 0.5)
        assertValue(loss, hardLabels, 2.6672338613214226, logits: hardLogits)
        let dLogits = loss.evaluate(logits: hardLogits, targets: hardLabels).dLogits
        // Rows 1 and 3 are easy and dropped: no gradient flows through them.
        XCTAssertEqual(Array(dLogits.scalars[3..<6]), [0, 0, 0])
        XCTAssertEqual(Array(dLogits.scalars[9..<12]), [0, 0, 0])
        XCTAssertNotEqual(dLogits.scalars[0], 0)
        // ⌈0.3·4⌉ = 2 rows; ⌈0.1·4⌉ = 1 row (the hardest, row 2); everything at 1.
        assertValue(OHEMLoss(keepFraction: 0.3), hardLabels, 2.6672338613214226, logits: hardLogits)
        assertValue(OHEMLoss(keepFraction: 0.1), hardLabels, 3.094922956420961, logits: hardLogits)
        assertValue(OHEMLoss(keepFraction: 1), hardLabels,
                    CrossEntropyLoss().evaluate(logits: hardLogits, targets: hardLabels).value, logits: hardLogits)
    }

    func testOHEMGradientChecks() {
        for fraction: Float in [0.25, 0.5, 0.75, 1] {
            assertGradients(OHEMLoss(keepFraction: fraction), hardLabels, logits: hardLogits)
        }
        assertGradients(OHEMLoss(keepFraction: 0.5), soft)
    }
}
