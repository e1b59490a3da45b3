import Foundation
import GRDB
import XCTest
@testable import Storage

/// Holds a value written by another thread.
private final class SharedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    var value: Value? { lock.withLock { stored } }
    func set(_ value: Value?) { lock.withLock { stored = value } }
}

final class ExperimentDatabaseTests: XCTestCase {
    func testRegisterExperimentIsIdempotentPerHash() throws {
        try forEachDatabase { database, label in
            let first = try database.registerExperiment(name: "a", manifestJSON: "{}", hash: "h1",
                                                        dataFingerprint: "d", now: testDate)
            let again = try database.registerExperiment(name: "renamed", manifestJSON: "{}", hash: "h1",
                                                        dataFingerprint: "d", now: testDate)
            let other = try database.registerExperiment(name: "b", manifestJSON: "{\"b\":1}", hash: "h2",
                                                        dataFingerprint: "d", now: testDate)
            XCTAssertEqual(first, again, label)
            XCTAssertNotEqual(first, other, label)
            let stored = try XCTUnwrap(database.experiment(hash: "h1"), label)
            XCTAssertEqual(stored, ExperimentRecord(id: first, name: "a", manifestJSON: "{}", manifestHash: "h1",
                                                    dataFingerprint: "d", createdAt: testDate), label)
            XCTAssertEqual(try database.experiments().map(\.manifestHash), ["h1", "h2"], label)
            // Settings outside the hash (ensemble, cluster) follow the latest registration.
            _ = try database.registerExperiment(name: "a", manifestJSON: "{\"ensemble\":1}", hash: "h1", dataFingerprint: "d")
            XCTAssertEqual(try database.experiment(hash: "h1")?.manifestJSON, "{\"ensemble\":1}", label)
        }
    }

    func testSameManifestOnOtherDataIsRefused() throws {
        try forEachDatabase { database, label in
            _ = try database.registerExperiment(name: "a", manifestJSON: "{}", hash: "h", dataFingerprint: "d1")
            XCTAssertThrowsError(try database.registerExperiment(name: "a", manifestJSON: "{}", hash: "h",
                                                                 dataFingerprint: "d2"), label) { error in
                XCTAssertEqual(error as? StorageError,
                               .experimentDataMismatch(hash: "h", recorded: "d1", given: "d2"), label)
            }
        }
    }

    func testTasksFilterAndCounts() throws {
        try forEachDatabase { database, label in
            let (experimentID, tasks) = try seedTasks(database, count: 4)
            _ = try database.startAttempt(taskID: "task-1", worker: "w", host: "h", now: testDate)
            XCTAssertEqual(try database.tasks().map(\.id), tasks.map(\.id), label)
            XCTAssertEqual(try database.tasks(state: .running).map(\.id), ["task-1"], label)
            XCTAssertEqual(try database.tasks(experimentID: experimentID + 1), [], label)
            XCTAssertEqual(try database.task(id: "task-2"), tasks[2], label)
            XCTAssertNil(try database.task(id: "missing"), label)
            let counts = try database.counts()
            XCTAssertEqual(counts, [.queued: 3, .running: 1, .done: 0, .failed: 0, .abandoned: 0], label)
            XCTAssertEqual(try database.counts(experimentID: experimentID), counts, label)
            XCTAssertEqual(try database.counts(experimentID: experimentID + 1)[.queued], 0, label)
        }
    }

    func testScoresAreRecordedAndReplaced() throws {
        try forEachDatabase { database, label in
            let (experimentID, _) = try seedTasks(database, count: 1)
            try database.recordScore(ScoreRecord(experimentID: experimentID, subject: "last", metric: "accuracy", value: 0.9))
            try database.recordScore(ScoreRecord(experimentID: experimentID, subject: "last", metric: "accuracy", value: 0.95))
            XCTAssertEqual(try database.scores(experimentID: experimentID),
                           [ScoreRecord(experimentID: experimentID, subject: "last", metric: "accuracy", value: 0.95)], label)
        }
    }

    func testIntegrityCheckPasses() throws {
        try forEachDatabase { database, label in
            _ = try seedTasks(database)
            XCTAssertTrue(try database.integrityCheck(), label)
        }
    }

