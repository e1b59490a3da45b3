import Foundation
import GRDB

/// The predictions of a result the coordinator computes itself (a blend, a
/// stacker), keyed by the experiment and the result's subject name, not by a
/// task: no worker trains it, and it is recomputed whenever level 2 runs.
struct ResultPredictionRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "resultPrediction"
    var experimentID: Int64
    var subject: String
    var kind: PredictionKind
    var shapeJSON: String
    var encoding: String
    var scalars: Data
    /// CRC-32 of `scalars`, widened so SQLite's signed integer holds it exactly.
    var checksum: Int64

    init(experimentID: Int64, subject: String, set: PredictionSet) throws {
        let stored = try PredictionSetRecord(taskID: subject, set: set)
        (self.experimentID, self.subject, self.kind) = (experimentID, subject, set.kind)
        (shapeJSON, encoding, scalars, checksum) = (stored.shapeJSON, stored.encoding, stored.scalars, stored.checksum)
    }

    func predictionSet() throws -> PredictionSet {
        try PredictionSetRecord(taskID: subject, name: subject, kind: kind, shapeJSON: shapeJSON, encoding: encoding,
                                scalars: scalars, checksum: checksum).predictionSet()
    }
}

extension ExperimentDatabase {
    /// Replaces a computed result's predictions, scores and stage outputs in one transaction.
    public func storeResult(experimentID: Int64, subject: String, predictions: [PredictionSet],
                            scores: [ScoreRecord] = [], outputs: [StageOutputRecord] = []) throws {
        let records = try predictions.map { try ResultPredictionRecord(experimentID: experimentID, subject: subject, set: $0) }
        guard Set(records.map(\.kind)).count == records.count else {
            throw StorageError.duplicatePredictionSet(taskID: subject, name: subject, kind: records[0].kind)
        }
        try writer.write { db in
            try db.execute(sql: "DELETE FROM resultPrediction WHERE experimentID = ? AND subject = ?",
                           arguments: [experimentID, subject])
            for record in records { try record.insert(db) }
            for score in scores { try score.insert(db, onConflict: .replace) }
            for output in outputs { try output.insert(db, onConflict: .replace) }
        }
    }

    /// A computed result's predictions of `kind`, verified against their checksum; nil when none are stored.
    public func resultPredictions(experimentID: Int64, subject: String, kind: PredictionKind) throws -> PredictionSet? {
        let record = try writer.read { db in
            try ResultPredictionRecord.filter(Column("experimentID") == experimentID && Column("subject") == subject
                                              && Column("kind") == kind.rawValue).fetchOne(db)
        }
        return try record?.predictionSet()
    }
}
