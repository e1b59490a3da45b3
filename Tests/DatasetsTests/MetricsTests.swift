import Datasets
import XCTest

final class MetricsTests: XCTestCase {
    func testAccuracyTakesTheFirstClassOnTies() {
        let probabilities: [Float] = [0.7, 0.3, 0.4, 0.6, 0.5, 0.5, 0.1, 0.9]
        // Predictions 0, 1, 0 (tie), 1 against labels 0, 0, 1, 1: two right.
        XCTAssertEqual(Metric.accuracy.score(probabilities: probabilities, classes: 2, labels: [0, 0, 1, 1]), 0.5)
    }

    func testLogLoss() {
        let value = Metric.logLoss.score(probabilities: [0.8, 0.2, 0.3, 0.7], classes: 2, labels: [0, 1])
        XCTAssertEqual(value, -(log(0.8) + log(0.7)) / 2, accuracy: 1e-7)
        XCTAssertEqual(value, 0.2899092476, accuracy: 1e-7)
    }

    func testLogLossClipsLikeSklearn() {
        XCTAssertEqual(Metric.logLoss.score(probabilities: [1, 0], classes: 2, labels: [1]), 34.538776394910684, accuracy: 1e-9)
        XCTAssertEqual(Metric.logLoss.score(probabilities: [1, 0], classes: 2, labels: [0]), 0, accuracy: 1e-12)
    }

    func testMacroF1() {
        // Labels 0 0 1 1 2 2, predictions 0 1 1 1 2 0: F1 = 1/2, 4/5, 2/3.
        let predictions = [0, 1, 1, 1, 2, 0]
        let probabilities = predictions.flatMap { p in (0..<4).map { $0 == p ? Float(0.9) : 0.05 } }
        let expected = (0.5 + 0.8 + 2.0 / 3) / 3
        // Class 3 is neither a label nor predicted, so like sklearn it is not averaged in.
        XCTAssertEqual(Metric.macroF1.score(probabilities: probabilities, classes: 4, labels: [0, 0, 1, 1, 2, 2]),
                       expected, accuracy: 1e-9)
    }

    func testBinaryAUC() {
        // sklearn's documented example: 0.75.
        let scores: [Float] = [0.1, 0.4, 0.35, 0.8]
        let probabilities = scores.flatMap { [1 - $0, $0] }
        XCTAssertEqual(Metric.rocAUC.score(probabilities: probabilities, classes: 2, labels: [0, 0, 1, 1]), 0.75, accuracy: 1e-12)
    }

    func testBinaryAUCWithTies() {
        // Positives 0.5, 0.9; negatives 0.5, 0.2: pairs score ½ + 1 + 1 + 1 = 3.5 of 4.
        let scores: [Float] = [0.5, 0.5, 0.2, 0.9]
        let probabilities = scores.flatMap { [1 - $0, $0] }
        XCTAssertEqual(Metric.rocAUC.score(probabilities: probabilities, classes: 2, labels: [1, 0, 0, 1]), 0.875, accuracy: 1e-12)
    }

    func testMulticlassOneVersusRestMacroAUC() {
        let probabilities: [Float] = [
            0.6, 0.3, 0.1,
            0.2, 0.5, 0.3,
            0.3, 0.3, 0.4,
            0.3, 0.5, 0.2,
        ]
        // Class 0: 3.5/4; class 1: 2.5/3; class 2: 1.
        let expected = (0.875 + 2.5 / 3 + 1) / 3
        XCTAssertEqual(Metric.rocAUC.score(probabilities: probabilities, classes: 3, labels: [0, 1, 2, 0]),
                       expected, accuracy: 1e-12)
    }

    func testAUCIsNaNWithOneClassOnly() {
        XCTAssertTrue(Metric.rocAUC.score(probabilities: [0.2, 0.8, 0.6, 0.4], classes: 2, labels: [1, 1]).isNaN)
    }

    func testDirectionAndNames() {
        XCTAssertEqual(Metric.allCases.filter { !$0.higherIsBetter }, [.logLoss])
        XCTAssertEqual(Metric(rawValue: "roc_auc"), .rocAUC)
        XCTAssertEqual(Metric.macroF1.rawValue, "macro_f1")
    }
}
