import Datasets
import Foundation
import XCTest
@testable import Ensemble

/// The committed "other libraries" OOF matrices (scripts/make-stacking-fixture).
enum StackFixture {
    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("stack")
    static let names = ["naive_bayes", "knn", "forest"]

    static func inputs() throws -> StackingInputs {
        let read = { (file: String) in try NPY.read(directory.appendingPathComponent(file)) }
        let labels = try read("labels.npy").integers!
        let folds = try read("folds.npy").integers!
        let sets = try names.map { name in
            StackingInputs.BaseSet(name: name, oof: try read("oof_\(name).npy").floats, test: try read("test_\(name).npy").floats)
        }
        return try StackingInputs(sets: sets, labels: labels, folds: folds, classes: 4)
    }

    static func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json"))) as! [String: Any]
    }
}

/// Predicts, for every row, the class frequencies of the labels it was fit on,
/// and records what it saw.
private final class FrequencyLog: @unchecked Sendable {
    var fits: [(rows: Int, features: [Float])] = []
}

private struct FrequencyStacker: Stacker {
    let log: FrequencyLog
    var frequencies: [Float] = []

    mutating func fit(features: [Float], featureCount: Int, labels: [Int], classes: Int) {
        log.fits.append((labels.count, features))
        frequencies = (0..<classes).map { k in Float(labels.filter { $0 == k }.count) / Float(labels.count) }
    }

    func predictProbabilities(features: [Float]) -> [Float] {
        let rows = features.count / (2 * frequencies.count)
        return (0..<rows).flatMap { _ in frequencies }
    }
}

final class NestedStackingTests: XCTestCase {
    func twoSetInputs() throws -> StackingInputs {
        let a = StackingInputs.BaseSet(name: "a", oof: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7], test: [0.5, 0.5])
        let b = StackingInputs.BaseSet(name: "b", oof: [0.7, 0.3, 0.4, 0.6, 0.1, 0.9, 0.2, 0.8], test: [0.1, 0.9])
        return try StackingInputs(sets: [a, b], labels: [0, 1, 1, 1], folds: [0, 0, 1, 1], classes: 2)
    }

    func testFeaturesPlaceTheSetsSideBySidePerRow() throws {
        let inputs = try twoSetInputs()
        XCTAssertEqual(inputs.featureCount, 4)
        XCTAssertEqual(Array(inputs.oofFeatures.prefix(8)), [0.9, 0.1, 0.7, 0.3, 0.2, 0.8, 0.4, 0.6])
        XCTAssertEqual(inputs.testFeatures, [0.5, 0.5, 0.1, 0.9])
        XCTAssertEqual(inputs.oofFeatures(rows: [3, 0]), NestedStacking.gather(inputs.oofFeatures, rows: [3, 0], width: 4))
    }

    func testEachFoldIsPredictedByAStackerFitOnTheOtherFoldsOnly() throws {
        let inputs = try twoSetInputs()
        let log = FrequencyLog()
        let result = try NestedStacking.run(inputs, metric: .accuracy, method: .logistic) { rows in
            var stacker = FrequencyStacker(log: log)
            stacker.fit(features: NestedStacking.gather(inputs.oofFeatures, rows: rows, width: 4), featureCount: 4,
                        labels: rows.map { inputs.labels[$0] }, classes: 2)
            return FittedLevel2(method: .logistic, classes: 2, setCount: 2, weights: nil, model: .stacker(stacker))
        }
        // Fold 0 (rows 0, 1) is fit on rows 2, 3 (labels 1, 1); fold 1 on rows 0, 1 (labels 0, 1).
        XCTAssertEqual(log.fits.map(\.rows), [2, 2])
        XCTAssertEqual(log.fits[0].features, [0.6, 0.4, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8])
        XCTAssertEqual(log.fits[1].features, [0.9, 0.1, 0.7, 0.3, 0.2, 0.8, 0.4, 0.6])
        XCTAssertEqual(result.oof, [0, 1, 0, 1, 0.5, 0.5, 0.5, 0.5])
        // Argmax takes the first class on a tie, so rows 2 and 3 predict 0: only row 1 is right.
        XCTAssertEqual(result.score, 0.25)
        // The test prediction is the mean of the two fold stackers' predictions.
        XCTAssertEqual(result.test, [0.25, 0.75])
        XCTAssertNil(result.weights)
    }

    func testLogisticStackerMatchesScikitLearnsNestedAccuracyOnOtherLibrariesOOF() throws {
        let inputs = try StackFixture.inputs()
        let expected = try StackFixture.expected()["sklearn_logistic_stacker_accuracy"] as! Double
        let result = try XCTUnwrap(Level2.run(inputs, metric: .accuracy, methods: [.logistic]).first)
        XCTAssertEqual(result.name, "stack/logistic")
        XCTAssertEqual(result.score, expected, accuracy: 0.005)
        XCTAssertNil(result.inSampleScore)
        XCTAssertEqual(result.test.count, inputs.testRows * 4)
        for row in 0..<inputs.testRows {
            XCTAssertEqual(result.test[(row * 4)..<(row * 4 + 4)].reduce(0, +), 1, accuracy: 1e-5)
        }
    }

    func testBaseScoresFollowTheSetsOrder() throws {
        let inputs = try StackFixture.inputs()
        let expected = try StackFixture.expected()["base_accuracy"] as! [String: Double]
        let scores = inputs.baseScores(.accuracy)
        for (name, score) in zip(StackFixture.names, scores) { XCTAssertEqual(score, expected[name]!, accuracy: 1e-9, name) }
    }

    func testMetricComparisonFollowsTheMetricsDirectionAndNeverPrefersNaN() {
        XCTAssertTrue(Metric.accuracy.isBetter(0.9, than: 0.8))
        XCTAssertTrue(Metric.logLoss.isBetter(0.2, than: 0.3))
        XCTAssertFalse(Metric.accuracy.isBetter(.nan, than: 0.1))
        XCTAssertTrue(Metric.logLoss.isBetter(5, than: .nan))
        XCTAssertFalse(Metric.logLoss.isBetter(.nan, than: .nan))
    }

    func testBestFirstPutsNaNLastAndKeepsTheOrderOfTies() {
        XCTAssertEqual(Metric.accuracy.bestFirst([.nan, 0.5, 0.9, .nan, 0.5]), [2, 1, 4, 0, 3])
        XCTAssertEqual(Metric.logLoss.bestFirst([.nan, 0.5, 0.9, 0.2]), [3, 1, 2, 0])
    }
}
