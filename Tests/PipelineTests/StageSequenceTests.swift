import Ensemble
import Foundation
import Storage
import TestSupport
import XCTest
@testable import Pipeline

/// The stage sequence without processes: base models, a pseudo-label round,
/// a distilled student and level 2, run by `InProcessRunner`.
final class StageSequenceTests: XCTestCase {
    static func yaml(_ harness: PipelineHarness, blends: String = "[mean, weights]", stackers: String = "[logistic]",
                     threshold: String = "0.01") -> String {
        harness.dataset.manifestYAML(epochs: "2") + """
            ensemble:
              blends: \(blends)
              stackers: \(stackers)
              pseudo_label: {rounds: 1, threshold: \(threshold), max_fraction: 0.5, models: [tiny]}
              distill: {teacher: best, student: tiny, temperature: 2, alpha: 0.5}

            """
    }

    func testEveryStageRunsWithPerFoldInputsAndIsRecorded() throws {
        let harness = try PipelineHarness()
        defer { harness.remove() }
        let pipeline = try harness.run(Self.yaml(harness))
        let tasks = try pipeline.database.tasks(experimentID: pipeline.experimentID)
        XCTAssertEqual(tasks.count, 6, "base, round 1 and the student, 2 folds each")
        XCTAssertTrue(tasks.allSatisfy { $0.state == .done && $0.attempts == 1 })
        let stages = pipeline.stages
        XCTAssertEqual(stages.map(\.stage), [.base, .pseudoLabel(round: 1), .distillation])

        // One selection per (seed, fold) block, each half of the 20 test rows (max_fraction).
        let selection = try XCTUnwrap(try pipeline.database.output(PseudoLabelSelection.self, at: .pseudoLabels(stages[1]),
                                                                   experimentID: pipeline.experimentID))
        XCTAssertEqual(selection.blocks.map { [$0.seed, $0.fold] }, [[0, 0], [0, 1]])
        XCTAssertTrue(selection.blocks.allSatisfy { $0.rows.count == 10 })
        XCTAssertTrue(selection.blocks.allSatisfy { $0.source != "blend/rank" })
        let teachers = try XCTUnwrap(try pipeline.database.output(TeacherChoice.self, at: .teacher(stages[2]), experimentID: pipeline.experimentID))
        XCTAssertEqual(teachers.blocks.map { [$0.seed, $0.fold] }, [[0, 0], [0, 1]])

        let catalog = try pipeline.evaluate().catalog
        XCTAssertEqual(catalog.subjects.map(\.name), ["tiny/last", "tiny+pl1/last", "tiny+kd/last", "blend/mean", "blend/weights",
                                                      "stack/logistic"])
        let summary = try pipeline.finish()
        XCTAssertNotNil(summary.submission)
        XCTAssertTrue(FileManager.default.fileExists(atPath: harness.directory.file("report.html").path))
    }

    func testABlockTeachesOnlyWithModelsThatHeldItOut() throws {
        let harness = try PipelineHarness()
        defer { harness.remove() }
        let pipeline = try harness.run(harness.dataset.manifestYAML() + "ensemble: {blends: [mean], stackers: [logistic]}\n")
        let catalog = try pipeline.evaluate().catalog
        let set = try XCTUnwrap(catalog.base.first)
        // A base set's block is exactly the fold model's own test predictions, not the fold average.
        for fold in 0..<2 {
            let block = try catalog.blockTest(set.subject, block: Block(seed: 0, fold: fold))
            XCTAssertEqual(block, set.bySeed[0].foldTests[fold].scalars)
        }
        XCTAssertNotEqual(try catalog.blockTest(set.subject, block: Block(seed: 0, fold: 0)), set.test.scalars)
        // A level-2 block is its learner fitted outside the block, applied to that block's models.
        let block = try catalog.blockTest(.level2(.mean), block: Block(seed: 0, fold: 1))
        XCTAssertEqual(block, set.bySeed[0].foldTests[1].scalars)
        XCTAssertThrowsError(try catalog.blockTest(.level2(.rank), block: Block(seed: 0, fold: 0)))
    }

    func testChangingOnlyBlendsOrStackersTrainsNothingAndKeepsOtherScores() throws {
        let harness = try PipelineHarness()
        defer { harness.remove() }
        let first = try harness.run(Self.yaml(harness))
        try first.evaluate()
        let (attempts, scores) = (try harness.attempts(first), try harness.scores(first))
        let second = try harness.run(Self.yaml(harness, blends: "[mean, hillclimb]", stackers: "[xgboost]"))
        XCTAssertEqual(try harness.attempts(second), attempts, "no task trains again")
        _ = try second.evaluate()
        let after = try harness.scores(second)
        for (key, value) in scores where !key.hasPrefix("blend/weights") && !key.hasPrefix("stack/logistic") {
            XCTAssertEqual(after[key], value, key)
        }
        // Results the manifest no longer asks for are not subjects, so nothing can choose them.
        let catalog = try second.evaluate().catalog
        XCTAssertNil(catalog.subject(named: "blend/weights"))
        XCTAssertFalse(try catalog.leaderboard().contains { $0.subject.name == "stack/logistic" })
    }

    func testChangingThePseudoLabelSettingsRerunsThatRoundAndWhatFollowsOnly() throws {
        let harness = try PipelineHarness()
        defer { harness.remove() }
        let first = try harness.run(Self.yaml(harness))
        let before = try first.database.tasks(experimentID: first.experimentID)
        let second = try harness.run(Self.yaml(harness, threshold: "0.02"))
        let after = try second.database.tasks(experimentID: second.experimentID)
        XCTAssertEqual(after.count, before.count + 4, "a new round and a new student, 2 folds each")
        for task in before { XCTAssertEqual(after.first { $0.id == task.id }?.attempts, task.attempts, "\(task.stage) trained again") }
        let stages = second.stages
        let later = stages.dropFirst()
        for task in before where task.stage != "base" {
            XCTAssertFalse(later.contains { $0.owns(storageName: task.stage, round: task.round) }, "\(task.stage) belongs to other settings")
        }
        XCTAssertEqual(try second.evaluate().catalog.base.count, 3, "one set per current stage, never the old settings' ones")
    }
}
