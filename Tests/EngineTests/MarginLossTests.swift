import XCTest
import TestSupport
@testable import Engine

/// Expected values come from a float64 NumPy transcription of insightface's
/// ArcMarginProduct / AddMarginProduct followed by cross-entropy; soft targets
/// as Σ_k t_k·CE(margin on class k, k).
final class MarginLossTests: XCTestCase {
    // Row 1's target cosine (-0.95) is below cos(π - 0.5), where ArcFace falls back to cosθ - m·sin m.
    private let cosines: [Float] = [0.6, 0.2, -0.3, -0.95, 0.1, 0.4, 0.05, 0.7, 0.5]
    private let labels = Targets.classes([0, 0, 2])
    private let mixed = Targets.dense(Tensor(shape: [3, 3], scalars: [0.7, 0.3, 0, 0, 0.4, 0.6, 0.25, 0, 0.75]))

    private func logits(scale: Float) -> Tensor {
        Tensor(shape: [3, 3], scalars: cosines.map { $0 * scale })
    }

    private func assertValue(_ loss: any Loss, scale: Float, _ targets: Targets, _ expected: Float,
                             file: StaticString = #filePath, line: UInt = #line) {
        let value = loss.evaluate(logits: logits(scale: scale), targets: targets).value
        XCTAssertEqual(value, expected, accuracy: 1e-5 * max(1, abs(expected)), file: file, line: line)
    }

    func testArcFaceValues() {
        assertValue(ArcFaceLoss(scale: 30, margin: 0.5), scale: 30, labels, 23.28654191274127)
        assertValue(ArcFaceLoss(scale: 4, margin: 0.5), scale: 4, labels, 3.449108895553049)
        assertValue(ArcFaceLoss(scale: 30, margin: 0.5), scale: 30, mixed, 15.318968557460373)
        assertValue(ArcFaceLoss(scale: 4, margin: 0.5), scale: 4, mixed, 2.346065567747803)
    }

    func testCosFaceValues() {
        assertValue(CosFaceLoss(scale: 30, margin: 0.35), scale: 30, labels, 22.567178935877052)
        assertValue(CosFaceLoss(scale: 4, margin: 0.35), scale: 4, labels, 3.3637413570660932)
        assertValue(CosFaceLoss(scale: 30, margin: 0.35), scale: 30, mixed, 11.862485425625488)
        assertValue(CosFaceLoss(scale: 4, margin: 0.35), scale: 4, mixed, 1.9365987074372015)
    }

    func testZeroMarginIsCrossEntropy() {
        for loss in [ArcFaceLoss(scale: 4, margin: 0), CosFaceLoss(scale: 4, margin: 0)] as [any Loss] {
            for targets in [labels, mixed] {
                let margin = loss.evaluate(logits: logits(scale: 4), targets: targets)
                let plain = CrossEntropyLoss().evaluate(logits: logits(scale: 4), targets: targets)
                XCTAssertEqual(margin.value, plain.value, accuracy: 1e-5)
                for (a, b) in zip(margin.dLogits.scalars, plain.dLogits.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            }
        }
    }

    func testOneHotDenseTargetsEqualClassIndices() {
        let oneHot = Targets.dense(Tensor(shape: [3, 3], scalars: [1, 0, 0, 1, 0, 0, 0, 0, 1]))
        for loss in [ArcFaceLoss(scale: 30), CosFaceLoss(scale: 30)] as [any Loss] {
            let fromClasses = loss.evaluate(logits: logits(scale: 30), targets: labels)
            let fromDense = loss.evaluate(logits: logits(scale: 30), targets: oneHot)
            XCTAssertEqual(fromClasses.value, fromDense.value)
            XCTAssertEqual(fromClasses.dLogits, fromDense.dLogits)
        }
    }

    func testGradientChecks() {
        for loss in [ArcFaceLoss(scale: 4), CosFaceLoss(scale: 4)] as [any Loss] {
            for targets in [labels, mixed] {
                let result = checkLossGradients(loss, logits: logits(scale: 4), targets: targets, epsilon: 1e-2)
                XCTAssertLessThan(result.error, 2e-3, "\(loss): \(result)")
            }
        }
    }

    /// At s = 30 the loss values (~20) leave Float32 finite differences too coarse, so the
    /// gradients are compared with float64 central differences of the NumPy reference.
    func testGradientsAtScaleThirtyMatchTheReference() {
        let expected: [(any Loss, Targets, [Double])] = [
            (ArcFaceLoss(scale: 30), labels, [-0.34920705793695106, 0.2822668765389835, 8.704148513061227e-08,
                                              -0.3333333342681044, 4.11297662594734e-05, 0.3332922027254881,
                                              0, 0.33333333249174757, -0.38479300634719493]),
            (CosFaceLoss(scale: 30), labels, [-0.06080852443801632, 0.06080850489809109, 1.7763568394002505e-08,
                                              -0.33333333249174757, 4.11297662594734e-05, 0.3332922027254881,
                                              0, 0.3333333076227518, -0.3333333111754655]),
            (ArcFaceLoss(scale: 30), mixed, [-0.14444493956489168, 0.10004232464666529, 5.8619775700208265e-08,
                                             0, 0.07586413008908721, -0.08326975287076266,
                                             -0.07513198685416, 0.33312728042744766, -0.2883887031401855]),
            (CosFaceLoss(scale: 30), mixed, [0.057434034417269686, -0.05743404685176756, 1.2434497875801753e-08,
                                             0, 0.03018156302658781, -0.03018156302658781,
                                             -0.08333333134658005, 0.3331272644402361, -0.24979393220547763]),
        ]
        for (loss, targets, gradient) in expected {
            let dLogits = loss.evaluate(logits: logits(scale: 30), targets: targets).dLogits
            for (a, e) in zip(dLogits.scalars, gradient) { XCTAssertEqual(a, Float(e), accuracy: 2e-6, "\(loss)") }
        }
    }

    func testArcFaceStaysFiniteAtAlignedTarget() {
        // cosθ = 1 exactly: d cos(θ + m)/d cosθ is unbounded there, so the cosine is clamped just below 1.
        let aligned = Tensor(shape: [1, 2], scalars: [30, 0])
        let (value, dLogits) = ArcFaceLoss(scale: 30).evaluate(logits: aligned, targets: .classes([0]))
        XCTAssertTrue(value.isFinite && dLogits.scalars.allSatisfy(\.isFinite), "\(value) \(dLogits)")
        XCTAssertLessThan(value, 1e-6, "the target wins by s·cos(m) ≈ 26")
    }
}