    func testFileIsWALWithFullSynchronousWrites() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try ExperimentDatabase.open(at: folder.appendingPathComponent("sub/experiment.sqlite"))
        let (journal, synchronous) = try database.writer.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        XCTAssertEqual(journal, "wal")
        XCTAssertEqual(synchronous, 2, "synchronous must be FULL (2)")
        XCTAssertTrue(database.writer is DatabasePool)
        XCTAssertEqual(database.path, folder.appendingPathComponent("sub/experiment.sqlite").path)
    }

    /// Everything written by one instance is seen by the next: the restarted-coordinator path.
    func testReopenedFileSeesEverything() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("experiment.sqlite")
        let predictions = [awkwardPredictions(), awkwardPredictions(name: "last", kind: .test)]
        do {
            let database = try ExperimentDatabase.open(at: url)
            _ = try seedTasks(database)
            let attempt = try database.startAttempt(taskID: "task-0", worker: "w1", host: "laptop", now: testDate)
            try database.recordEpoch(EpochMetricRecord(taskID: "task-0", attempt: attempt, epoch: 0, trainLoss: 1.5,
                                                       validationLoss: 1.2, validationScore: 0.6,
                                                       learningRate: 3e-4, seconds: 2))
            XCTAssertTrue(try database.completeTask(taskID: "task-0", attempt: attempt, predictions: predictions,
                                                    scores: ["accuracy": 0.75], now: testDate))
            _ = try database.startAttempt(taskID: "task-1", worker: "w2", host: "laptop", now: testDate)
        }
        let reopened = try ExperimentDatabase.open(at: url)
        XCTAssertEqual(try reopened.counts(), [.queued: 1, .running: 1, .done: 1, .failed: 0, .abandoned: 0])
        let stored = try reopened.predictions(taskID: "task-0")
        XCTAssertEqual(stored.count, 2)
        for (actual, expected) in zip(stored, predictions) { assertBitIdentical(actual, expected, "reopened") }
        XCTAssertEqual(try reopened.epochs(taskID: "task-0").map(\.trainLoss), [1.5])
        XCTAssertEqual(try reopened.attempts(taskID: "task-1").map(\.workerID), ["w2"])
        XCTAssertEqual(try reopened.scores(experimentID: 1).map(\.value), [0.75])
        XCTAssertEqual(try reopened.insertTasks(reopened.tasks()), 0)
        XCTAssertTrue(try reopened.integrityCheck())
    }

    /// In WAL mode a reader sees the last commit while a write transaction is still open.
    func testReaderIsNotBlockedByAnOpenWriteTransaction() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try ExperimentDatabase.open(at: folder.appendingPathComponent("experiment.sqlite"))
        _ = try seedTasks(database, count: 2)
        let seen = SharedBox<Int>()
        try database.writer.write { db in
            try db.execute(sql: "UPDATE task SET state = 'done'")
            let finished = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                seen.set(try? database.counts()[.queued])
                finished.signal()
            }
            XCTAssertEqual(finished.wait(timeout: .now() + 10), .success, "reader waited for the writer")
        }
        XCTAssertEqual(seen.value, 2, "the reader must see the last committed state")
        XCTAssertEqual(try database.counts()[.done], 2)
    }

    func testReadsRunWhileAnotherThreadWrites() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try ExperimentDatabase.open(at: folder.appendingPathComponent("experiment.sqlite"))
        let (experimentID, _) = try seedTasks(database, count: 0)
        let observed = SharedBox<[Int]>()
        let taskCount = 40
        DispatchQueue.concurrentPerform(iterations: 2) { role in
            if role == 0 {
                for index in 0..<taskCount {
                    let task = TaskRecord(id: "t\(index)", experimentID: experimentID, stage: "train",
                                          model: "m", seed: 0, fold: index, round: 0)
                    _ = try? database.insertTasks([task])
                }
            } else {
                var totals = [Int]()
                for _ in 0..<taskCount {
                    totals.append((try? database.counts()[.queued]) ?? -1)
                }
                observed.set(totals)
            }
        }
        let totals = try XCTUnwrap(observed.value)
        XCTAssertFalse(totals.contains(-1), "a read failed")
        XCTAssertEqual(totals, totals.sorted(), "reads must only ever see whole commits, in order")
        XCTAssertEqual(try database.counts()[.queued], taskCount)
    }
}
