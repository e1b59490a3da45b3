import Foundation
import GRDB

/// Task state changes. Each is one transaction, and each that can arrive late
/// from the network (a result, a failure) names its attempt and is ignored
/// (returns false) unless that attempt is the task's current running one.
extension ExperimentDatabase {
    /// Inserts the tasks not already present and returns how many were new;
    /// tasks already present keep their state, so a re-run skips finished work.
    @discardableResult
    public func insertTasks(_ tasks: [TaskRecord]) throws -> Int {
        try writer.write { db in
            var inserted = 0
            for task in tasks {
                try task.insert(db, onConflict: .ignore)
                inserted += db.changesCount
            }
            return inserted
        }
    }

    /// Moves a queued task to running and opens its next attempt; returns the attempt number.
    public func startAttempt(taskID: String, worker: String, host: String, now: Date = Date()) throws -> Int {
        try writer.write { db in
            var task = try Self.requireTask(taskID, db)
            guard task.state == .queued else {
                throw StorageError.taskNotQueued(taskID: taskID, state: task.state)
            }
            task.attempts += 1
            task.state = .running
            task.updatedAt = now
            try task.update(db)
            try AttemptRecord(taskID: taskID, attempt: task.attempts, workerID: worker, host: host,
                              startedAt: now, finishedAt: nil, outcome: .running, message: nil).insert(db)
            return task.attempts
        }
    }

    /// Stores (or replaces, when progress is re-sent) one epoch's metrics of an attempt.
    public func recordEpoch(_ metric: EpochMetricRecord) throws {
        try writer.write { db in try metric.insert(db, onConflict: .replace) }
    }

    /// Stores the predictions and scores and marks the task done, all in one
    /// transaction: a task is never done without its predictions. Returns
    /// false (storing nothing) for a stale attempt or an already finished task.
    @discardableResult
    public func completeTask(taskID: String, attempt: Int, predictions: [PredictionSet],
                             validationRows: [Int]? = nil, scores: [String: Double] = [:],
                             now: Date = Date()) throws -> Bool {
        let records = try Self.predictionRecords(taskID: taskID, predictions)
        let rows = validationRows.map { ValidationRowsRecord(taskID: taskID, rows: $0) }
        return try writer.write { db in
            var task = try Self.requireTask(taskID, db)
            guard task.state == .running, task.attempts == attempt else { return false }
            for record in records { try record.insert(db) }
            try rows?.insert(db, onConflict: .replace)
            for (metric, value) in scores {
                try ScoreRecord(experimentID: task.experimentID, subject: taskID, metric: metric, value: value)
                    .insert(db, onConflict: .replace)
            }
            try Self.closeAttempt(taskID: taskID, attempt: attempt, outcome: .succeeded, message: nil, now: now, db)
            task.state = .done
            task.updatedAt = now
            try task.update(db)
            return true
        }
    }

    /// The worker reported an error: the task goes back to the queue, or to
    /// `failed` when the caller has no attempts left. False for a stale attempt.
    @discardableResult
    public func failAttempt(taskID: String, attempt: Int, message: String, requeue: Bool,
                            now: Date = Date()) throws -> Bool {
        try endAttempt(taskID: taskID, attempt: attempt, outcome: .failed, message: message,
                       nextState: requeue ? .queued : .failed, now: now)
    }

    /// The worker vanished (lost lease): the task goes back to the queue, or to
    /// `abandoned` when the caller has no attempts left. False for a stale attempt.
    @discardableResult
    public func abandonAttempt(taskID: String, attempt: Int, message: String, requeue: Bool,
                               now: Date = Date()) throws -> Bool {
        try endAttempt(taskID: taskID, attempt: attempt, outcome: .abandoned, message: message,
                       nextState: requeue ? .queued : .abandoned, now: now)
    }

    /// The worker stopped and returned the task untouched: it goes back to the
    /// queue and the attempt ends `handedBack`. False for a stale attempt.
    @discardableResult
    public func handBackAttempt(taskID: String, attempt: Int, message: String, now: Date = Date()) throws -> Bool {
        try endAttempt(taskID: taskID, attempt: attempt, outcome: .handedBack, message: message, nextState: .queued, now: now)
    }

