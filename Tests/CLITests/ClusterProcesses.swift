import Foundation
import XCTest

/// One `foldwise` process a test started in the background (a coordinator, a
/// worker, a run), with its output in files so it can never block on a pipe.
final class BackgroundFoldwise {
    let name: String
    let process: Process
    let stdoutFile: URL
    let stderrFile: URL

    init(name: String, process: Process, stdoutFile: URL, stderrFile: URL) {
        (self.name, self.process, self.stdoutFile, self.stderrFile) = (name, process, stdoutFile, stderrFile)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }
    var transcript: String { "\(name) (pid \(pid))\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }

    func send(_ signal: Int32) { if process.isRunning { kill(pid, signal) } }

    /// The exit status once the process ended within `timeout` seconds, else nil.
    func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Asserts the process exits with `status` within `timeout` seconds.
    func assertExits(_ status: Int32, within timeout: Double = 60, file: StaticString = #filePath, line: UInt = #line) {
        let code = waitForExit(timeout: timeout)
        XCTAssertEqual(code, status, "\(code == nil ? "still running after \(timeout) s: " : "")\(transcript)", file: file, line: line)
    }
}

/// A test case that starts `foldwise` processes: a `ProcessJar` that kills
/// them (and their children) after each test, a scratch folder, and the shared
/// `ClusterReference` removed after the class.
class ProcessTestCase: XCTestCase {
    var jar: ProcessJar!
    var scratch: URL!

    override func setUpWithError() throws {
        let jar = try ProcessJar()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-\(Self.self)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        (self.jar, self.scratch) = (jar, scratch)
        addTeardownBlock {
            jar.stopAll()
            try? FileManager.default.removeItem(at: scratch)
        }
    }

    override class func tearDown() {
        ClusterReference.shared.remove()
        super.tearDown()
    }
}

/// Every process a test starts. `stopAll` (registered as a teardown block)
/// SIGKILLs each one that still runs together with its descendants (the
/// workers of a `foldwise run`), so a failing test leaves no orphans behind.
final class ProcessJar {
    let folder: URL
    private(set) var started: [BackgroundFoldwise] = []

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-processes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Starts `foldwise arguments` in `directory`; `name` labels its output files.
    func start(_ name: String, _ arguments: [String], in directory: URL) throws -> BackgroundFoldwise {
        let stdoutFile = folder.appendingPathComponent("\(name)-\(started.count).stdout")
        let stderrFile = folder.appendingPathComponent("\(name)-\(started.count).stderr")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: stdoutFile), errHandle = try FileHandle(forWritingTo: stderrFile)
        defer { try? outHandle.close(); try? errHandle.close() }
        let process = Process()
        process.executableURL = FoldwiseProcess.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let child = BackgroundFoldwise(name: name, process: process, stdoutFile: stdoutFile, stderrFile: stderrFile)
        started.append(child)
        return child
    }

    func stopAll() {
        for child in started where child.isRunning {
            // Descendants first, while they are still this child's: once it dies they are re-parented.
            let family = ProcessTree.descendants(of: child.pid) + [child.pid]
            for pid in family { kill(pid, SIGKILL) }
            _ = child.waitForExit(timeout: 10)
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Parent links from /proc, to find the worker processes a `foldwise run` started.
enum ProcessTree {
    static func descendants(of root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let parent = parent(of: pid) else { continue }
            children[parent, default: []].append(pid)
        }
        var found: [Int32] = [], frontier = [root]
        while let pid = frontier.popLast() {
            let next = children[pid] ?? []
            found += next
            frontier += next
        }
        return found
    }

    /// Field 4 of /proc/PID/stat; the command name before it may hold spaces, so parse after its last ')'.
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}

/// Polls `condition` every `interval` seconds until it holds (true) or `timeout` passes (false).
func eventually(timeout: Double = 60, interval: Double = 0.1, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    } while Date() < deadline
    return try condition()
}

/// `foldwise status DIR --json`, decoded.
struct StatusSnapshot: Decodable {
    struct Running: Decodable { var task, worker: String; var attempt, epoch: Int }
    struct Problem: Decodable { var task: String; var attempt: Int; var outcome, worker, message: String }
    struct Score: Decodable { var set, metric: String; var value: Double }
    var experiment: String
    var integrityOk: Bool
    var coordinatorRunning: Bool?
    var tasks: [String: Int]
    var running: [Running]
    var problems: [Problem]
    var scores: [Score]

    func count(_ state: String) -> Int { tasks[state] ?? 0 }

    /// The snapshot, or nil while there is none to read (no database yet, a transient error).
    static func read(_ directory: URL) throws -> StatusSnapshot? {
        let result = try FoldwiseProcess.run(["status", directory.path, "--json"], timeout: 30)
        guard result.status == 0 else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(StatusSnapshot.self, from: Data(result.lastLine.utf8))
    }
}

/// One row of the experiment database's attempt table, read with the sqlite3 shell.
struct AttemptRow: Hashable, CustomStringConvertible {
    var task: String
    var attempt: Int
    var worker: String
    var outcome: String
    var description: String { "\(task) #\(attempt) on \(worker): \(outcome)" }

    static let sqlite3 = URL(fileURLWithPath: "/usr/bin/sqlite3")

    /// Every attempt, ordered by task then attempt number; tasks read `model/seed/fold`.
    static func all(in directory: URL) throws -> [AttemptRow] {
        try query(directory, "SELECT t.model || '/' || t.seed || '/' || t.fold, a.attempt, a.workerID, a.outcome "
                  + "FROM attempt a JOIN task t ON t.id = a.taskID ORDER BY t.model, t.seed, t.fold, a.attempt").map { fields in
            AttemptRow(task: fields[0], attempt: Int(fields[1]) ?? -1, worker: fields[2], outcome: fields[3])
        }
    }

