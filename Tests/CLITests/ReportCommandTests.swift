import Foundation
import TestSupport
import XCTest

/// `foldwise report` on a real experiment (a tiny `foldwise run`) and on a folder without one.
final class ReportCommandTests: XCTestCase {
    func testReportPrintsTheLeaderboardAndWritesOneSelfContainedPage() throws {
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML() + "ensemble: {blends: [mean], stackers: []}\n")
        let dir = dataset.url("experiment")
        assertSucceeded(try FoldwiseProcess.run(["run", manifest.path, "--workers", "1", "--threads", "1", "--dir", dir.path],
                                                in: dataset.directory, timeout: 120))

        let result = try FoldwiseProcess.run(["report", dir.path], in: dataset.directory)
        assertSucceeded(result)
        let page = dir.appendingPathComponent("report.html")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "experiment tiny: OOF accuracy, higher is better; * = final ensemble", result.transcript)
        XCTAssertEqual(lines.dropFirst().first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init),
                       ["#", "subject", "kind", "oof", "accuracy", "test", "accuracy"], result.transcript)
        // The mean of one set scores as that set: the tie goes to the simpler result, tiny/last, the final ensemble.
        let row = try XCTUnwrap(lines.dropFirst(2).first).split(separator: " ").map(String.init)
        XCTAssertEqual(row.count, 6, result.transcript)
        XCTAssertEqual(Array(row.prefix(3)), ["1", "tiny/last", "base"])
        XCTAssertEqual(row.last, "*")
        let secondRow = try XCTUnwrap(lines.dropFirst(3).first).split(separator: " ").map(String.init)
        XCTAssertEqual(Array(secondRow.prefix(3)), ["2", "blend/mean", "blend"], result.transcript)
        XCTAssertEqual(secondRow[3], row[3], "equal scores")
        XCTAssertEqual(lines.last, "report: \(page.path)")

        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<td>tiny/last</td>"))
        // The score bars, a learning curve per fold, the blend's weights and the confusion matrix of tiny/last over every train row.
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1 + 2 + 1 + 1, html)
        XCTAssertTrue(html.contains("tiny/last over \(dataset.trainIDs.count) OOF rows"), html)
        XCTAssertTrue(html.contains("aria-label=\"weights of blend/mean\""))
        XCTAssertFalse(html.lowercased().contains("<script"))

        let database = dir.appendingPathComponent("experiment.sqlite")
        try sqlite(database, "DELETE FROM score; DELETE FROM predictionSet; DELETE FROM resultPrediction;")
        assertBadInput(try FoldwiseProcess.run(["report", dir.path], in: dataset.directory), mentions: ["scored yet", dir.path])
    }

    func testReportOnAFolderWithoutAnExperimentIsBadInput() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        assertBadInput(try FoldwiseProcess.run(["report", empty.path]), mentions: [empty.path, "experiment.sqlite"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: empty.appendingPathComponent("report.html").path))
    }

    /// Runs SQL on the experiment database with the sqlite3 shell (CLI tests cannot link Storage).
    func sqlite(_ database: URL, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [database.path, sql]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "sqlite3 \(sql)")
    }
}
