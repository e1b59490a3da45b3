import XCTest
import TestSupport
@testable import Engine

/// Expected values are the formula evaluated in float64 (NumPy) on the same inputs.
final class DistillationLossTests: XCTestCase {
    private let logits = Tensor(shape: [2, 3], scalars: [1, 2, 0.5, -1, 0.3, 2.2])
    private let labels = [0, 2]
    private let teacher = Tensor(shape: [2, 3], scalars: [0.7, 0.2, 0.1, 0.05, 0.45, 0.5])

    private func value(_ loss: DistillationLoss, teacher: Tensor? = nil) -> Float {
        loss.evaluate(logits: logits, targets: DistillationLoss.targets(labels: labels, teacher: teacher ?? self.teacher)).value
    }

    func testAlphaZeroIsCrossEntropyOnTheHardLabels() {
        let expected = CrossEntropyLoss().evaluate(logits: logits, targets: .classes(labels))
        let (loss, dLogits) = DistillationLoss(temperature: 3, alpha: 0)
            .evaluate(logits: logits, targets: DistillationLoss.targets(labels: labels, teacher: teacher))
        XCTAssertEqual(loss, 0.8193000276428563, accuracy: 2e-6)
        XCTAssertEqual(loss, expected.value, accuracy: 1e-6)
        for (a, e) in zip(dLogits.scalars, expected.dLogits.scalars) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    func testAlphaOneAtTemperatureOneIsCrossEntropyOnTheTeacher() {
        // The soft targets of LossTests: CE = 1.2193000276428563.
        let soft = Tensor(shape: [2, 3], scalars: [0.7, 0.2, 0.1, 0, 0.5, 0.5])
        XCTAssertEqual(value(DistillationLoss(temperature: 1, alpha: 1), teacher: soft), 1.2193000276428563, accuracy: 2e-6)
    }

    func testMixedValueMatchesTheFormula() {
        // (1 - 0.3)·0.8193000 + 0.3·4·1.1128436 with q = p^(1/2) renormalised.
        XCTAssertEqual(value(DistillationLoss(temperature: 2, alpha: 0.3)), 1.908922293286657, accuracy: 4e-6)
    }

    func testTemperedTargetsArePowersRenormalised() {
        let q = DistillationLoss(temperature: 2, alpha: 1).tempered(teacher)
        let expected: [Float] = [0.52287938, 0.27949079, 0.19762983, 0.13962039, 0.41886117, 0.44151844]
        for (a, e) in zip(q.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
        // A small temperature sharpens without underflow; zero probabilities stay zero.
        let sharp = DistillationLoss(temperature: 0.01, alpha: 1).tempered(Tensor(shape: [1, 3], scalars: [0.6, 0.4, 0]))
        XCTAssertEqual(sharp[0], 1)
        XCTAssertEqual(sharp[1], powf(2.0 / 3.0, 100), accuracy: 1e-20)
        XCTAssertEqual(sharp[2], 0)
    }

    func testGradientsMatchFiniteDifferences() {
        var random = SeededRandom(seed: 5)
        let wide = random.tensor([4, 5], scale: 2)
        var probabilities = random.tensor([4, 5], scale: 1)
        for i in 0..<probabilities.count { probabilities[i] = abs(probabilities[i]) + 0.01 }
        let targets = DistillationLoss.targets(labels: [0, 4, 2, 2], teacher: softmax(probabilities))
        // T² makes the value large at T = 4, so a wider step keeps Float32 rounding out of the difference.
        for (temperature, alpha) in [(1, 0.5), (2, 0.3), (4, 1), (0.5, 0.7)] as [(Float, Float)] {
            let result = checkLossGradients(DistillationLoss(temperature: temperature, alpha: alpha), logits: wide,
                                            targets: targets, epsilon: 5e-2)
            XCTAssertLessThan(result.error, 2e-3, "T \(temperature) alpha \(alpha): \(result)")
        }
    }

    /// The soft gradient is α·T·(softmax(z/T) − q)/N: T² makes it grow with T
    /// rather than shrink as 1/T.
    func testSoftGradientIsScaledByTemperature() {
        let loss = DistillationLoss(temperature: 4, alpha: 1)
        let dLogits = loss.evaluate(logits: logits, targets: DistillationLoss.targets(labels: labels, teacher: teacher)).dLogits
        let student = softmax(Tensor(shape: [2, 3], scalars: logits.scalars.map { $0 / 4 }))
        let q = loss.tempered(teacher)
        for i in 0..<6 { XCTAssertEqual(dLogits[i], 4 * (student[i] - q[i]) / 2, accuracy: 1e-6) }
    }
}