    /// The task id and attempt `worker` holds once it has stored at least one epoch of it
    /// (it is mid-task), else nil.
    static func training(_ worker: String, in directory: URL) throws -> (taskID: String, attempt: Int)? {
        let rows = try query(directory, "SELECT a.taskID, a.attempt FROM attempt a WHERE a.workerID = '\(worker)' "
                             + "AND a.outcome = 'running' "
                             + "AND EXISTS (SELECT 1 FROM epochMetric e WHERE e.taskID = a.taskID AND e.attempt = a.attempt)")
        guard let row = rows.first, row.count == 2, let attempt = Int(row[1]) else { return nil }
        return (row[0], attempt)
    }

    /// The recorded outcome of one attempt (`running` until it ends).
    static func outcome(of held: (taskID: String, attempt: Int), in directory: URL) throws -> String? {
        try query(directory, "SELECT outcome FROM attempt WHERE taskID = '\(held.taskID)' AND attempt = \(held.attempt)")
            .first?.first
    }

    /// The rows of `sql`, fields split on `|` (no value here contains one).
    static func query(_ directory: URL, _ sql: String) throws -> [[String]] {
        let process = Process()
        process.executableURL = sqlite3
        process.arguments = ["-readonly", "-separator", "|", directory.appendingPathComponent("experiment.sqlite").path, sql]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "sqlite3 failed: \(errorText)"])
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        }
    }
}

/// Raw bytes to a TCP port through bash's /dev/tcp, so the tests need no socket code.
enum RawTCP {
    /// What came back: the peer's greeting and first command (when a handshake was sent), then the rest.
    struct Exchange { var handshake: [UInt8]; var reply: [UInt8] }

    /// Sends `handshake` (when given) and waits for the peer's 64-byte ZMTP greeting and its
    /// first short command (a peer may refuse messages until its own READY went out), then
    /// sends `bytes` and records whatever comes back for `listen` seconds.
    static func exchange(port: Int, handshake: [UInt8]? = nil, send bytes: [UInt8], listen: Double) throws -> Exchange {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-tcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = ["hello", "request", "greeting", "reply"].map { folder.appendingPathComponent($0) }
        try Data(handshake ?? []).write(to: files[0])
        try Data(bytes).write(to: files[1])
        _ = FileManager.default.createFile(atPath: files[2].path, contents: nil)
        // dd bs=1 reads exactly the greeting and the command, never a byte of what follows.
        let awaitGreeting = handshake == nil ? "" : """
            cat "$1" >&3; timeout 10 dd bs=1 count=66 of="$3" status=none <&3; \
            size=$(( $(od -An -tu1 -j65 -N1 "$3") + 0 )); \
            timeout 10 dd bs=1 count=$size of="$3" oflag=append conv=notrunc status=none <&3;
            """
        let script = "exec 3<>/dev/tcp/127.0.0.1/\(port) || exit 3; \(awaitGreeting) cat \"$2\" >&3; "
            + "timeout \(listen) cat <&3 > \"$4\"; exit 0"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, "bash"] + files.map(\.path)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "could not connect to 127.0.0.1:\(port)"])
        }
        return Exchange(handshake: Array((try? Data(contentsOf: files[2])) ?? Data()),
                        reply: Array((try? Data(contentsOf: files[3])) ?? Data()))
    }
}

/// Just enough ZMTP 3.0 (NULL security) to act as a DEALER peer by hand:
/// https://rfc.zeromq.org/spec/23/.
enum ZMTP {
    /// Signature (0xFF, padding, 0x7F), version 3.0, mechanism "NULL", as-server 0, filler: 64 bytes.
    static let greeting: [UInt8] = [0xFF] + [UInt8](repeating: 0, count: 7) + [0x01, 0x7F, 0x03, 0x00]
        + Array("NULL".utf8) + [UInt8](repeating: 0, count: 16) + [0x00] + [UInt8](repeating: 0, count: 31)

    /// The READY command announcing `socketType`.
    static func ready(socketType: String) -> [UInt8] {
        let name = Array("Socket-Type".utf8), value = Array(socketType.utf8)
        let body = [5] + Array("READY".utf8) + [UInt8(name.count)] + name + bigEndian32(value.count) + value
        return [0x04, UInt8(body.count)] + body
    }

    /// One message: short frames (under 256 bytes each), MORE on all but the last.
    static func message(_ frames: [[UInt8]]) -> [UInt8] {
        frames.enumerated().flatMap { index, frame -> [UInt8] in
            precondition(frame.count < 256, "long frames are not needed here")
            return [index < frames.count - 1 ? 0x01 : 0x00, UInt8(frame.count)] + frame
        }
    }

    /// The messages (lists of frames) in a stream of frames after the handshake; commands are skipped.
    static func messages(in stream: [UInt8]) -> [[[UInt8]]] {
        var messages: [[[UInt8]]] = [], current: [[UInt8]] = []
        var position = 0
        while position + 2 <= stream.count {
            let flags = stream[position]
            let long = flags & 0x02 != 0
            let headerSize = long ? 9 : 2
            guard position + headerSize <= stream.count else { break }
            let size = long ? stream[(position + 1)..<(position + 9)].reduce(0) { $0 << 8 | Int($1) } : Int(stream[position + 1])
            let start = position + headerSize
            guard start + size <= stream.count else { break }
            position = start + size
            if flags & 0x04 != 0 { continue }
            current.append(Array(stream[start..<(start + size)]))
            if flags & 0x01 == 0 {
                messages.append(current)
                current = []
            }
        }
        return messages
    }

    static func bigEndian32(_ value: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}
