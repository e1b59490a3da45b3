import Foundation

/// Every failure of the experiment database that a user or a caller can cause:
/// each case says what failed, why, and how to fix it.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case cannotOpen(path: String, reason: String)
    case experimentDataMismatch(hash: String, recorded: String, given: String)
    case taskNotFound(taskID: String)
    case taskNotQueued(taskID: String, state: TaskState)
    case duplicatePredictionSet(taskID: String, name: String, kind: PredictionKind)
    case malformedPredictionSet(taskID: String, name: String, kind: PredictionKind, reason: String)
    case checksumMismatch(taskID: String, name: String, kind: PredictionKind, stored: UInt32, computed: UInt32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open the experiment database \(path): \(reason). "
                + "Fix: check that the folder exists and is writable, and that no other program holds the file."
        case let .experimentDataMismatch(hash, recorded, given):
            return "experiment with manifest hash \(hash) was recorded on data with fingerprint \(recorded), "
                + "but the data now has fingerprint \(given). "
                + "Fix: restore the original data, or run into a new experiment directory."
        case let .taskNotFound(taskID):
            return "task \(taskID) is not in the experiment database. "
                + "Fix: insert the manifest's tasks (insertTasks) before starting or completing them."
        case let .taskNotQueued(taskID, state):
            return "task \(taskID) cannot start an attempt: it is \(state.rawValue), not queued. "
                + "Fix: requeue it first (failAttempt/abandonAttempt with requeue, or requeueRunning)."
        case let .duplicatePredictionSet(taskID, name, kind):
            return "task \(taskID) reports the prediction set \(name) (\(kind.rawValue)) twice. "
                + "Fix: give each prediction set of a task a distinct name per kind."
        case let .malformedPredictionSet(taskID, name, kind, reason):
            return "prediction set \(name) (\(kind.rawValue)) of task \(taskID) is malformed: \(reason). "
                + "Fix: the shape's product must equal the number of Float32 values; retrain the task if it was stored this way."
        case let .checksumMismatch(taskID, name, kind, stored, computed):
            return "prediction set \(name) (\(kind.rawValue)) of task \(taskID) is corrupt: stored checksum "
                + "\(hex(stored)), computed \(hex(computed)). "
                + "Fix: run `PRAGMA integrity_check` on the database, and retrain the task (requeue it) to store clean predictions."
        }
    }

    public var errorDescription: String? { description }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
