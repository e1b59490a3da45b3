import Datasets
import XCTest
@testable import Ensemble

final class HillClimbingTests: XCTestCase {
    func set(_ trueClass: [Float]) -> [Float] { trueClass.flatMap { [$0, 1 - $0] } }

    func testStartsFromTheBestSetsByScore() throws {
        let oofs = [set([0.4, 0.4, 0.4, 0.4]), set([0.9, 0.9, 0.9, 0.9]), set([0.6, 0.6, 0.6, 0.6])]
        XCTAssertEqual(HillClimbing.selectionWeights(oofs, labels: [0, 0, 0, 0], classes: 2, metric: .logLoss,
                                                     initial: 2, iterations: 0), [0, 0.5, 0.5])
    }

    func testASetWhoseScoreIsNaNNeverStartsTheSelection() throws {
        // Log-loss of a set holding NaN is NaN; with the best set first, it must not be picked.
        let oofs = [set([.nan, 0.5, 0.5, 0.5]), set([0.6, 0.6, 0.6, 0.6]), set([0.9, 0.9, 0.9, 0.9])]
        XCTAssertTrue(Metric.logLoss.score(probabilities: oofs[0], classes: 2, labels: [0, 0, 0, 0]).isNaN)
        XCTAssertEqual(HillClimbing.selectionWeights(oofs, labels: [0, 0, 0, 0], classes: 2, metric: .logLoss,
                                                     initial: 1, iterations: 0), [0, 0, 1])
        XCTAssertEqual(HillClimbing.selectionWeights(oofs, labels: [0, 0, 0, 0], classes: 2, metric: .logLoss,
                                                     initial: 1, iterations: 5)[0], 0)
    }

    func testKeepsTheBestSizeReachedWhenNoAdditionHelps() throws {
        // "perfect" alone has the best log-loss; re-adding it ties and adding any other set hurts.
        let oofs = [set([0.6, 0.6, 0.6, 0.6]), set([0.99, 0.99, 0.99, 0.99]), set([0.1, 0.1, 0.1, 0.1])]
        XCTAssertEqual(HillClimbing.selectionWeights(oofs, labels: [0, 0, 0, 0], classes: 2, metric: .logLoss,
                                                     initial: 1, iterations: 10), [0, 1, 0])
    }

    func testAddingWithReplacementApproachesTheBestMixture() throws {
        // The best mixture of a and b puts 2.5 / 2.8 ≈ 0.893 on a (see BlendingTests); from a alone,
        // repeated additions of a and, now and then, b approach that ratio.
        let a = set([0.9, 0.9, 0.9, 0.2]), b = set([0.2, 0.2, 0.2, 0.9])
        let weights = HillClimbing.selectionWeights([a, b], labels: [0, 0, 0, 0], classes: 2, metric: .logLoss,
                                                    initial: 1, iterations: 50)
        XCTAssertEqual(weights[0], 2.5 / 2.8, accuracy: 0.03)
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-12)
        // Weights are counts over the ensemble's size.
        let size = (1...60).first { n in weights.allSatisfy { abs($0 * Double(n) - ($0 * Double(n)).rounded()) < 1e-9 } }
        XCTAssertNotNil(size)
        XCTAssertLessThan(Metric.logLoss.score(probabilities: Blend.weightedSum([a, b], weights), classes: 2, labels: [0, 0, 0, 0]),
                          Metric.logLoss.score(probabilities: a, classes: 2, labels: [0, 0, 0, 0]))
    }

    func testOnOtherLibrariesOOFTheSelectionIsAtLeastAsGoodAsItsStartInSample() throws {
        let inputs = try StackFixture.inputs()
        let oofs = inputs.sets.map(\.oof)
        let score = { (weights: [Double]) in
            Metric.accuracy.score(probabilities: Blend.weightedSum(oofs, weights), classes: 4, labels: inputs.labels)
        }
        let start = HillClimbing.selectionWeights(oofs, labels: inputs.labels, classes: 4, metric: .accuracy, iterations: 0)
        let chosen = HillClimbing.selectionWeights(oofs, labels: inputs.labels, classes: 4, metric: .accuracy)
        XCTAssertGreaterThanOrEqual(score(chosen), score(start))
        let result = try XCTUnwrap(Level2.run(inputs, metric: .accuracy, methods: [.hillclimb]).first)
        XCTAssertEqual(result.name, "blend/hillclimb")
        XCTAssertEqual(result.test.count, inputs.testRows * 4)
        XCTAssertEqual(try XCTUnwrap(result.inSampleScore), score(chosen), accuracy: 1e-12)
    }
}