    /// Every running task returns to the queue, its open attempt closed with
    /// `outcome`: `abandoned` for a restarted coordinator (its workers vanished),
    /// `handedBack` for one that is stopping. Returns how many were requeued.
    @discardableResult
    public func requeueRunning(message: String = "coordinator restarted", outcome: AttemptOutcome = .abandoned,
                               now: Date = Date()) throws -> Int {
        try writer.write { db in
            let running = try TaskRecord.filter(Column("state") == TaskState.running).fetchAll(db)
            for var task in running {
                try Self.closeAttempt(taskID: task.id, attempt: task.attempts, outcome: outcome,
                                      message: message, now: now, db)
                task.state = .queued
                task.updatedAt = now
                try task.update(db)
            }
            return running.count
        }
    }

    /// A task the coordinator computes itself (a blend, a stacker): inserted
    /// or, when computed before, replaced (a new succeeded attempt by `worker`,
    /// its predictions, scores and stage outputs), all in one transaction.
    public func storeComputedTask(_ task: TaskRecord, worker: String, predictions: [PredictionSet],
                                  scores: [ScoreRecord] = [], outputs: [StageOutputRecord] = [],
                                  now: Date = Date()) throws {
        let records = try Self.predictionRecords(taskID: task.id, predictions)
        try writer.write { db in
            var record = task
            record.attempts = (try TaskRecord.fetchOne(db, key: task.id)?.attempts ?? 0) + 1
            record.state = .done
            record.updatedAt = now
            try record.save(db)
            try AttemptRecord(taskID: task.id, attempt: record.attempts, workerID: worker, host: "coordinator",
                              startedAt: now, finishedAt: now, outcome: .succeeded, message: nil).insert(db)
            try db.execute(sql: "DELETE FROM predictionSet WHERE taskID = ?", arguments: [task.id])
            for prediction in records { try prediction.insert(db) }
            for score in scores { try score.insert(db, onConflict: .replace) }
            for output in outputs { try output.insert(db, onConflict: .replace) }
        }
    }

    /// For a re-run: tasks that failed or were abandoned for good get a new
    /// round of attempts. Returns how many went back to the queue.
    @discardableResult
    public func requeueGivenUp(experimentID: Int64, now: Date = Date()) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "UPDATE task SET state = ?, updatedAt = ? WHERE experimentID = ? AND state IN (?, ?)",
                           arguments: [TaskState.queued, now, experimentID, TaskState.failed, TaskState.abandoned])
            return db.changesCount
        }
    }

    private func endAttempt(taskID: String, attempt: Int, outcome: AttemptOutcome, message: String,
                            nextState: TaskState, now: Date) throws -> Bool {
        try writer.write { db in
            var task = try Self.requireTask(taskID, db)
            guard task.state == .running, task.attempts == attempt else { return false }
            try Self.closeAttempt(taskID: taskID, attempt: attempt, outcome: outcome, message: message, now: now, db)
            task.state = nextState
            task.updatedAt = now
            try task.update(db)
            return true
        }
    }

    private static func requireTask(_ taskID: String, _ db: Database) throws -> TaskRecord {
        guard let task = try TaskRecord.fetchOne(db, key: taskID) else {
            throw StorageError.taskNotFound(taskID: taskID)
        }
        return task
    }

    private static func closeAttempt(taskID: String, attempt: Int, outcome: AttemptOutcome, message: String?,
                                     now: Date, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE attempt SET outcome = ?, message = ?, finishedAt = ? WHERE taskID = ? AND attempt = ?",
            arguments: [outcome, message, now, taskID, attempt])
    }

    /// Encodes outside the write transaction so the writer is held only for the inserts.
    private static func predictionRecords(taskID: String, _ predictions: [PredictionSet]) throws
        -> [PredictionSetRecord] {
        var seen = Set<String>()
        return try predictions.map { set in
            guard seen.insert("\(set.kind.rawValue)/\(set.name)").inserted else {
                throw StorageError.duplicatePredictionSet(taskID: taskID, name: set.name, kind: set.kind)
            }
            return try PredictionSetRecord(taskID: taskID, set: set)
        }
    }
}
