import XCTest
import Training
@testable import Cluster

/// What a peer says about itself cannot forge a log line, grow the log without
/// bound or announce nonsense: hellos outside `HelloBounds` are refused, and
/// every coordinator log line passes through `LogText`.
final class PeerTextTests: XCTestCase {
    let peer = WorkerIdentity([0x07])

    func hello(id: String, host: String = "node", threads: Int = 1) -> Message {
        .hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: id, host: host, threads: threads, datasetFingerprint: "fp01"))
    }

    func refusal(_ message: Message) -> (reason: String, logs: [String])? {
        var coordinator = CoordinatorLogic(tasks: CoordinatorLogicTests.tasks(1), maxAttempts: 1, datasetFingerprint: "fp01")
        let actions = coordinator.handle(.received(peer, message), now: 0)
        XCTAssertEqual(coordinator.summary.workers, 0)
        guard case .send(peer, .reject(let reject))? = actions.last else { return nil }
        return (reject.reason, actions.compactMap { if case .log(let text) = $0 { text } else { nil } })
    }

    func testAWorkerIDWithANewlineIsRefusedAndCannotForgeALogLine() throws {
        let forged = "a\n[12:00:00] worker real on node joined (8 threads)"
        let (reason, logs) = try XCTUnwrap(refusal(hello(id: forged)))
        XCTAssertTrue(reason.contains("control characters") && reason.contains("--id"), reason)
        let lines = logs.map(LogText.line)
        XCTAssertFalse(lines.contains { $0.contains("\n") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("a\\u{a}[12:00:00]") }, "\(lines)")
    }

    func testAnEightMegabyteIDIsRefusedAndItsLogLineStaysShort() throws {
        let (reason, logs) = try XCTUnwrap(refusal(hello(id: String(repeating: "x", count: 8 << 20))))
        XCTAssertTrue(reason.contains("8388608 characters, more than 128"), reason)
        XCTAssertLessThan(reason.count, 500)
        XCTAssertTrue(logs.map(LogText.line).allSatisfy { $0.count < LogText.maximumLineCharacters + 40 })
    }

    func testNegativeThreadsAndAnEmptyHostAreRefused() throws {
        XCTAssertTrue(try XCTUnwrap(refusal(hello(id: "a", threads: -5))).reason.contains("-5 threads"))
        XCTAssertTrue(try XCTUnwrap(refusal(hello(id: "a", host: ""))).reason.contains("host is empty"))
    }

    func testLogTextEscapesControlsAndCutsLongLines() {
        XCTAssertEqual(LogText.line("a\nb\r\u{1B}[2Jc\u{7F}"), "a\\u{a}b\\u{d}\\u{1b}[2Jc\\u{7f}")
        XCTAssertEqual(LogText.line("héllo → ok"), "héllo → ok")
        let long = LogText.line(String(repeating: "y", count: 5_000))
        XCTAssertTrue(long.hasSuffix("… (3000 more characters)"), String(long.suffix(40)))
        XCTAssertEqual(LogText.identifier(String(repeating: "z", count: 64)), String(repeating: "z", count: 64))
    }
}
