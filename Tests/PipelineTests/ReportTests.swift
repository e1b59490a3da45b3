import XCTest
@testable import Pipeline

final class ReportTests: XCTestCase {
    static func sample(higherIsBetter: Bool = true, finalChoice: String? = nil) -> ReportData {
        ReportData(experimentName: "digits", metricName: higherIsBetter ? "accuracy" : "log_loss", higherIsBetter: higherIsBetter,
                   rows: [ReportData.Row(subject: "resnet/last", kind: .base, oofScore: 0.91, testScore: 0.9),
                          ReportData.Row(subject: "blend/mean", kind: .blend, oofScore: 0.95),
                          ReportData.Row(subject: "stack/logistic", kind: .stacker, oofScore: 0.93, testScore: 0.94),
                          ReportData.Row(subject: "resnet/swa", kind: .base, oofScore: .nan),
                          ReportData.Row(subject: "resnet/snapshots", kind: .base, oofScore: 0.92)],
                   finalChoice: finalChoice)
    }

    func testEqualScoresGoToTheSimplerResult() {
        let data = ReportData(experimentName: "x", metricName: "accuracy", higherIsBetter: true,
                              rows: [.init(subject: "stack/logistic", kind: .stacker, oofScore: 0.5),
                                     .init(subject: "blend/mean", kind: .blend, oofScore: 0.5),
                                     .init(subject: "z/last", kind: .base, oofScore: 0.5)])
        XCTAssertEqual(data.leaderboard.map(\.subject), ["z/last", "blend/mean", "stack/logistic"])
    }

    func testLeaderboardIsBestFirstInTheMetricsDirectionWithNaNLast() {
        XCTAssertEqual(Self.sample().leaderboard.map(\.subject),
                       ["blend/mean", "stack/logistic", "resnet/snapshots", "resnet/last", "resnet/swa"])
        XCTAssertEqual(Self.sample(higherIsBetter: false).leaderboard.map(\.subject),
                       ["resnet/last", "resnet/snapshots", "stack/logistic", "blend/mean", "resnet/swa"])
    }

    func testEqualScoresKeepSubjectOrder() {
        let data = ReportData(experimentName: "x", metricName: "accuracy", higherIsBetter: true,
                              rows: [.init(subject: "b/last", kind: .base, oofScore: 0.5), .init(subject: "a/last", kind: .base, oofScore: 0.5)])
        XCTAssertEqual(data.leaderboard.map(\.subject), ["a/last", "b/last"])
    }

    func testFinalSubjectIsTheRecordedChoiceElseTheBest() {
        XCTAssertEqual(Self.sample().finalSubject, "blend/mean")
        XCTAssertEqual(Self.sample(finalChoice: "stack/logistic").finalSubject, "stack/logistic")
        XCTAssertNil(ReportData(experimentName: "x", metricName: "accuracy", higherIsBetter: true, rows: []).finalSubject)
    }

    func testLeaderboardTextIsAnAlignedTableBestFirstWithTheFinalMarked() {
        let lines = Self.sample(finalChoice: "stack/logistic").leaderboardText().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "experiment digits: OOF accuracy, higher is better; * = final ensemble",
            "#  subject           kind     oof accuracy  test accuracy",
            "1  blend/mean        blend          0.9500              -",
            "2  stack/logistic    stacker        0.9300         0.9400  *",
            "3  resnet/snapshots  base           0.9200              -",
            "4  resnet/last       base           0.9100         0.9000",
            "5  resnet/swa        base              nan              -",
        ])
    }

    func testRanksOfTwoDigitsKeepTheColumnsAligned() {
        let rows = (0..<11).map { ReportData.Row(subject: "m\($0)/last", kind: .base, oofScore: 0.5 + Double($0) / 100) }
        let lines = ReportData(experimentName: "x", metricName: "accuracy", higherIsBetter: true, rows: rows)
            .leaderboardText().split(separator: "\n").map(String.init).dropFirst()
        XCTAssertEqual(Set(lines.map { $0.range(of: "m")?.lowerBound.utf16Offset(in: $0) ?? -1 }.dropFirst()).count, 1, "\(lines)")
        XCTAssertTrue(lines.contains(" 9  m2/last   base        0.5200              -"), "\(lines)")
    }

    func testConfusionMatrixCountsArgmaxAgainstLabelsAndSumsToTheRows() {
        // Rows 0..4 predict classes 0, 1, 2, 1, 0 (row 4 ties 0 and 2: argmax takes the first).
        let probabilities: [Float] = [0.8, 0.1, 0.1,
                                      0.2, 0.7, 0.1,
                                      0.1, 0.2, 0.7,
                                      0.3, 0.6, 0.1,
                                      0.4, 0.2, 0.4]
        let matrix = ConfusionMatrix(classNames: ["a", "b", "c"], labels: [0, 1, 2, 2, 2], probabilities: probabilities)
        XCTAssertEqual(matrix.counts, [[1, 0, 0], [0, 1, 0], [1, 1, 1]])
        XCTAssertEqual(matrix.total, 5)
        XCTAssertEqual(matrix.counts.map { $0.reduce(0, +) }, [1, 1, 3])
    }
}
