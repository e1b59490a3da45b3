import Foundation
import GRDB
import XCTest
@testable import Storage

final class TaskTransitionsTests: XCTestCase {
    func testInsertingTwiceKeepsOneRowAndItsState() throws {
        try forEachDatabase { database, label in
            let (_, tasks) = try seedTasks(database, count: 3)
            let attempt = try database.startAttempt(taskID: "task-0", worker: "w", host: "h", now: testDate)
            XCTAssertTrue(try database.completeTask(taskID: "task-0", attempt: attempt, predictions: []), label)
            XCTAssertEqual(try database.insertTasks(tasks), 0, label)
            XCTAssertEqual(try database.tasks().count, 3, label)
            XCTAssertEqual(try database.task(id: "task-0")?.state, .done, label)
        }
    }

    func testLifecycleStoresPredictionsBitIdentical() throws {
        try forEachDatabase { database, label in
            let (experimentID, _) = try seedTasks(database)
            let later = testDate.addingTimeInterval(60)
            let attempt = try database.startAttempt(taskID: "task-1", worker: "w1", host: "node-a", now: testDate)
            XCTAssertEqual(attempt, 1, label)
            XCTAssertEqual(try database.task(id: "task-1")?.state, .running, label)
            for epoch in 0..<2 {
                try database.recordEpoch(EpochMetricRecord(taskID: "task-1", attempt: 1, epoch: epoch,
                                                           trainLoss: 2.0 - Double(epoch), validationLoss: nil,
                                                           validationScore: 0.5, learningRate: 1e-3, seconds: 1.5))
            }
            let predictions = [awkwardPredictions(name: "swa", kind: .test), awkwardPredictions(name: "last", kind: .oof)]
            XCTAssertTrue(try database.completeTask(taskID: "task-1", attempt: 1, predictions: predictions,
                                                    scores: ["accuracy": 0.875], now: later), label)

            let task = try XCTUnwrap(database.task(id: "task-1"), label)
            XCTAssertEqual([task.state.rawValue, "\(task.attempts)"], ["done", "1"], label)
            XCTAssertEqual(task.updatedAt, later, label)
            let stored = try database.predictions(taskID: "task-1")
            XCTAssertEqual(stored.map(\.name), ["last", "swa"], "\(label): ordered by kind, then name")
            assertBitIdentical(stored[0], predictions[1], label)
            assertBitIdentical(stored[1], predictions[0], label)
            XCTAssertEqual(try database.epochs(taskID: "task-1").map(\.trainLoss), [2.0, 1.0], label)
            XCTAssertEqual(try database.attempts(taskID: "task-1"), [
                AttemptRecord(taskID: "task-1", attempt: 1, workerID: "w1", host: "node-a", startedAt: testDate,
                              finishedAt: later, outcome: .succeeded, message: nil),
            ], label)
            XCTAssertEqual(try database.scores(experimentID: experimentID),
                           [ScoreRecord(experimentID: experimentID, subject: "task-1", metric: "accuracy", value: 0.875)],
                           label)
        }
    }

    func testStaleAttemptAndDuplicateCompletionAreIgnored() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            let first = try database.startAttempt(taskID: "task-0", worker: "w1", host: "h", now: testDate)
            XCTAssertTrue(try database.abandonAttempt(taskID: "task-0", attempt: first, message: "lease lost",
                                                      requeue: true), label)
            let second = try database.startAttempt(taskID: "task-0", worker: "w2", host: "h", now: testDate)
            XCTAssertEqual(second, 2, label)
            let late = [PredictionSet(name: "last", kind: .oof, shape: [1], values: [9])]
            XCTAssertFalse(try database.completeTask(taskID: "task-0", attempt: first, predictions: late), label)
            XCTAssertFalse(try database.failAttempt(taskID: "task-0", attempt: first, message: "late", requeue: true),
                           label)
            XCTAssertEqual(try database.predictions(taskID: "task-0"), [], "\(label): a stale result stores nothing")
            XCTAssertEqual(try database.task(id: "task-0")?.state, .running, label)

