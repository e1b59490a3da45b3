import Foundation
import XCTest

/// What one run of the `foldwise` executable did.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool

    /// The last non-empty line of stdout (where `--json` puts its object).
    var lastLine: String { stdout.split(separator: "\n").last.map(String.init) ?? "" }

    /// Both streams, for assertion messages.
    var transcript: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs the real `foldwise` binary, which `swift test` builds beside the test bundle.
enum FoldwiseProcess {
    /// On macOS the tests run inside an `.xctest` bundle; on Linux the
    /// `.xctest` is itself the executable and `Bundle.main` is its folder.
    static let executable: URL = {
        let folders = Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map { $0.bundleURL.deletingLastPathComponent() }
            + [Bundle.main.bundleURL, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap { $0 }
        let candidates = folders.map { $0.appendingPathComponent("foldwise") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    /// Runs `foldwise arguments` in `directory`; output goes to files, so a
    /// chatty child can never block on a full pipe. A run longer than
    /// `timeout` is terminated and fails the calling test.
    static func run(_ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 60,
                    environment: [String: String] = [:],
                    file: StaticString = #filePath, line: UInt = #line) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            XCTFail("no foldwise binary at \(executable.path); `swift test` builds it with every product", file: file, line: line)
            return CommandResult(status: -1, stdout: "", stderr: "", timedOut: false)
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? outHandle.close(); try? errHandle.close() }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = directory ?? scratch
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
            XCTFail("foldwise \(arguments.joined(separator: " ")) ran longer than \(timeout) s", file: file, line: line)
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                             stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                             timedOut: timedOut)
    }

    /// `foldwise train MANIFEST --out OUT --threads 1 EXTRA…`.
    static func train(_ manifest: URL, out: URL, _ extra: [String] = [],
                      file: StaticString = #filePath, line: UInt = #line) throws -> CommandResult {
        try run(["train", manifest.path, "--out", out.path, "--threads", "1"] + extra,
                in: manifest.deletingLastPathComponent(), file: file, line: line)
    }
}

/// Asserts that a run succeeded, showing its output when it did not.
func assertSucceeded(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(result.status, 0, result.transcript, file: file, line: line)
}

/// Asserts a bad-input exit: code 2, every `fragment` in stderr, and no crash report.
func assertBadInput(_ result: CommandResult, mentions fragments: [String],
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(result.status, 2, result.transcript, file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(result.stderr.contains(fragment), "stderr lacks \"\(fragment)\":\n\(result.stderr)", file: file, line: line)
    }
    XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr, file: file, line: line)
}
