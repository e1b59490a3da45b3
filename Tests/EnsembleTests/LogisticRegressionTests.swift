import Foundation
import XCTest
@testable import Ensemble

/// scikit-learn's reference fit (scripts/make-stacking-fixture).
private struct LogisticFixture: Decodable {
    struct Fit: Decodable {
        var C: Double
        var coef: [[Double]]
        var intercept: [Double]
        var heldout_probabilities: [[Double]]
    }
    var features: Int
    var classes: Int
    var train_x: [[Double]]
    var train_y: [Int]
    var heldout_x: [[Double]]
    var fits: [Fit]

    static func load() throws -> LogisticFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("logistic_regression.json")
        return try JSONDecoder().decode(LogisticFixture.self, from: Data(contentsOf: url))
    }
}

final class LogisticRegressionTests: XCTestCase {
    func testProbabilitiesAndCoefficientsMatchScikitLearn() throws {
        let fixture = try LogisticFixture.load()
        let features = fixture.train_x.flatMap { $0.map { Float($0) } }
        let heldout = fixture.heldout_x.flatMap { $0.map { Float($0) } }
        XCTAssertEqual(fixture.fits.count, 2)
        for fit in fixture.fits {
            var model = LogisticRegression(inverseRegularization: fit.C)
            model.fit(features: features, featureCount: fixture.features, labels: fixture.train_y, classes: fixture.classes)
            let probabilities = model.predictProbabilities(features: heldout)
            let expected = fit.heldout_probabilities.flatMap { $0 }
            XCTAssertEqual(probabilities.count, expected.count)
            let worst = zip(probabilities, expected).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4, "C = \(fit.C)")
            for (ours, theirs) in zip(model.coefficients, fit.coef.flatMap { $0 }) { XCTAssertEqual(ours, theirs, accuracy: 1e-4, "C = \(fit.C)") }
            for (ours, theirs) in zip(model.intercepts, fit.intercept) { XCTAssertEqual(ours, theirs, accuracy: 1e-4, "C = \(fit.C)") }
        }
    }

    func testObjectiveGradientMatchesFiniteDifferences() {
        let x: [Double] = [0.5, -1, 2, 0.3, -0.7, 1.1, 0, 0.4, 1.5]
        let objective = SoftmaxObjective(x: x, labels: [0, 2, 1], D: 3, K: 3, penalty: 0.8)
        let theta: [Double] = (0..<12).map { Double($0 % 5) * 0.3 - 0.6 }
        let (_, gradient) = objective.evaluate(theta)
        for index in theta.indices {
            var up = theta, down = theta
            up[index] += 1e-6
            down[index] -= 1e-6
            let numeric = (objective.evaluate(up).value - objective.evaluate(down).value) / 2e-6
            XCTAssertEqual(gradient[index], numeric, accuracy: 1e-6, "parameter \(index)")
        }
    }

    func testObjectiveIsSummedCrossEntropyPlusHalfPenaltyOnWeightsOnly() {
        // One row, two classes, one feature; logits (w0·x + b0, w1·x + b1) = (1, 0) + (0.5, -0.5).
        let objective = SoftmaxObjective(x: [2], labels: [1], D: 1, K: 2, penalty: 4)
        let (value, _) = objective.evaluate([0.5, 0, 0.5, -0.5])
        let crossEntropy = log(exp(1.5) + exp(-0.5)) + 0.5
        XCTAssertEqual(value, crossEntropy + 2 * 0.25, accuracy: 1e-12)
    }

    func testLBFGSMinimisesAnIllConditionedQuadratic() {
        let scales: [Double] = [1, 10, 100, 1000]
        let minimum = LBFGS.minimise({ theta in
            let value = zip(theta, scales).reduce(0) { $0 + $1.1 * ($1.0 - 1) * ($1.0 - 1) / 2 }
            return (value, zip(theta, scales).map { $1 * ($0 - 1) })
        }, start: [0, 0, 0, 0], tolerance: 1e-12, maxIterations: 200)
        for value in minimum { XCTAssertEqual(value, 1, accuracy: 1e-9) }
    }

    func testPredictionsAreRowsOfProbabilities() {
        var model = LogisticRegression()
        model.fit(features: [0, 1, 2, 3, 4, 5], featureCount: 1, labels: [0, 0, 1, 1, 2, 2], classes: 3)
        let probabilities = model.predictProbabilities(features: [-1, 2.5, 9])
        XCTAssertEqual(probabilities.count, 9)
        for row in 0..<3 { XCTAssertEqual(probabilities[(row * 3)..<(row * 3 + 3)].reduce(0, +), 1, accuracy: 1e-6) }
        XCTAssertEqual(predictedArgmax(probabilities, 3), [0, 1, 2])
        XCTAssertEqual(model.intercepts.reduce(0, +), 0, accuracy: 1e-9)
    }

    private func predictedArgmax(_ p: [Float], _ K: Int) -> [Int] {
        stride(from: 0, to: p.count, by: K).map { start in (0..<K).max { p[start + $0] < p[start + $1] }! }
    }
}
