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

    static func load(_ file: String = "logistic_regression.json") throws -> LogisticFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent(file)
        return try JSONDecoder().decode(LogisticFixture.self, from: Data(contentsOf: url))
    }
}

final class LogisticRegressionTests: XCTestCase {
    /// Fits every C of a fixture to a tight tolerance and returns each fit's model beside scikit-learn's.
    private func fits(_ fixture: LogisticFixture) -> [(model: LogisticRegression, reference: LogisticFixture.Fit)] {
        let features = fixture.train_x.flatMap { $0.map { Float($0) } }
        return fixture.fits.map { fit in
            var model = LogisticRegression(inverseRegularization: fit.C, tolerance: 1e-10)
            model.fit(features: features, featureCount: fixture.features, labels: fixture.train_y, classes: fixture.classes)
            return (model, fit)
        }
    }

    private func assertHeldoutProbabilitiesMatch(_ model: LogisticRegression, _ fit: LogisticFixture.Fit,
                                                 _ fixture: LogisticFixture, file: StaticString = #filePath, line: UInt = #line) {
        let probabilities = model.predictProbabilities(features: fixture.heldout_x.flatMap { $0.map { Float($0) } })
        let expected = fit.heldout_probabilities.flatMap { $0 }
        XCTAssertEqual(probabilities.count, expected.count, file: file, line: line)
        let worst = zip(probabilities, expected).map { abs(Double($0) - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5, "C = \(fit.C)", file: file, line: line)
    }

    func testMulticlassProbabilitiesAndCoefficientsMatchScikitLearn() throws {
        let fixture = try LogisticFixture.load()
        XCTAssertEqual(fixture.fits.count, 2)
        for (model, fit) in fits(fixture) {
            assertHeldoutProbabilitiesMatch(model, fit, fixture)
            for (ours, theirs) in zip(model.coefficients, fit.coef.flatMap { $0 }) { XCTAssertEqual(ours, theirs, accuracy: 1e-5, "C = \(fit.C)") }
            for (ours, theirs) in zip(model.intercepts, fit.intercept) { XCTAssertEqual(ours, theirs, accuracy: 1e-5, "C = \(fit.C)") }
        }
    }

    /// scikit-learn's binary model has one weight vector w penalised by ‖w‖²/(2C); a symmetric
    /// two-row softmax with both rows penalised would fit as if C were 2C, and fail here.
    func testBinaryProbabilitiesAndCoefficientsMatchScikitLearnsOneVectorModel() throws {
        let fixture = try LogisticFixture.load("logistic_regression_binary.json")
        XCTAssertEqual(fixture.classes, 2)
        let D = fixture.features
        for (model, fit) in fits(fixture) {
            assertHeldoutProbabilitiesMatch(model, fit, fixture)
            XCTAssertEqual(fit.coef.count, 1, "scikit-learn stores one row for two classes")
            for j in 0..<D {
                XCTAssertEqual(model.coefficients[D + j] - model.coefficients[j], fit.coef[0][j], accuracy: 1e-5, "C = \(fit.C)")
                XCTAssertEqual(model.coefficients[D + j], -model.coefficients[j], accuracy: 1e-12)
            }
            XCTAssertEqual(model.intercepts[1] - model.intercepts[0], fit.intercept[0], accuracy: 1e-5, "C = \(fit.C)")
        }
    }

    func testTheDefaultToleranceGivesTheOptimumsProbabilitiesToManyDigits() throws {
        let fixture = try LogisticFixture.load()
        var model = LogisticRegression()
        model.fit(features: fixture.train_x.flatMap { $0.map { Float($0) } }, featureCount: fixture.features,
                  labels: fixture.train_y, classes: fixture.classes)
        assertHeldoutProbabilitiesMatch(model, fixture.fits[0], fixture)
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
