import Datasets
import Engine
import Foundation
import XCTest
@testable import Ensemble

/// Many equally good, noisy prediction sets (the recipe of scripts/make-noisy-sets):
/// every row's logits are signal·onehot(label) + shared noise, seen by each set
/// through its own noise. No set is better than another, so weights fitted to
/// the train labels fit noise: their in-sample score is optimistic, and only a
/// nested score says what the blend scores on new rows.
struct NoisySets {
    var sets = 12, classes = 3, folds = 5
    var signal: Float = 1.5, shared: Float = 1, noise: Float = 3

    /// Train rows (with folds) and held-out rows with their labels, all from `seed`.
    func make(rows N: Int, heldoutRows T: Int, seed: UInt64) throws -> (inputs: StackingInputs, heldoutLabels: [Int]) {
        var random = SeededRandom(seed: seed)
        let (labels, oofs) = rows(N, &random)
        let (heldoutLabels, tests) = rows(T, &random)
        var order = Array(0..<N)
        order.shuffle(using: &random)
        var foldOf = [Int](repeating: 0, count: N)
        for (position, row) in order.enumerated() { foldOf[row] = position % folds }
        let baseSets = (0..<sets).map { StackingInputs.BaseSet(name: "set\($0 + 1)", oof: oofs[$0], test: tests[$0]) }
        return (try StackingInputs(sets: baseSets, labels: labels, folds: foldOf, classes: classes), heldoutLabels)
    }

    private func rows(_ count: Int, _ random: inout SeededRandom) -> (labels: [Int], sets: [[Float]]) {
        let K = classes
        let labels = (0..<count).map { _ in random.int(below: K) }
        let base = labels.flatMap { label in (0..<K).map { k in (k == label ? signal : 0) + shared * random.normal() } }
        let sets = (0..<sets).map { _ in
            let logits = base.map { $0 + noise * random.normal() }
            return (0..<count).flatMap { row in
                let exps = (0..<K).map { exp(logits[row * K + $0]) }
                let total = exps.reduce(0, +)
                return exps.map { $0 / total }
            }
        }
        return (labels, sets)
    }
}

final class BlendOptimismTests: XCTestCase {
    /// Fitted blends' reported scores against what they score on held-out rows.
    /// Averaged over a few independent data sets so the sampling noise of one
    /// train set (about 0.009 in accuracy at 3,000 rows) does not decide the
    /// test: what remains is the bias, which averaging does not shrink.
    func testNestedBlendScoresMatchHeldoutScoresWhileInSampleScoresAreOptimistic() throws {
        let replicates: [UInt64] = [1, 2, 3, 4]
        var sums: [Level2Method: (nested: Double, inSample: Double, heldout: Double)] = [:]
        for seed in replicates {
            let (inputs, heldoutLabels) = try NoisySets().make(rows: 3000, heldoutRows: 20000, seed: seed)
            for result in try Level2.run(inputs, metric: .accuracy, methods: [.weights, .hillclimb]) {
                let heldout = Metric.accuracy.score(probabilities: result.test, classes: 3, labels: heldoutLabels)
                let inSample = try XCTUnwrap(result.inSampleScore)
                let sum = sums[result.method] ?? (0, 0, 0)
                sums[result.method] = (sum.nested + result.score, sum.inSample + inSample, sum.heldout + heldout)
            }
        }
        let count = Double(replicates.count)
        for (method, sum) in sums.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let (nested, inSample, heldout) = (sum.nested / count, sum.inSample / count, sum.heldout / count)
            print(String(format: "%@: nested %.4f, in-sample %.4f, held-out %.4f (mean of %d data sets)",
                         method.subject, nested, inSample, heldout, replicates.count))
            XCTAssertEqual(nested, heldout, accuracy: 0.01, "\(method.subject): the nested score must say what held-out rows score")
            XCTAssertGreaterThan(inSample - heldout, 0.01, "\(method.subject): the in-sample score should be optimistic here")
        }
    }
}
