import Cluster
import Foundation

/// The worker processes of `foldwise run`: this same binary started as
/// `foldwise worker --connect ENDPOINT --keys-on-stdin`, each logging to
/// DIR/logs/worker-N.log. Each one's standard input is a pipe from this
/// process: the run's CURVE keys come on it, and when this process dies the
/// pipe ends and the worker stops. A worker that dies while work remains is
/// started again (a few times per slot), unless it exited 2: it was refused
/// or cannot load the data, and would be again.
final class LocalWorkers {
    private let endpoint: String
    private let threads: Int
    private let logs: URL
    private let security: ClientSecurity
    private var processes: [Process?]
    /// This side of each worker's standard input; closing it (or dying) stops the worker.
    private var links: [FileHandle?]
    private var restarts: [Int]
    static let maximumRestarts = 3

    init(count: Int, endpoint: String, threads: Int, logs: URL, security: ClientSecurity) {
        (self.endpoint, self.threads, self.logs, self.security) = (endpoint, threads, logs, security)
        processes = Array(repeating: nil, count: count)
        links = Array(repeating: nil, count: count)
        restarts = Array(repeating: 0, count: count)
    }

    /// False once every slot's worker has ended for good: nobody is left to train.
    var anyLeft: Bool { processes.contains { $0 != nil } }
    var anyRunning: Bool { processes.contains { $0?.isRunning == true } }

    var pids: [Int32] { processes.compactMap { $0?.processIdentifier } }

    func startAll() throws {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for slot in processes.indices { processes[slot] = try start(slot) }
    }

    /// Starts again every slot whose process exited; returns a line per restart.
    func restartExited() -> [String] {
        var lines: [String] = []
        for slot in processes.indices {
            guard let process = processes[slot], !process.isRunning else { continue }
            let status = process.terminationStatus, reason = process.terminationReason == .uncaughtSignal ? "signal" : "exit code"
            if process.terminationReason == .exit, status == 2 {
                lines.append("local worker \(slot + 1) was refused, failed its handshake or cannot load the data (exit code 2) and is not restarted; see \(logFile(slot).path)")
                processes[slot] = nil
                continue
            }
            guard restarts[slot] < Self.maximumRestarts else {
                if processes[slot] != nil { lines.append("local worker \(slot + 1) ended (\(reason) \(status)) and is not restarted again; see \(logFile(slot).path)") }
                processes[slot] = nil
                continue
            }
            restarts[slot] += 1
            do {
                processes[slot] = try start(slot)
                lines.append("local worker \(slot + 1) ended (\(reason) \(status)); started it again")
            } catch {
                processes[slot] = nil
                lines.append("local worker \(slot + 1) could not be started again: \(error)")
            }
        }
        return lines
    }

    /// Lets the workers exit on their own (they were shut down), then stops the rest.
    func finish(grace: Double) {
        let deadline = Date().addingTimeInterval(grace)
        while processes.contains(where: { $0?.isRunning == true }), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        terminate(grace: 2)
    }

    /// SIGTERM: each worker hands its task back and exits.
    func stopAll() {
        for process in processes.compactMap({ $0 }) where process.isRunning { process.terminate() }
    }

    /// SIGTERM (the workers hand their tasks back), then SIGKILL after `grace` seconds.
    func terminate(grace: Double) {
        stopAll()
        let deadline = Date().addingTimeInterval(grace)
        while processes.contains(where: { $0?.isRunning == true }), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for process in processes.compactMap({ $0 }) where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func logFile(_ slot: Int) -> URL { logs.appendingPathComponent("worker-\(slot + 1).log") }

    private func start(_ slot: Int) throws -> Process {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["worker", "--connect", endpoint, "--threads", String(threads), "--id", "local-\(slot + 1)", "--keys-on-stdin"]
        let file = logFile(slot)
        if !FileManager.default.fileExists(atPath: file.path) { FileManager.default.createFile(atPath: file.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: file)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        let link = Pipe()
        // Only this worker may hold its pipe (a sibling holding the write end would
        // keep it open after this process dies). Foundation's spawn already closes
        // descriptors above 2 in the child; close-on-exec says so for any other spawner.
        for descriptor in [link.fileHandleForReading.fileDescriptor, link.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        process.standardInput = link
        try process.run()
        try? link.fileHandleForReading.close()
        // A worker that died at once makes this write fail (SIGPIPE is ignored): its exit is seen on the next poll.
        try? link.fileHandleForWriting.write(contentsOf: Data(ParentLink.line(for: security).utf8))
        try? links[slot]?.close()
        links[slot] = link.fileHandleForWriting
        return process
    }

    /// This program's own file, so workers run exactly the coordinator's release.
    static var executable: URL {
        let link = URL(fileURLWithPath: "/proc/self/exe")
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) { return URL(fileURLWithPath: target) }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }
}
