import Foundation
import GRDB

/// The coordinator that holds an experiment folder's lock: which process on
/// which host, since when. One row; each coordinator overwrites it when it
/// takes the lock. Diagnostics only: the lock itself is an OS file lock.
public struct CoordinatorOwnerRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "coordinatorOwner"
    public var id: Int64 = 1
    public var pid: Int32
    public var host: String
    public var startedAt: Date

    public init(pid: Int32, host: String, startedAt: Date) { (self.pid, self.host, self.startedAt) = (pid, host, startedAt) }
}

extension ExperimentDatabase {
    public func recordOwner(_ owner: CoordinatorOwnerRecord) throws {
        try writer.write { db in try owner.save(db) }
    }

    public func owner() throws -> CoordinatorOwnerRecord? {
        try writer.read { db in try CoordinatorOwnerRecord.fetchOne(db) }
    }
}
