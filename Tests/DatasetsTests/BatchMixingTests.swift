@testable import Datasets
import Engine
import TestSupport
import XCTest

final class BatchMixingTests: XCTestCase {
    private let (N, C, H, W, K) = (6, 2, 8, 8, 4)
    private let labels = [0, 1, 2, 3, 1, 2]

    /// Image n is the constant n + 1, so every pixel says which row it came from.
    private var images: Tensor {
        Tensor(shape: [N, C, H, W], scalars: (0..<N).flatMap { [Float](repeating: Float($0 + 1), count: C * H * W) })
    }

    private func dense(_ targets: Targets) -> Tensor {
        guard case .dense(let rows) = targets else { XCTFail("expected dense targets"); return Tensor(zeros: [0]) }
        return rows
    }

    func testMixupBlendsImagesAndTargetsWithTheSameLambda() throws {
        let mixing = BatchMixing(mixup: .init(alpha: 0.4, p: 1))
        for seed in 0..<20 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            let draw = try XCTUnwrap(mixing.draw(batch: N, height: H, width: W, random: &random))
            XCTAssertNil(draw.box)
            XCTAssertEqual(draw.partners.sorted(), Array(0..<N))
            var mixed = images
            let rows = dense(BatchMixing.mix(draw, images: &mixed, targets: .classes(labels), classes: K))
            let λ = draw.lambda
            for (i, j) in draw.partners.enumerated() {
                XCTAssertEqual(mixed[i * C * H * W + 5], λ * Float(i + 1) + (1 - λ) * Float(j + 1), accuracy: 1e-5)
                var expected = [Float](repeating: 0, count: K)
                expected[labels[i]] += λ
                expected[labels[j]] += 1 - λ
                XCTAssertEqual(Array(rows.scalars[(i * K)..<((i + 1) * K)]), expected)
            }
        }
    }

    func testCutmixLambdaIsTheAreaKept() throws {
        let mixing = BatchMixing(cutmix: .init(alpha: 1, p: 1))
        var lambdas: [Float] = []
        for seed in 0..<40 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            let draw = try XCTUnwrap(mixing.draw(batch: N, height: H, width: W, random: &random))
            let box = try XCTUnwrap(draw.box)
            XCTAssertEqual(draw.lambda, 1 - Float(box.area) / Float(H * W), accuracy: 1e-6)
            lambdas.append(draw.lambda)
            var mixed = images
            let rows = dense(BatchMixing.mix(draw, images: &mixed, targets: .classes(labels), classes: K))
            for (i, j) in draw.partners.enumerated() where i != j {
                let image = mixed.scalars[(i * C * H * W)..<((i + 1) * C * H * W)]
                let pasted = image.filter { $0 == Float(j + 1) }.count
                XCTAssertEqual(Float(pasted) / Float(C * H * W), 1 - draw.lambda, accuracy: 1e-6)
                XCTAssertEqual(image.filter { $0 == Float(i + 1) }.count + pasted, C * H * W)
                if labels[i] == labels[j] {
                    XCTAssertEqual(rows[i * K + labels[i]], 1, accuracy: 1e-6)
                } else {
                    XCTAssertEqual(rows[i * K + labels[i]], draw.lambda, accuracy: 1e-6)
                    XCTAssertEqual(rows[i * K + labels[j]], 1 - draw.lambda, accuracy: 1e-6)
                }
            }
        }
        XCTAssertTrue(lambdas.contains { $0 < 0.5 } && lambdas.contains { $0 > 0.5 }, "\(lambdas)")
    }

    func testTargetsSumToOneAndSoftTargetsMix() {
        let mixing = BatchMixing(mixup: .init(alpha: 1, p: 1), cutmix: .init(alpha: 1, p: 1))
        // Row i is (i + 1, ..., i + 4) / (4i + 10), which sums to 1.
        var soft = Tensor(zeros: [N, K])
        for i in 0..<N {
            for k in 0..<K { soft[i * K + k] = Float(i + k + 1) / Float(4 * i + 10) }
        }
        for seed in 0..<30 as Range<UInt64> {
            for targets in [Targets.classes(labels), .dense(soft)] {
                var batch = images
                var random = SeededRandom(seed: seed)
                let rows = dense(mixing.apply(images: &batch, targets: targets, classes: K, random: &random))
                XCTAssertEqual(rows.shape, [N, K])
                for i in 0..<N {
                    XCTAssertEqual(rows.scalars[(i * K)..<((i + 1) * K)].reduce(0, +), 1, accuracy: 1e-5)
                }
            }
        }
    }

    func testBothMethodsOccurWhenBothAreSet() {
        let mixing = BatchMixing(mixup: .init(alpha: 0.2, p: 1), cutmix: .init(alpha: 1, p: 1))
        var cutmixCount = 0
        for seed in 0..<400 as Range<UInt64> {
            var random = SeededRandom(seed: seed)
            if mixing.draw(batch: N, height: H, width: W, random: &random)?.box != nil { cutmixCount += 1 }
        }
        XCTAssertTrue((160...240).contains(cutmixCount), "\(cutmixCount) of 400 batches used cutmix")
    }

    func testProbabilityZeroLeavesTheBatchAlone() {
        let mixing = BatchMixing(mixup: .init(alpha: 0.2, p: 0), cutmix: .init(alpha: 1, p: 0))
        for seed in 0..<20 as Range<UInt64> {
            var batch = images
            var random = SeededRandom(seed: seed)
            let targets = mixing.apply(images: &batch, targets: .classes(labels), classes: K, random: &random)
            XCTAssertEqual(batch, images)
            guard case .classes(let same) = targets else { return XCTFail("targets should stay class indices") }
            XCTAssertEqual(same, labels)
        }
    }

    func testSameSeedSameMix() {
        let mixing = BatchMixing(mixup: .init(alpha: 0.2, p: 0.8), cutmix: .init(alpha: 1, p: 0.5))
        func run(_ seed: UInt64) -> (Tensor, Targets) {
            var batch = images
            var random = SeededRandom(seed: seed)
            let targets = mixing.apply(images: &batch, targets: .classes(labels), classes: K, random: &random)
            return (batch, targets)
        }
        XCTAssertEqual(run(11).0, run(11).0)
        XCTAssertEqual(dense(run(11).1), dense(run(11).1))
        XCTAssertTrue((12..<22).contains { run($0).0 != run(11).0 })
    }

    func testCrossEntropyOnMixedTargetsMixesTheTwoLosses() {
        var random = SeededRandom(seed: 5)
        let logits = random.tensor([N, K], scale: 2)
        let draw = BatchMixing.Draw(lambda: 0.3, partners: [1, 0, 3, 2, 5, 4], box: nil)
        var batch = images
        let mixed = BatchMixing.mix(draw, images: &batch, targets: .classes(labels), classes: K)
        let loss = CrossEntropyLoss()
        let own = loss.evaluate(logits: logits, targets: .classes(labels)).value
        let partner = loss.evaluate(logits: logits, targets: .classes(draw.partners.map { labels[$0] })).value
        XCTAssertEqual(loss.evaluate(logits: logits, targets: mixed).value, 0.3 * own + 0.7 * partner, accuracy: 1e-5)
    }

    func testBetaSamplesHaveTheRightMoments() {
        for alpha: Float in [0.2, 1, 2] {
            var random = SeededRandom(seed: 42)
            let samples = (0..<8000).map { _ in Double(random.beta(alpha, alpha)) }
            XCTAssertTrue(samples.allSatisfy { (0...1).contains($0) })
            let mean = samples.reduce(0, +) / Double(samples.count)
            let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)
            let a = Double(alpha)
            XCTAssertEqual(mean, 0.5, accuracy: 0.02, "α = \(alpha)")
            XCTAssertEqual(variance, 1 / (4 * (2 * a + 1)), accuracy: 0.1 / (4 * (2 * a + 1)), "α = \(alpha)")
        }
    }
}
