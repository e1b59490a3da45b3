import Datasets
import XCTest
@testable import Ensemble

final class HillClimbingTests: XCTestCase {
    func set(_ name: String, trueClass probabilities: [Float]) -> StackingInputs.BaseSet {
        .init(name: name, oof: probabilities.flatMap { [$0, 1 - $0] }, test: [1, 0])
    }

    func testStartsFromTheBestSetsByScore() throws {
        let sets = [set("worst", trueClass: [0.4, 0.4, 0.4, 0.4]), set("best", trueClass: [0.9, 0.9, 0.9, 0.9]),
                    set("middle", trueClass: [0.6, 0.6, 0.6, 0.6])]
        let inputs = try StackingInputs(sets: sets, labels: [0, 0, 0, 0], folds: [0, 0, 1, 1], classes: 2)
        XCTAssertEqual(HillClimbing.selectionWeights(inputs, metric: .logLoss, initial: 2, iterations: 0), [0, 0.5, 0.5])
    }

    func testKeepsTheBestSizeReachedWhenNoAdditionHelps() throws {
        // "perfect" alone has the best log-loss; re-adding it ties and adding any other set hurts.
        let sets = [set("weak", trueClass: [0.6, 0.6, 0.6, 0.6]), set("perfect", trueClass: [0.99, 0.99, 0.99, 0.99]),
                    set("wrong", trueClass: [0.1, 0.1, 0.1, 0.1])]
        let inputs = try StackingInputs(sets: sets, labels: [0, 0, 0, 0], folds: [0, 0, 1, 1], classes: 2)
        let result = HillClimbing.select(inputs, metric: .logLoss, initial: 1, iterations: 10)
        XCTAssertEqual(result.weights, [0, 1, 0])
        XCTAssertEqual(result.name, "hillclimb")
        XCTAssertEqual(result.score, -log(0.99), accuracy: 1e-6)
    }

    func testAddingWithReplacementApproachesTheBestMixture() throws {
        // The best mixture of a and b puts 2.5 / 2.8 ≈ 0.893 on a (see BlendingTests); from a alone,
        // repeated additions of a and, now and then, b approach that ratio.
        let a = set("a", trueClass: [0.9, 0.9, 0.9, 0.2]), b = set("b", trueClass: [0.2, 0.2, 0.2, 0.9])
        let inputs = try StackingInputs(sets: [a, b], labels: [0, 0, 0, 0], folds: [0, 0, 1, 1], classes: 2)
        let result = HillClimbing.select(inputs, metric: .logLoss, initial: 1, iterations: 50)
        let weights = try XCTUnwrap(result.weights)
        XCTAssertEqual(weights[0], 2.5 / 2.8, accuracy: 0.03)
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-12)
        // Weights are counts over the ensemble's size.
        let size = (1...60).first { n in weights.allSatisfy { abs($0 * Double(n) - ($0 * Double(n)).rounded()) < 1e-9 } }
        XCTAssertNotNil(size)
        XCTAssertLessThan(result.score, Metric.logLoss.score(probabilities: a.oof, classes: 2, labels: inputs.labels))
    }

    func testOnOtherLibrariesOOFTheSelectionIsAtLeastAsGoodAsItsStart() throws {
        let inputs = try StackFixture.inputs()
        let start = HillClimbing.select(inputs, metric: .accuracy, initial: 3, iterations: 0)
        let result = HillClimbing.select(inputs, metric: .accuracy)
        XCTAssertGreaterThanOrEqual(result.score, start.score)
        XCTAssertEqual(result.test.count, inputs.testRows * 4)
    }
}
