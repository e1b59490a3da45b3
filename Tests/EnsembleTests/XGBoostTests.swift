import XCTest
@testable import Ensemble

final class XGBoostTests: XCTestCase {
    /// Four rows on one feature: label 1 exactly when the feature is above 0.5.
    let features: [Float] = [0.1, 0.2, 0.8, 0.9]
    let labels: [Float] = [0, 0, 1, 1]

    /// The XGBoostError `body` throws; any other error fails the test.
    func error(_ body: () throws -> Void) -> XGBoostError? {
        do { try body() } catch {
            XCTAssertTrue(error is XGBoostError, "\(error)")
            return error as? XGBoostError
        }
        return nil
    }

    func binaryBooster(_ training: XGBoostMatrix, extra: [(String, String)] = []) throws -> XGBoostBooster {
        try XGBoostBooster(cached: [training], parameters: [
            ("objective", "binary:logistic"), ("tree_method", "hist"), ("min_child_weight", "0"),
            ("nthread", "1"), ("verbosity", "0"),
        ] + extra)
    }

    func testMatrixKnowsItsShape() throws {
        let matrix = try XGBoostMatrix(features: [1, 2, 3, 4, 5, 6], columns: 3, labels: [0, 1])
        XCTAssertEqual(matrix.rows, 2)
        XCTAssertEqual(matrix.columns, 3)
    }

    func testMisshapenInputIsAnErrorNotACrash() {
        let ragged = error { _ = try XGBoostMatrix(features: [1, 2, 3, 4, 5], columns: 2) }
        XCTAssertEqual(ragged?.message, "5 feature values do not form rows of 2 columns")
        let labels = error { _ = try XGBoostMatrix(features: [1, 2, 3, 4], columns: 2, labels: [0, 1, 1]) }
        XCTAssertEqual(labels?.message, "3 labels for 2 rows")
    }

    /// One round by hand: from base score 0.5 each leaf holds two rows with gradient p - y = ±0.5 and
    /// hessian 0.25, so its weight is -G / (H + lambda) = ∓1 / 1.5 and p = sigmoid(±2/3).
    func testOneRoundGivesTheHandComputedLeafWeights() throws {
        let training = try XGBoostMatrix(features: features, columns: 1, labels: labels)
        let booster = try binaryBooster(training, extra: [("eta", "1"), ("lambda", "1")])
        try booster.update(iteration: 0, training: training)
        let predicted = try booster.predict(training)
        XCTAssertEqual(predicted.count, 4)
        let high = Float(1 / (1 + exp(-2.0 / 3)))
        for (probability, expected) in zip(predicted, [1 - high, 1 - high, high, high]) {
            XCTAssertEqual(probability, expected, accuracy: 1e-6)
        }
        for round in 1..<10 { try booster.update(iteration: round, training: training) }
        let later = try booster.predict(training)
        XCTAssertTrue(later[0] < 0.1 && later[3] > 0.9, "more rounds push the probabilities apart: \(later)")
    }

    func testPredictionsAreCopiedOutOfXGBoostsBuffer() throws {
        let training = try XGBoostMatrix(features: features, columns: 1, labels: labels)
        let booster = try binaryBooster(training)
        for round in 0..<3 { try booster.update(iteration: round, training: training) }
        let low = try booster.predict(XGBoostMatrix(features: [0.0], columns: 1))
        let high = try booster.predict(XGBoostMatrix(features: [1.0, 1.0], columns: 1))
        XCTAssertEqual(low.count, 1)
        XCTAssertEqual(high.count, 2)
        XCTAssertLessThan(low[0], 0.5, "the first result must survive the second prediction")
        XCTAssertGreaterThan(high[0], 0.5)
    }

    func testAnUnknownObjectiveIsXGBoostsErrorFromTheFirstRound() throws {
        let training = try XGBoostMatrix(features: features, columns: 1, labels: labels)
        let booster = try binaryBooster(training, extra: [("objective", "multi:nonsense")])
        let failure = error { try booster.update(iteration: 0, training: training) }
        XCTAssertEqual(failure?.call, "XGBoosterUpdateOneIter(round 0)")
        XCTAssertTrue(failure?.message.contains("Unknown objective function: `multi:nonsense`") ?? false,
                      failure?.message ?? "no error")
        XCTAssertTrue(failure?.description.hasPrefix("XGBoost XGBoosterUpdateOneIter(round 0) failed: ") ?? false)
    }

    func testABadValueIsAnErrorAndTheBoosterRefusesFurtherCalls() throws {
        let training = try XGBoostMatrix(features: features, columns: 1, labels: labels)
        let booster = try binaryBooster(training, extra: [("max_depth", "deep")])
        let failure = error { try booster.update(iteration: 0, training: training) }
        XCTAssertTrue(failure?.message.contains("max_depth") ?? false, failure?.message ?? "no error")
        // XGBoost itself would crash on a half-configured learner; the wrapper refuses instead.
        for refused in [error { try booster.setParameter("max_depth", "2") },
                        error { try booster.update(iteration: 0, training: training) },
                        error { _ = try booster.predict(training) }] {
            XCTAssertTrue(refused?.message.hasPrefix("the booster is unusable after an earlier failure (") ?? false,
                          refused?.message ?? "no error")
        }
    }
}
