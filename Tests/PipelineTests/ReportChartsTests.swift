import XCTest
@testable import Pipeline

final class ReportChartsTests: XCTestCase {
    func testLinearScaleMapsTheDomainOntoTheRangeAndAnEmptyDomainToTheMiddle() {
        let scale = LinearScale(domain: (0.5, 1), range: (100, 0))
        XCTAssertEqual(scale(0.5), 100)
        XCTAssertEqual(scale(0.75), 50)
        XCTAssertEqual(LinearScale(domain: (2, 2), range: (0, 10))(2), 5)
    }

    func testScoreDomainStartsBelowTheWorstScoreButNotBelowZero() {
        let domain = ReportCharts.scoreDomain([0.9, 0.98, .nan])
        XCTAssertEqual(domain.lower, 0.88, accuracy: 1e-12)
        XCTAssertEqual(domain.upper, 0.98)
        XCTAssertEqual(ReportCharts.scoreDomain([0.01, 0.9]).lower, 0)
        XCTAssertEqual(ReportCharts.scoreDomain([-2, -1]).lower, -2.25, accuracy: 1e-12)
        XCTAssertTrue(ReportCharts.scoreDomain([]) == (0, 1))
    }

    func testHeatColorRunsFromNearWhiteToDarkBlue() {
        XCTAssertEqual(ReportCharts.heatColor(0), "rgb(247,251,255)")
        XCTAssertEqual(ReportCharts.heatColor(1), "rgb(8,48,107)")
        XCTAssertEqual(ReportCharts.heatColor(2), "rgb(8,48,107)")
    }

    func testScoreBarsHighlightOnlyTheBestRowAndBarLengthsFollowTheScores() throws {
        let rows = [ReportData.Row(subject: "b/last", kind: .base, oofScore: 0.9), ReportData.Row(subject: "a/last", kind: .base, oofScore: 0.8)]
        let svg = ReportCharts.scoreBars(rows, metricName: "accuracy", higherIsBetter: true)
        XCTAssertEqual(svg.components(separatedBy: ReportCharts.highlightColor).count - 1, 1)
        // Domain (0.775, 0.9) onto 360 px: 0.9 fills it, 0.8 takes a fifth of it.
        XCTAssertTrue(svg.contains("width=\"360.0\""), svg)
        XCTAssertTrue(svg.contains("width=\"72.0\""), svg)
    }

    func testLearningCurveDrawsAPointPerEpochAndSkipsMissingValues() {
        let curve = ReportData.Curve(model: "m", seed: 0, fold: 1, epochs: [
            .init(epoch: 1, trainLoss: 2, validationLoss: 1.5, validationScore: 0.5),
            .init(epoch: 2, trainLoss: 1, validationLoss: nil, validationScore: 0.7),
        ])
        let svg = ReportCharts.learningCurve(curve, metricName: "accuracy")
        // Train loss 2 dots, validation loss 1, validation score 2.
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 5)
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("m · seed 0 · fold 1"), svg)
    }
}
