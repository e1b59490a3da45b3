import Datasets
import Engine
import XCTest
@testable import Ensemble

final class MLPStackerTests: XCTestCase {
    /// Two features in [0, 1]; the class is 1 when exactly one of them is above 0.5 (XOR),
    /// which no linear boundary separates.
    func xor(rows: Int, seed: UInt64) -> (features: [Float], labels: [Int]) {
        var random = SeededRandom(seed: seed)
        var features = [Float](), labels = [Int]()
        for _ in 0..<rows {
            let (a, b) = (random.nextFloat(), random.nextFloat())
            features += [a, b]
            labels.append((a > 0.5) != (b > 0.5) ? 1 : 0)
        }
        return (features, labels)
    }

    func testLearnsXORWhichLogisticRegressionCannot() {
        let train = xor(rows: 400, seed: 1), heldout = xor(rows: 200, seed: 2)
        var mlp = MLPStacker(seed: 7)
        mlp.fit(features: train.features, featureCount: 2, labels: train.labels, classes: 2)
        var linear = LogisticRegression()
        linear.fit(features: train.features, featureCount: 2, labels: train.labels, classes: 2)
        let mlpAccuracy = Metric.accuracy.score(probabilities: mlp.predictProbabilities(features: heldout.features),
                                                classes: 2, labels: heldout.labels)
        let linearAccuracy = Metric.accuracy.score(probabilities: linear.predictProbabilities(features: heldout.features),
                                                   classes: 2, labels: heldout.labels)
        XCTAssertGreaterThan(mlpAccuracy, 0.9)
        XCTAssertLessThan(linearAccuracy, 0.7)
    }

    func testTheSameSeedGivesTheSameModelAndAnotherSeedAnother() {
        let train = xor(rows: 64, seed: 3)
        func probabilities(seed: UInt64) -> [Float] {
            var mlp = MLPStacker(epochs: 5, seed: seed)
            mlp.fit(features: train.features, featureCount: 2, labels: train.labels, classes: 2)
            return mlp.predictProbabilities(features: [0.2, 0.9, 0.7, 0.1])
        }
        XCTAssertEqual(probabilities(seed: 1), probabilities(seed: 1))
        XCTAssertNotEqual(probabilities(seed: 1), probabilities(seed: 2))
        XCTAssertEqual(probabilities(seed: 1).count, 4)
    }

    func testColumnStatisticsKeepAConstantColumnsScale() {
        let (means, deviations) = MLPStacker.columnStatistics([1, 5, 3, 5], width: 2)
        XCTAssertEqual(means, [2, 5])
        XCTAssertEqual(deviations, [1, 1])
        let spread = MLPStacker.columnStatistics([0, 4], width: 1)
        XCTAssertEqual(spread.deviations, [2])
    }
}
