import Datasets
import Engine
import XCTest
@testable import Ensemble

final class XGBoostStackerTests: XCTestCase {
    /// Three well-separated clusters in two features: class k sits near (k, 2 - k).
    func clusters(rows: Int) -> (features: [Float], labels: [Int]) {
        var random = SeededRandom(seed: 11)
        let labels = (0..<rows).map { $0 % 3 }
        let features = labels.flatMap { k in [Float(k), Float(2 - k)].map { $0 + random.uniform(-0.2, 0.2) } }
        return (features, labels)
    }

    func fitted(_ stacker: XGBoostStacker, _ features: [Float], _ labels: [Int], classes: Int, columns: Int = 2) throws -> XGBoostStacker {
        var stacker = stacker
        try stacker.fit(features: features, featureCount: columns, labels: labels, classes: classes)
        return stacker
    }

    func testProbabilitiesHaveOneRowPerInputAndSumToOne() throws {
        let (features, labels) = clusters(rows: 30)
        for classes in [2, 3] {
            let binaryLabels = labels.map { min($0, classes - 1) }
            let stacker = try fitted(XGBoostStacker(rounds: 10), features, binaryLabels, classes: classes)
            let probabilities = stacker.predictProbabilities(features: Array(features[0..<14]))
            XCTAssertEqual(probabilities.count, 7 * classes)
            for row in 0..<7 {
                let sum = probabilities[(row * classes)..<((row + 1) * classes)].reduce(0, +)
                XCTAssertEqual(sum, 1, accuracy: 1e-6, "\(classes) classes, row \(row)")
            }
            XCTAssertTrue(probabilities.allSatisfy { $0 > 0 && $0 < 1 })
        }
        XCTAssertEqual(try fitted(XGBoostStacker(rounds: 2), features, labels, classes: 3).probabilities(features: []), [])
    }

    func testASeparableProblemIsLearnedExactly() throws {
        let (features, labels) = clusters(rows: 60)
        let stacker = try fitted(XGBoostStacker(), features, labels, classes: 3)
        let probabilities = stacker.predictProbabilities(features: features)
        XCTAssertEqual(predictedClasses(probabilities, classes: 3), labels)
        XCTAssertEqual(Metric.accuracy.score(probabilities: probabilities, classes: 3, labels: labels), 1)
    }

    func testTwoFitsGiveBitIdenticalPredictions() throws {
        let (features, labels) = clusters(rows: 60)
        let noisy = labels.enumerated().map { $0.offset % 7 == 0 ? ($0.element + 1) % 3 : $0.element }
        let settings = XGBoostStacker(rounds: 20, maxDepth: 4, eta: 0.3, subsample: 0.7, colsampleByTree: 0.5, seed: 3)
        let first = try fitted(settings, features, noisy, classes: 3).predictProbabilities(features: features)
        let second = try fitted(settings, features, noisy, classes: 3).predictProbabilities(features: features)
        XCTAssertEqual(first.map(\.bitPattern), second.map(\.bitPattern))
        let otherSeed = try fitted(XGBoostStacker(rounds: 20, maxDepth: 4, eta: 0.3, subsample: 0.7, colsampleByTree: 0.5, seed: 4),
                                   features, noisy, classes: 3).predictProbabilities(features: features)
        XCTAssertNotEqual(first, otherSeed, "the seed must reach XGBoost's row and column sampling")
    }

    func testABadParameterIsASwiftErrorWithXGBoostsMessage() throws {
        let (features, labels) = clusters(rows: 12)
        var stacker = XGBoostStacker(rounds: 5, subsample: 1.5)
        XCTAssertThrowsError(try stacker.fit(features: features, featureCount: 2, labels: labels, classes: 3)) { error in
            let message = (error as? XGBoostError)?.message ?? "\(error)"
            XCTAssertTrue(message.contains("subsample"), message)
        }
        stacker = XGBoostStacker(rounds: 0)
        XCTAssertThrowsError(try stacker.fit(features: features, featureCount: 2, labels: labels, classes: 3)) { error in
            XCTAssertEqual((error as? XGBoostError)?.message, "rounds is 0; boosting needs at least 1 round")
        }
        XCTAssertThrowsError(try XGBoostStacker().probabilities(features: features)) { error in
            XCTAssertEqual((error as? XGBoostError)?.message, "the stacker has not been fitted; call fit first")
        }
    }

    func testParametersNameTheObjectiveByClassCount() {
        let stacker = XGBoostStacker(rounds: 5, maxDepth: 2, eta: 0.25, threads: 2, seed: 9)
        let binary = Dictionary(uniqueKeysWithValues: stacker.parameters(classes: 2))
        XCTAssertEqual(binary["objective"], "binary:logistic")
        XCTAssertNil(binary["num_class"])
        let multi = Dictionary(uniqueKeysWithValues: stacker.parameters(classes: 4))
        XCTAssertEqual(multi["objective"], "multi:softprob")
        XCTAssertEqual(multi["num_class"], "4")
        XCTAssertEqual([multi["tree_method"], multi["max_depth"], multi["eta"], multi["nthread"], multi["seed"], multi["verbosity"]],
                       ["hist", "2", "0.25", "2", "9", "0"])
    }

    struct Reference: Decodable {
        struct Case: Decodable {
            var classes: Int, columns: Int, rounds: Int
            var features: [Float], labels: [Float], predictions: [Float]
        }
        var cases: [Case]
    }

    /// Written by scripts/make-xgboost-fixture from plain C calls with the same settings.
    func testPredictionsMatchTheCReferenceFixture() throws {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/xgboost-reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        XCTAssertEqual(reference.cases.map(\.classes), [2, 3])
        for example in reference.cases {
            let stacker = try fitted(XGBoostStacker(rounds: example.rounds, maxDepth: 3, eta: 0.3, subsample: 0.8,
                                                    colsampleByTree: 0.75, lambda: 2, threads: 1, seed: 7),
                                     example.features, example.labels.map { Int($0) }, classes: example.classes,
                                     columns: example.columns)
            let expected = example.classes == 2 ? example.predictions.flatMap { [1 - $0, $0] } : example.predictions
            let predicted = stacker.predictProbabilities(features: example.features)
            XCTAssertEqual(predicted.count, expected.count)
            for (index, (value, reference)) in zip(predicted, expected).enumerated() {
                XCTAssertEqual(value, reference, accuracy: 1e-5, "\(example.classes) classes, value \(index)")
            }
        }
    }
}
