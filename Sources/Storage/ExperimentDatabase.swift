import Foundation
import GRDB

/// The experiment database: one SQLite file per experiment directory, the
/// single source of truth for tasks, attempts, metrics, predictions and scores.
///
/// On disk it is a WAL-mode `DatabasePool` (readers never wait for the writer,
/// so `foldwise status` works during a run); in memory, for tests, a
/// `DatabaseQueue`. Every operation is one transaction.
public final class ExperimentDatabase: Sendable {
    let writer: any DatabaseWriter
    /// The file's path, or nil for an in-memory database.
    public let path: String?
    /// The temporary folder of a read-only database's copy, removed with this object.
    private let privateCopy: URL?

    private init(writer: any DatabaseWriter, path: String?, privateCopy: URL? = nil) throws {
        self.writer = writer
        self.path = path
        self.privateCopy = privateCopy
        // Commits must survive power loss: a task is done only once its
        // predictions are durably stored. GRDB leaves a pool's writer at NORMAL.
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try Migrations.migrator().migrate(writer)
    }

    deinit {
        if let privateCopy { try? FileManager.default.removeItem(at: privateCopy) }
    }

    /// Opens (creating it and its folder if needed) the database file at `url`.
    public static func open(at url: URL) throws -> ExperimentDatabase {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            let pool = try DatabasePool(path: url.path, configuration: configuration())
            return try ExperimentDatabase(writer: pool, path: url.path)
        } catch {
            throw StorageError.cannotOpen(path: url.path, reason: "\(error)")
        }
    }

    /// Opens the database at `url` to read it. In a folder this process cannot
    /// write (a read-only copy or mount), SQLite cannot create the WAL's
    /// shared-memory file next to it, so the database and its WAL are copied to
    /// a private temporary folder and that copy is read; the original is untouched.
    public static func openForReading(at url: URL) throws -> ExperimentDatabase {
        let folder = url.deletingLastPathComponent().path
        if access(folder, W_OK) == 0 && access(url.path, W_OK) == 0 { return try open(at: url) }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-readonly-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: url.path + suffix) {
                let target = copy.appendingPathComponent(url.lastPathComponent + suffix).path
                try FileManager.default.copyItem(atPath: url.path + suffix, toPath: target)
                // The copy keeps the original's read-only mode; SQLite must be able to write its WAL index.
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
            }
        } catch {
            throw StorageError.cannotOpen(path: url.path, reason: "the folder is read-only and a private copy failed (\(error))")
        }
        let file = copy.appendingPathComponent(url.lastPathComponent)
        do {
            return try ExperimentDatabase(writer: DatabasePool(path: file.path, configuration: configuration()),
                                          path: file.path, privateCopy: copy)
        } catch {
            try? FileManager.default.removeItem(at: copy)
            throw StorageError.cannotOpen(path: url.path, reason: "\(error)")
        }
    }

    /// A private database that lives as long as the returned object, for tests.
    public static func inMemory() throws -> ExperimentDatabase {
        try ExperimentDatabase(writer: DatabaseQueue(configuration: configuration()), path: nil)
    }

    /// The migration identifiers in the order they are applied.
    public static var migrationIdentifiers: [String] {
        Migrations.migrator().migrations
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "foldwise.experiment-database"
        // Another process (a status command, a restarted coordinator) may hold the lock briefly.
        configuration.busyMode = .timeout(10)
        return configuration
    }

    // MARK: Experiments

    /// Records an experiment and returns its id; registering the same manifest
    /// hash again returns the existing id, so a re-run resumes its experiment.
    public func registerExperiment(name: String, manifestJSON: String, hash: String,
                                   dataFingerprint: String, now: Date = Date()) throws -> Int64 {
        try writer.write { db in
            if var existing = try ExperimentRecord.filter(Column("manifestHash") == hash).fetchOne(db),
               let id = existing.id {
                guard existing.dataFingerprint == dataFingerprint else {
                    throw StorageError.experimentDataMismatch(hash: hash, recorded: existing.dataFingerprint,
                                                              given: dataFingerprint)
                }
                // The hash leaves out settings that re-run no task (`ensemble`, `cluster`):
                // the stored manifest follows the latest run, so later commands read its settings.
                if existing.manifestJSON != manifestJSON {
                    existing.manifestJSON = manifestJSON
                    try existing.update(db)
                }
                return id
            }
            var record = ExperimentRecord(id: nil, name: name, manifestJSON: manifestJSON, manifestHash: hash,
                                          dataFingerprint: dataFingerprint, createdAt: now)
            try record.insert(db)
            return record.id ?? db.lastInsertedRowID
        }
    }

    public func experiment(hash: String) throws -> ExperimentRecord? {
        try writer.read { db in
            try ExperimentRecord.filter(Column("manifestHash") == hash).fetchOne(db)
        }
    }

    public func experiments() throws -> [ExperimentRecord] {
        try writer.read { db in try ExperimentRecord.order(Column("id")).fetchAll(db) }
    }

    // MARK: Queries

    /// Tasks ordered by id, optionally only one experiment's and only those in `state`.
    public func tasks(experimentID: Int64? = nil, state: TaskState? = nil) throws -> [TaskRecord] {
        try writer.read { db in
            var request = TaskRecord.all()
            if let experimentID { request = request.filter(Column("experimentID") == experimentID) }
            if let state { request = request.filter(Column("state") == state) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    public func task(id: String) throws -> TaskRecord? {
        try writer.read { db in try TaskRecord.fetchOne(db, key: id) }
    }

    /// The number of tasks in every state (zero for states no task is in).
    public func counts(experimentID: Int64? = nil) throws -> [TaskState: Int] {
        let rows = try writer.read { db in
            if let experimentID {
                return try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM task WHERE experimentID = ? GROUP BY state",
                                        arguments: [experimentID])
            }
            return try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM task GROUP BY state")
        }
        var counts = Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0, 0) })
        for row in rows {
            if let state = TaskState(rawValue: row[0]) { counts[state] = row[1] }
        }
        return counts
    }

    public func attempts(taskID: String) throws -> [AttemptRecord] {
        try writer.read { db in
            try AttemptRecord.filter(Column("taskID") == taskID).order(Column("attempt")).fetchAll(db)
        }
    }

    public func epochs(taskID: String) throws -> [EpochMetricRecord] {
        try writer.read { db in
            try EpochMetricRecord.filter(Column("taskID") == taskID)
                .order(Column("attempt"), Column("epoch")).fetchAll(db)
        }
    }

    /// The task's prediction sets ordered by kind then name, each verified
    /// against its checksum (a damaged blob throws `checksumMismatch`).
    public func predictions(taskID: String) throws -> [PredictionSet] {
        let records = try writer.read { db in
            try PredictionSetRecord.filter(Column("taskID") == taskID)
                .order(Column("kind"), Column("name")).fetchAll(db)
        }
        return try records.map { try $0.predictionSet() }
    }

    /// The train rows of a task's OOF predictions, or nil when none were stored.
    public func validationRows(taskID: String) throws -> [Int]? {
        try writer.read { db in try ValidationRowsRecord.fetchOne(db, key: taskID) }?.decoded()
    }

    public func scores(experimentID: Int64) throws -> [ScoreRecord] {
        try writer.read { db in
            try ScoreRecord.filter(Column("experimentID") == experimentID)
                .order(Column("subject"), Column("metric")).fetchAll(db)
        }
    }

    public func stageOutputs(experimentID: Int64, stage: String? = nil) throws -> [StageOutputRecord] {
        try writer.read { db in
            var request = StageOutputRecord.filter(Column("experimentID") == experimentID)
            if let stage { request = request.filter(Column("stage") == stage) }
            return try request.order(Column("stage"), Column("name")).fetchAll(db)
        }
    }

    public func recordStageOutput(_ output: StageOutputRecord) throws {
        try writer.write { db in try output.insert(db, onConflict: .replace) }
    }

    /// Stores (or replaces) a score, e.g. the OOF score of an assembled prediction set.
    public func recordScore(_ score: ScoreRecord) throws {
        try writer.write { db in try score.insert(db, onConflict: .replace) }
    }

    /// True when SQLite's `PRAGMA integrity_check` finds nothing wrong.
    public func integrityCheck() throws -> Bool {
        try writer.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"]
        }
    }
}
