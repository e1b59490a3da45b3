import Datasets
import XCTest
@testable import Ensemble

final class BlendingTests: XCTestCase {
    func assertEqual(_ actual: [Float], _ expected: [Float], accuracy: Float = 1e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: accuracy, "\(actual) vs \(expected)", file: file, line: line) }
    }

    func testMeanAveragesEverySetAndScoresTheAverage() throws {
        let a = StackingInputs.BaseSet(name: "a", oof: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7], test: [0.5, 0.5])
        let b = StackingInputs.BaseSet(name: "b", oof: [0.7, 0.3, 0.4, 0.6, 0.1, 0.9, 0.2, 0.8], test: [0.1, 0.9])
        let inputs = try StackingInputs(sets: [a, b], labels: [0, 1, 1, 1], folds: [0, 0, 1, 1], classes: 2)
        let result = Blend.mean(inputs, metric: .accuracy)
        assertEqual(result.oof, [0.8, 0.2, 0.3, 0.7, 0.35, 0.65, 0.25, 0.75])
        assertEqual(result.test, [0.3, 0.7])
        XCTAssertEqual(result.score, 1)
        XCTAssertEqual(result.weights, [0.5, 0.5])
    }

    func testRankAverageRanksEachColumnSharesTiesAndRenormalisesRows() throws {
        let a = StackingInputs.BaseSet(name: "a", oof: [0.9, 0.1, 0.5, 0.5, 0.2, 0.8], test: [0.3, 0.7])
        let b = StackingInputs.BaseSet(name: "b", oof: [0.6, 0.4, 0.6, 0.4, 0.1, 0.9], test: [0.8, 0.2])
        let inputs = try StackingInputs(sets: [a, b], labels: [0, 1, 1], folds: [0, 1, 1], classes: 2)
        let result = Blend.rank(inputs, metric: .accuracy)
        // Column ranks / 3 — a: (1, 2/3, 1/3), (1/3, 2/3, 1); b with ties: (5/6, 5/6, 1/3), (1/2, 1/2, 1).
        assertEqual(result.oof, [11.0 / 16, 5.0 / 16, 9.0 / 16, 7.0 / 16, 0.25, 0.75])
        // One test row: every rank is 1.
        assertEqual(result.test, [0.5, 0.5])
        XCTAssertEqual(result.score, 2.0 / 3, accuracy: 1e-12)
    }

    func testAverageRanksMatchScipysAverageMethod() {
        XCTAssertEqual(Blend.averageRanks([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
    }

    func testOptimisedWeightsFindTheInteriorLogLossOptimum() throws {
        // Set a gives the true class 0.9 on three rows and 0.2 on the fourth, set b the reverse:
        // the log-loss of w·a + (1 - w)·b is least at w = 2.5 / 2.8.
        let a = StackingInputs.BaseSet(name: "a", oof: [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.2, 0.8], test: [1, 0])
        let b = StackingInputs.BaseSet(name: "b", oof: [0.2, 0.8, 0.2, 0.8, 0.2, 0.8, 0.9, 0.1], test: [0, 1])
        let inputs = try StackingInputs(sets: [a, b], labels: [0, 0, 0, 0], folds: [0, 0, 1, 1], classes: 2)
        let result = Blend.optimisedWeights(inputs, metric: .logLoss)
        let weights = try XCTUnwrap(result.weights)
        XCTAssertEqual(weights[0], 2.5 / 2.8, accuracy: 1.0 / 256)
        XCTAssertEqual(weights[0] + weights[1], 1, accuracy: 1e-12)
        XCTAssertLessThan(result.score, Blend.mean(inputs, metric: .logLoss).score)
        assertEqual(result.test, [Float(weights[0]), Float(weights[1])])
    }

    func testOptimisedWeightsOnOtherLibrariesOOFAreASimplexPointNoWorseThanTheMean() throws {
        let inputs = try StackFixture.inputs()
        let result = Blend.optimisedWeights(inputs, metric: .accuracy)
        let weights = try XCTUnwrap(result.weights)
        XCTAssertTrue(weights.allSatisfy { $0 >= 0 })
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(result.score, Blend.mean(inputs, metric: .accuracy).score)
        XCTAssertEqual(result.score, Metric.accuracy.score(probabilities: result.oof, classes: 4, labels: inputs.labels))
    }
}
