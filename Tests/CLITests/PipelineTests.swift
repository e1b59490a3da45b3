import Foundation
import TestSupport
import XCTest

/// The whole pipeline from one manifest through real processes: base models
/// with SWA, blends and stackers, a pseudo-label round, a distilled student,
/// level 2 again, the submission and the report; run again, nothing is retrained.
final class PipelineTests: XCTestCase {
    func testEveryStageRunsThroughTheWorkersAndARerunResumesWithoutTraining() throws {
        let dataset = try TemporaryDataset.digits(perClass: 6, testRows: 20)
        defer { dataset.remove() }
        let yaml = dataset.manifestYAML(epochs: "2", modelLines: ["swa: {start_epoch: 2, lr: 1e-3}"]) + """
            ensemble:
              blends: [mean, hillclimb]
              stackers: [logistic, xgboost]
              pseudo_label: {rounds: 1, threshold: 0.01, max_fraction: 0.5, models: [tiny]}
              distill: {teacher: best, student: tiny, temperature: 2, alpha: 0.5}

            """
        let manifest = try dataset.writeManifest(yaml)
        let dir = dataset.url("experiment")
        let arguments = ["run", manifest.path, "--workers", "2", "--threads", "1", "--dir", dir.path, "--json"]
        let first = try FoldwiseProcess.run(arguments, timeout: 240)
        assertSucceeded(first)

        // Base (2 folds), pseudo-label round 1 (2 folds), student (2 folds): each task trained once.
        let attempts = try AttemptRow.all(in: dir).filter { $0.worker != "coordinator" }
        XCTAssertEqual(attempts.count, 6, "\(attempts)")
        XCTAssertTrue(attempts.allSatisfy { $0.outcome == "succeeded" && $0.attempt == 1 }, "\(attempts)")
        let stages = try AttemptRow.query(dir, "SELECT DISTINCT substr(stage, 1, 7) FROM task ORDER BY 1").map { $0[0] }
        XCTAssertEqual(stages, ["base", "distill", "pseudo-"], "level-2 results are not tasks")

        // Pseudo rows per (seed, fold) block: half of the 20 test rows (a threshold of 0.01 takes all, clamped to max_fraction).
        struct Selection: Decodable { struct Block: Decodable { var fold: Int; var rows: [Int] }; var blocks: [Block] }
        let round = try AttemptRow.query(dir, "SELECT json FROM stageOutput WHERE stage LIKE 'pseudo-%' AND name = 'round-1'")
        let selection = try JSONDecoder().decode(Selection.self, from: Data(try XCTUnwrap(round.first?.first).utf8))
        XCTAssertEqual(selection.blocks.map(\.fold), [0, 1])
        XCTAssertEqual(selection.blocks.map(\.rows.count), [10, 10])
        // The student learned from the best result of that moment, recorded with the run.
        XCTAssertEqual(try AttemptRow.query(dir, "SELECT count(*) FROM stageOutput WHERE stage LIKE 'distill-%' AND name = 'teacher'").first,
                       ["1"])

        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertTrue(status.integrityOk)
        let subjects = Set(status.scores.filter { $0.metric == "oof:accuracy" }.map(\.set))
        for subject in ["tiny/last", "tiny/swa", "tiny+pl1/last", "tiny+kd/last", "blend/mean", "blend/hillclimb",
                        "stack/logistic", "stack/xgboost"] {
            XCTAssertTrue(subjects.contains(subject), "\(subject) is not scored: \(subjects.sorted())")
        }
        // The submission follows the sample's ids and columns; the report is written.
        let submission = try String(contentsOf: dir.appendingPathComponent("submission.csv"), encoding: .utf8)
        let sample = try String(contentsOf: dataset.sampleSubmission, encoding: .utf8)
        XCTAssertEqual(submission.split(separator: "\n").map { $0.split(separator: ",")[0] },
                       sample.split(separator: "\n").map { $0.split(separator: ",")[0] })
        XCTAssertTrue(first.stdout.contains("submission: \(dir.appendingPathComponent("submission.csv").path)"), first.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.html").path))

        // A second run resumes at the end: no task is trained again and the choice is the same.
        let second = try FoldwiseProcess.run(arguments, timeout: 120)
        assertSucceeded(second)
        XCTAssertEqual(try AttemptRow.all(in: dir).filter { $0.worker != "coordinator" }, attempts)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("submission.csv"), encoding: .utf8), submission)
    }
}
