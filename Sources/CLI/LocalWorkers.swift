import Foundation

/// The worker processes of `foldwise run`: this same binary started as
/// `foldwise worker --connect ENDPOINT`, each logging to DIR/logs/worker-N.log.
/// A worker that dies while work remains is started again (a few times per slot).
final class LocalWorkers {
    private let endpoint: String
    private let threads: Int
    private let logs: URL
    private var processes: [Process?]
    private var restarts: [Int]
    static let maximumRestarts = 3

    init(count: Int, endpoint: String, threads: Int, logs: URL) {
        (self.endpoint, self.threads, self.logs) = (endpoint, threads, logs)
        processes = Array(repeating: nil, count: count)
        restarts = Array(repeating: 0, count: count)
    }

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

    /// SIGTERM (the workers hand their tasks back), then SIGKILL after `grace` seconds.
    func terminate(grace: Double) {
        for process in processes.compactMap({ $0 }) where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(grace)
        while processes.contains(where: { $0?.isRunning == true }), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for process in processes.compactMap({ $0 }) where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func logFile(_ slot: Int) -> URL { logs.appendingPathComponent("worker-\(slot + 1).log") }

    private func start(_ slot: Int) throws -> Process {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["worker", "--connect", endpoint, "--threads", String(threads), "--id", "local-\(slot + 1)"]
        let file = logFile(slot)
        if !FileManager.default.fileExists(atPath: file.path) { FileManager.default.createFile(atPath: file.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: file)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// This program's own file, so workers run exactly the coordinator's release.
    static var executable: URL {
        let link = URL(fileURLWithPath: "/proc/self/exe")
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path) { return URL(fileURLWithPath: target) }
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }
}
