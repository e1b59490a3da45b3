import Datasets
import XCTest
@testable import Ensemble

func assertClose(_ actual: [Float], _ expected: [Float], accuracy: Float = 1e-6,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, file: file, line: line)
    for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: accuracy, "\(actual) vs \(expected)", file: file, line: line) }
}

final class BlendingTests: XCTestCase {
    func testMeanAveragesEverySetAndScoresTheAveragePlainly() throws {
        let a = StackingInputs.BaseSet(name: "a", oof: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7], test: [0.5, 0.5])
        let b = StackingInputs.BaseSet(name: "b", oof: [0.7, 0.3, 0.4, 0.6, 0.1, 0.9, 0.2, 0.8], test: [0.1, 0.9])
        let inputs = try StackingInputs(sets: [a, b], labels: [0, 1, 1, 1], folds: [0, 0, 1, 1], classes: 2)
        let result = try XCTUnwrap(Level2.run(inputs, metric: .accuracy, methods: [.mean]).first)
        assertClose(result.oof, [0.8, 0.2, 0.3, 0.7, 0.35, 0.65, 0.25, 0.75])
        assertClose(result.test, [0.3, 0.7])
        XCTAssertEqual(result.score, 1)
        XCTAssertEqual(result.weights, [0.5, 0.5])
        XCTAssertEqual(result.name, "blend/mean")
        XCTAssertNil(result.inSampleScore, "the mean learns nothing: its plain score is honest")
    }

    func testRankAverageRanksEachColumnSharesTiesAndRenormalisesRows() throws {
        let a = StackingInputs.BaseSet(name: "a", oof: [0.9, 0.1, 0.5, 0.5, 0.2, 0.8], test: [0.3, 0.7])
        let b = StackingInputs.BaseSet(name: "b", oof: [0.6, 0.4, 0.6, 0.4, 0.1, 0.9], test: [0.8, 0.2])
        let inputs = try StackingInputs(sets: [a, b], labels: [0, 1, 1], folds: [0, 1, 1], classes: 2)
        let result = try XCTUnwrap(Level2.run(inputs, metric: .accuracy, methods: [.rank]).first)
        // Column ranks / 3 — a: (1, 2/3, 1/3), (1/3, 2/3, 1); b with ties: (5/6, 5/6, 1/3), (1/2, 1/2, 1).
        assertClose(result.oof, [11.0 / 16, 5.0 / 16, 9.0 / 16, 7.0 / 16, 0.25, 0.75])
        // One test row: every rank is 1.
        assertClose(result.test, [0.5, 0.5])
        XCTAssertEqual(result.score, 2.0 / 3, accuracy: 1e-12)
        XCTAssertNil(result.weights)
        XCTAssertNil(result.inSampleScore)
    }

    func testAverageRanksMatchScipysAverageMethod() {
        XCTAssertEqual(Blend.averageRanks([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
    }

    func testOptimisedWeightsFindTheInteriorLogLossOptimum() throws {
        // Set a gives the true class 0.9 on three rows and 0.2 on the fourth, set b the reverse:
        // the log-loss of w·a + (1 - w)·b is least at w = 2.5 / 2.8.
        let a: [Float] = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.2, 0.8]
        let b: [Float] = [0.2, 0.8, 0.2, 0.8, 0.2, 0.8, 0.9, 0.1]
        let labels = [0, 0, 0, 0]
        let weights = Blend.optimisedWeights([a, b], labels: labels, classes: 2, metric: .logLoss)
        XCTAssertEqual(weights[0], 2.5 / 2.8, accuracy: 1.0 / 256)
        XCTAssertEqual(weights[0] + weights[1], 1, accuracy: 1e-12)
        let blended = Metric.logLoss.score(probabilities: Blend.weightedSum([a, b], weights), classes: 2, labels: labels)
        let mean = Metric.logLoss.score(probabilities: Blend.weightedSum([a, b], [0.5, 0.5]), classes: 2, labels: labels)
        XCTAssertLessThan(blended, mean)
    }

    func testOptimisedWeightsOnOtherLibrariesOOFAreASimplexPointNoWorseThanTheMeanInSample() throws {
        let inputs = try StackFixture.inputs()
        let weights = Blend.optimisedWeights(inputs.sets.map(\.oof), labels: inputs.labels, classes: 4, metric: .accuracy)
        XCTAssertTrue(weights.allSatisfy { $0 >= 0 })
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-9)
        let mean = try XCTUnwrap(Level2.run(inputs, metric: .accuracy, methods: [.mean]).first).score
        XCTAssertGreaterThanOrEqual(try Level2.inSampleScore(.weights, inputs, metric: .accuracy), mean)
    }

    func testFittedWeightsAreScoredNestedFromFoldFitsAndReportTheirMean() throws {
        let inputs = try StackFixture.inputs()
        let result = try XCTUnwrap(Level2.run(inputs, metric: .logLoss, methods: [.weights]).first)
        XCTAssertEqual(result.name, "blend/weights")
        // Each fold's rows are blended with the weights fitted on the other folds.
        var expectedOOF = [Float](repeating: 0, count: inputs.rows * 4)
        var foldWeights: [[Double]] = []
        for fold in 0..<inputs.foldCount {
            let train = inputs.folds.indices.filter { inputs.folds[$0] != fold }
            let fitted = try Level2.fit(.weights, inputs, rows: train, metric: .logLoss)
            let weights = try XCTUnwrap(fitted.weights)
            foldWeights.append(weights)
            for row in inputs.folds.indices where inputs.folds[row] == fold {
                for k in 0..<4 {
                    expectedOOF[row * 4 + k] = Float(zip(inputs.sets, weights).reduce(0.0) { $0 + $1.1 * Double($1.0.oof[row * 4 + k]) })
                }
            }
        }
        assertClose(result.oof, expectedOOF, accuracy: 1e-6)
        XCTAssertEqual(result.score, Metric.logLoss.score(probabilities: result.oof, classes: 4, labels: inputs.labels), accuracy: 1e-12)
        let meanWeights = (0..<3).map { s in foldWeights.map { $0[s] }.reduce(0, +) / Double(foldWeights.count) }
        for (ours, expected) in zip(try XCTUnwrap(result.weights), meanWeights) { XCTAssertEqual(ours, expected, accuracy: 1e-12) }
        // The test prediction (mean of the fold fits' predictions) is the blend with the mean weights.
        assertClose(result.test, Blend.weightedSum(inputs.sets.map(\.test), meanWeights), accuracy: 1e-5)
        // The in-sample score is labelled apart and is the optimistic one.
        let inSample = try XCTUnwrap(result.inSampleScore)
        XCTAssertEqual(inSample, try Level2.inSampleScore(.weights, inputs, metric: .logLoss))
        XCTAssertLessThanOrEqual(inSample, result.score)
    }
}
