import Foundation
import Storage
import Training
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One coordinator per experiment folder: an exclusive `flock` on
/// `coordinator.lock` in the folder, held until the process exits (the OS
/// drops it then, whatever way the process ends; the descriptor is close-on-exec,
/// so no worker it starts inherits it). The file names the holder (pid, host,
/// start) for the message a second coordinator prints; the database's
/// `coordinatorOwner` row says the same for `status`.
public final class ExperimentLock: Sendable {
    public static let fileName = PredictionFilesBookkeeping.lockFile
    public let owner: CoordinatorOwnerRecord
    private let descriptor: Int32

    private init(owner: CoordinatorOwnerRecord, descriptor: Int32) { (self.owner, self.descriptor) = (owner, descriptor) }

    /// Whether a live coordinator holds the lock of `directory` (false when
    /// none does, or there is no lock file). Takes nothing and writes nothing.
    public static func isHeld(_ directory: ExperimentDirectory) -> Bool {
        let descriptor = open(directory.file(fileName).path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// Takes the lock of `directory` (creating the folder), or throws naming
    /// the process that holds it. Nil for a folder that is not empty and holds
    /// no experiment: it is not ours to write into (preparing it refuses it).
    public static func acquire(_ directory: ExperimentDirectory, now: Date = Date()) throws -> ExperimentLock? {
        let fm = FileManager.default, file = directory.file(fileName)
        if let contents = try? fm.contentsOfDirectory(atPath: directory.url.path), !contents.isEmpty,
           !contents.contains("experiment.json"), !contents.contains(fileName) { return nil }
        do {
            try fm.createDirectory(at: directory.url, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(message: "cannot create the experiment folder \(directory.url.path): \(error.localizedDescription)",
                                fix: "choose a writable folder with --dir")
        }
        let descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw PipelineError(message: "cannot open the lock file \(file.path): \(String(cString: strerror(errno)))",
                                fix: "check that the experiment folder is writable")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(descriptor)
            let holder = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard busy else {
                throw PipelineError(message: "cannot lock \(file.path): \(String(cString: strerror(errno)))",
                                    fix: "put the experiment folder on a file system that supports flock")
            }
            throw PipelineError(message: "another coordinator (\(holder.flatMap { $0.isEmpty ? nil : $0 } ?? "its pid and host not yet written")) is running the experiment in \(directory.url.path)",
                                fix: "wait for it to finish or stop it, or give this run another --dir")
        }
        let owner = CoordinatorOwnerRecord(pid: getpid(), host: ProcessInfo.processInfo.hostName, startedAt: now)
        let stamp = ISO8601DateFormatter().string(from: now)
        let text = Array("pid \(owner.pid) on host \(owner.host), started \(stamp)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = text.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count) }
        return ExperimentLock(owner: owner, descriptor: descriptor)
    }
}
