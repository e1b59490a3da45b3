import Foundation
import GRDB

/// Lifecycle of a task: queued -> running -> done, or back to queued for a
/// retry; failed (the worker reported an error on the last allowed attempt)
/// and abandoned (the worker vanished on the last allowed attempt) are final.
public enum TaskState: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case queued, running, done, failed, abandoned
}

/// How one attempt ended; `running` while it is open. `handedBack`: the worker
/// or the coordinator stopped and returned the task untouched (not a failure).
public enum AttemptOutcome: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case running, succeeded, failed, abandoned, handedBack
}

/// Out-of-fold predictions (training rows of the task's fold) or test predictions.
public enum PredictionKind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    case oof, test
}

public struct ExperimentRecord: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "experiment"
    public var id: Int64?
    public var name: String
    public var manifestJSON: String
    public var manifestHash: String
    public var dataFingerprint: String
    public var createdAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One (stage, model, seed, fold, round) training job. Its id is computed by
/// the caller from those fields, so re-running a manifest finds the same rows.
public struct TaskRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "task"
    public var id: String
    public var experimentID: Int64
    public var stage: String
    public var model: String
    public var seed: Int
    public var fold: Int
    public var round: Int
    public var state: TaskState
    public var attempts: Int
    public var updatedAt: Date

    public init(id: String, experimentID: Int64, stage: String, model: String, seed: Int, fold: Int,
                round: Int, state: TaskState = .queued, attempts: Int = 0, updatedAt: Date = Date()) {
        self.id = id
        self.experimentID = experimentID
        self.stage = stage
        self.model = model
        self.seed = seed
        self.fold = fold
        self.round = round
        self.state = state
        self.attempts = attempts
        self.updatedAt = updatedAt
    }
}

public struct AttemptRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "attempt"
    public var taskID: String
    /// 1 for the first attempt; equals the task's `attempts` while it is current.
    public var attempt: Int
    public var workerID: String
    public var host: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var outcome: AttemptOutcome
    public var message: String?
}

public struct EpochMetricRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "epochMetric"
    public var taskID: String
    public var attempt: Int
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double?
    public var validationScore: Double?
    public var learningRate: Double
    public var seconds: Double

    public init(taskID: String, attempt: Int, epoch: Int, trainLoss: Double, validationLoss: Double?,
                validationScore: Double?, learningRate: Double, seconds: Double) {
        self.taskID = taskID
        self.attempt = attempt
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.validationScore = validationScore
        self.learningRate = learningRate
        self.seconds = seconds
    }
}

/// A score of a task (subject = task id) or of a prediction set (subject = its name).
public struct ScoreRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "score"
    public var experimentID: Int64
    public var subject: String
    public var metric: String
    public var value: Double

    public init(experimentID: Int64, subject: String, metric: String, value: Double) {
        self.experimentID = experimentID
        self.subject = subject
        self.metric = metric
        self.value = value
    }
}

/// A prediction array as callers see it; stored as a `PredictionSetRecord`.
public struct PredictionSet: Equatable, Sendable {
    /// The set's name within its task, e.g. "last", "swa", "ema".
    public var name: String
    public var kind: PredictionKind
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, kind: PredictionKind, shape: [Int], values: [Float]) {
        self.name = name
        self.kind = kind
        self.shape = shape
        self.values = values
    }
}

struct PredictionSetRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "predictionSet"
    var taskID: String
    var name: String
    var kind: PredictionKind
    var shapeJSON: String
    var encoding: String
    var scalars: Data
    /// CRC-32 of `scalars`, widened so SQLite's signed integer holds it exactly.
    var checksum: Int64

    init(taskID: String, set: PredictionSet) throws {
        let count = set.shape.reduce(1, *)
        guard set.shape.allSatisfy({ $0 >= 0 }), count == set.values.count else {
            throw StorageError.malformedPredictionSet(
                taskID: taskID, name: set.name, kind: set.kind,
                reason: "shape \(set.shape) holds \(count) values but \(set.values.count) were given")
        }
        self.taskID = taskID
        self.name = set.name
        self.kind = set.kind
        self.shapeJSON = PredictionBlob.shapeJSON(set.shape)
        self.encoding = PredictionBlob.encoding
        self.scalars = PredictionBlob.encode(set.values)
        self.checksum = Int64(PredictionBlob.crc32(scalars))
    }

    /// A stored row as read back, checked when decoded (`predictionSet()`).
    init(taskID: String, name: String, kind: PredictionKind, shapeJSON: String, encoding: String, scalars: Data, checksum: Int64) {
        (self.taskID, self.name, self.kind, self.shapeJSON) = (taskID, name, kind, shapeJSON)
        (self.encoding, self.scalars, self.checksum) = (encoding, scalars, checksum)
    }

    /// Decodes and verifies the blob; throws when it does not match its checksum or shape.
    func predictionSet() throws -> PredictionSet {
        let computed = PredictionBlob.crc32(scalars)
        guard Int64(computed) == checksum else {
            throw StorageError.checksumMismatch(taskID: taskID, name: name, kind: kind,
                                                stored: UInt32(truncatingIfNeeded: checksum), computed: computed)
        }
        guard encoding == PredictionBlob.encoding else {
            throw malformed("unknown encoding \(encoding), expected \(PredictionBlob.encoding)")
        }
        guard let shape = PredictionBlob.shape(fromJSON: shapeJSON) else {
            throw malformed("shape \(shapeJSON) is not a JSON array of integers")
        }
        guard let values = PredictionBlob.decode(scalars), values.count == shape.reduce(1, *) else {
            throw malformed("\(scalars.count) bytes do not hold the \(shape.reduce(1, *)) values of shape \(shape)")
        }
        return PredictionSet(name: name, kind: kind, shape: shape, values: values)
    }

    private func malformed(_ reason: String) -> StorageError {
        .malformedPredictionSet(taskID: taskID, name: name, kind: kind, reason: reason)
    }
}

/// The train rows a task's OOF predictions belong to, in prediction order.
struct ValidationRowsRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "validationRows"
    var taskID: String
    var count: Int
    var rows: Data
    var checksum: Int64

    init(taskID: String, rows: [Int]) {
        self.taskID = taskID
        self.count = rows.count
        self.rows = PredictionBlob.encode(rows: rows)
        self.checksum = Int64(PredictionBlob.crc32(self.rows))
    }

    func decoded() throws -> [Int] {
        let computed = PredictionBlob.crc32(rows)
        guard Int64(computed) == checksum, let values = PredictionBlob.decodeRows(rows), values.count == count else {
            throw StorageError.checksumMismatch(taskID: taskID, name: "validation rows", kind: .oof,
                                                stored: UInt32(truncatingIfNeeded: checksum), computed: computed)
        }
        return values
    }
}

/// A stage's decision stored as JSON (blend weights, selected pseudo rows).
public struct StageOutputRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "stageOutput"
    public var experimentID: Int64
    public var stage: String
    public var name: String
    public var json: String
    public var createdAt: Date

    public init(experimentID: Int64, stage: String, name: String, json: String, createdAt: Date = Date()) {
        (self.experimentID, self.stage, self.name, self.json, self.createdAt) = (experimentID, stage, name, json, createdAt)
    }
}
