import Foundation
import TestSupport
import XCTest

/// `foldwise report` on a real experiment (a tiny `foldwise run`) and on a folder without one.
final class ReportCommandTests: XCTestCase {
    func testReportPrintsTheLeaderboardAndWritesOneSelfContainedPage() throws {
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML())
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
        // tiny/last is the only scored subject, so it is first, a base set and the final ensemble.
        let row = try XCTUnwrap(lines.dropFirst(2).first).split(separator: " ").map(String.init)
        XCTAssertEqual(row.count, 6, result.transcript)
        XCTAssertEqual(Array(row.prefix(3)), ["1", "tiny/last", "base"])
        XCTAssertEqual(row.last, "*")
        XCTAssertEqual(lines.last, "report: \(page.path)")

        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<td>tiny/last</td>"))
        // The score bars, a learning curve per fold, and the confusion matrix of tiny/last over every train row.
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1 + 2 + 1, html)
        XCTAssertTrue(html.contains("tiny/last over \(dataset.trainIDs.count) OOF rows"), html)
        XCTAssertFalse(html.lowercased().contains("<script"))

        // A blend as the level-2 stage stores it (score and weights), ranked last so tiny/last stays the final choice.
        let database = dir.appendingPathComponent("experiment.sqlite")
        let experiment = "(SELECT id FROM experiment LIMIT 1)"
        try sqlite(database, """
            INSERT INTO score (experimentID, subject, metric, value) VALUES (\(experiment), 'blend/mean', 'oof:accuracy', 0);
            INSERT INTO stageOutput (experimentID, stage, name, json, createdAt)
                VALUES (\(experiment), 'level2', 'blend/mean', '{"weights": {"tiny/last": 1}}', '2025-01-01 00:00:00.000');
            """)
        let blended = try FoldwiseProcess.run(["report", dir.path], in: dataset.directory)
        assertSucceeded(blended)
        let secondRow = blended.stdout.split(separator: "\n").dropFirst(3).first?.split(separator: " ").map(String.init)
        XCTAssertEqual(secondRow, ["2", "blend/mean", "blend", "0.0000", "-"], blended.transcript)
        let blendedHTML = try String(contentsOf: page, encoding: .utf8)
        XCTAssertEqual(blendedHTML.components(separatedBy: "<svg").count - 1, 1 + 2 + 1 + 1)
        XCTAssertTrue(blendedHTML.contains("aria-label=\"weights of blend/mean\""))

        try sqlite(database, "DELETE FROM score;")
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