            let result = [awkwardPredictions()]
            XCTAssertTrue(try database.completeTask(taskID: "task-0", attempt: second, predictions: result), label)
            XCTAssertFalse(try database.completeTask(taskID: "task-0", attempt: second, predictions: late), label)
            let stored = try database.predictions(taskID: "task-0")
            XCTAssertEqual(stored.count, 1, label)
            assertBitIdentical(stored[0], result[0], label)
            XCTAssertEqual(try database.attempts(taskID: "task-0").map(\.outcome), [.abandoned, .succeeded], label)
        }
    }

    func testFailAttemptRequeuesOrGivesUp() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            let first = try database.startAttempt(taskID: "task-0", worker: "w", host: "h", now: testDate)
            XCTAssertTrue(try database.failAttempt(taskID: "task-0", attempt: first, message: "out of memory",
                                                   requeue: true, now: testDate), label)
            XCTAssertEqual(try database.task(id: "task-0")?.state, .queued, label)
            let second = try database.startAttempt(taskID: "task-0", worker: "w", host: "h", now: testDate)
            XCTAssertTrue(try database.failAttempt(taskID: "task-0", attempt: second, message: "out of memory again",
                                                   requeue: false, now: testDate), label)
            XCTAssertEqual(try database.task(id: "task-0")?.state, .failed, label)
            XCTAssertEqual(try database.task(id: "task-0")?.attempts, 2, label)
            let attempts = try database.attempts(taskID: "task-0")
            XCTAssertEqual(attempts.map(\.outcome), [.failed, .failed], label)
            XCTAssertEqual(attempts.map(\.message), ["out of memory", "out of memory again"], label)
            XCTAssertEqual(attempts.map(\.finishedAt), [testDate, testDate], label)

            let other = try database.startAttempt(taskID: "task-1", worker: "w", host: "h", now: testDate)
            XCTAssertTrue(try database.abandonAttempt(taskID: "task-1", attempt: other, message: "worker vanished",
                                                      requeue: false), label)
            XCTAssertEqual(try database.task(id: "task-1")?.state, .abandoned, label)
            XCTAssertEqual(try database.counts()[.queued], 1, label)
        }
    }

    func testStartingAnythingButAQueuedTaskIsRefused() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            _ = try database.startAttempt(taskID: "task-0", worker: "w", host: "h")
            XCTAssertThrowsError(try database.startAttempt(taskID: "task-0", worker: "w", host: "h"), label) { error in
                XCTAssertEqual(error as? StorageError, .taskNotQueued(taskID: "task-0", state: .running), label)
            }
            XCTAssertThrowsError(try database.startAttempt(taskID: "nope", worker: "w", host: "h"), label) { error in
                XCTAssertEqual(error as? StorageError, .taskNotFound(taskID: "nope"), label)
            }
            XCTAssertThrowsError(try database.completeTask(taskID: "nope", attempt: 1, predictions: []), label)
        }
    }

    func testRequeueRunningReturnsOnlyRunningTasksToTheQueue() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database, count: 3)
            let done = try database.startAttempt(taskID: "task-0", worker: "w", host: "h")
            XCTAssertTrue(try database.completeTask(taskID: "task-0", attempt: done, predictions: []), label)
            _ = try database.startAttempt(taskID: "task-1", worker: "w", host: "h")
            _ = try database.startAttempt(taskID: "task-2", worker: "w", host: "h")
            XCTAssertEqual(try database.requeueRunning(now: testDate), 2, label)
            XCTAssertEqual(try database.counts(), [.queued: 2, .running: 0, .done: 1, .failed: 0, .abandoned: 0], label)
            let attempt = try XCTUnwrap(database.attempts(taskID: "task-1").first, label)
            XCTAssertEqual(attempt.outcome, .abandoned, label)
            XCTAssertEqual(attempt.message, "coordinator restarted", label)
            XCTAssertEqual(try database.startAttempt(taskID: "task-1", worker: "w", host: "h"), 2, label)
            XCTAssertEqual(try database.requeueRunning(), 1, label)
        }
    }

    func testCorruptedBlobIsDetectedOnRead() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            let attempt = try database.startAttempt(taskID: "task-2", worker: "w", host: "h")
            XCTAssertTrue(try database.completeTask(taskID: "task-2", attempt: attempt,
                                                    predictions: [awkwardPredictions(name: "ema", kind: .test)]), label)
            try database.writer.write { db in
                let blob = try XCTUnwrap(Data.fetchOne(db, sql: "SELECT scalars FROM predictionSet WHERE taskID = 'task-2'"))
                var bytes = [UInt8](blob)
                bytes[0] ^= 0x01
                try db.execute(sql: "UPDATE predictionSet SET scalars = ? WHERE taskID = 'task-2'", arguments: [Data(bytes)])
            }
            XCTAssertThrowsError(try database.predictions(taskID: "task-2"), label) { error in
                guard case .checksumMismatch(let taskID, let name, let kind, _, _) = error as? StorageError else {
                    return XCTFail("\(label): unexpected error \(error)")
                }
                XCTAssertEqual([taskID, name, kind.rawValue], ["task-2", "ema", "test"], label)
            }
        }
    }

    func testInvalidPredictionsLeaveTheTaskRunning() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            let attempt = try database.startAttempt(taskID: "task-0", worker: "w", host: "h")
            let misfit = PredictionSet(name: "last", kind: .oof, shape: [2, 2], values: [1, 2, 3])
            XCTAssertThrowsError(try database.completeTask(taskID: "task-0", attempt: attempt, predictions: [misfit]),
                                 label)
            let twice = [awkwardPredictions(), awkwardPredictions()]
            XCTAssertThrowsError(try database.completeTask(taskID: "task-0", attempt: attempt, predictions: twice),
                                 label) { error in
                XCTAssertEqual(error as? StorageError,
                               .duplicatePredictionSet(taskID: "task-0", name: "last", kind: .oof), label)
            }
            XCTAssertEqual(try database.task(id: "task-0")?.state, .running, label)
            XCTAssertEqual(try database.predictions(taskID: "task-0"), [], label)
        }
    }

    func testValidationRowsAreStoredWithTheResultAndReadBackExactly() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            let attempt = try database.startAttempt(taskID: "task-0", worker: "w", host: "h", now: testDate)
            let rows = [0, 7, 1 << 40, 3]   // 2^40 is not exact in Float32
            XCTAssertTrue(try database.completeTask(taskID: "task-0", attempt: attempt, predictions: [],
                                                    validationRows: rows, now: testDate), label)
            XCTAssertEqual(try database.validationRows(taskID: "task-0"), rows, label)
            XCTAssertNil(try database.validationRows(taskID: "task-1"), label)
        }
    }

    func testRequeueGivenUpReturnsFailedAndAbandonedTasksOnly() throws {
        try forEachDatabase { database, label in
            let (experimentID, _) = try seedTasks(database)
            let failed = try database.startAttempt(taskID: "task-0", worker: "w", host: "h", now: testDate)
            try database.failAttempt(taskID: "task-0", attempt: failed, message: "boom", requeue: false, now: testDate)
            let lost = try database.startAttempt(taskID: "task-1", worker: "w", host: "h", now: testDate)
            try database.abandonAttempt(taskID: "task-1", attempt: lost, message: "gone", requeue: false, now: testDate)
            let done = try database.startAttempt(taskID: "task-2", worker: "w", host: "h", now: testDate)
            try database.completeTask(taskID: "task-2", attempt: done, predictions: [], now: testDate)
            XCTAssertEqual(try database.requeueGivenUp(experimentID: experimentID), 2, label)
            XCTAssertEqual(try database.tasks().map(\.state), [.queued, .queued, .done], label)
            // The attempt count carries on, so the next attempt gets a new number.
            XCTAssertEqual(try database.startAttempt(taskID: "task-0", worker: "w", host: "h", now: testDate), 2, label)
        }
    }

    func testAComputedTaskIsStoredDoneAndReplacedWhenComputedAgain() throws {
        try forEachDatabase { database, label in
            let (experimentID, _) = try seedTasks(database)
            let task = TaskRecord(id: "blend-mean", experimentID: experimentID, stage: "level2", model: "blend-mean",
                                  seed: 0, fold: 0, round: 0, updatedAt: testDate)
            let oof = PredictionSet(name: "ensemble", kind: .oof, shape: [2, 2], values: [0.5, 0.5, 0.25, 0.75])
            let score = ScoreRecord(experimentID: experimentID, subject: "blend/mean", metric: "oof:accuracy", value: 0.5)
            let output = StageOutputRecord(experimentID: experimentID, stage: "level2", name: "blend/weights",
                                           json: #"{"a":1}"#, createdAt: testDate)
            let stale = PredictionSet(name: "ensemble", kind: .oof, shape: [2, 2], values: [1, 0, 1, 0])
            try database.storeComputedTask(task, worker: "coordinator", predictions: [stale], now: testDate)
            try database.storeComputedTask(task, worker: "coordinator", predictions: [oof], scores: [score],
                                           outputs: [output], now: testDate)
            XCTAssertEqual(try database.task(id: "blend-mean")?.state, .done, label)
            XCTAssertEqual(try database.attempts(taskID: "blend-mean").map(\.outcome), [.succeeded, .succeeded], label)
            XCTAssertEqual(try database.predictions(taskID: "blend-mean"), [oof], label)
            XCTAssertTrue(try database.scores(experimentID: experimentID).contains(score), label)
            XCTAssertEqual(try database.stageOutputs(experimentID: experimentID, stage: "level2"), [output], label)
        }
    }
}
