import Foundation
import XCTest
@testable import Cluster

/// Every way a result message can lie is refused with a reason naming the task
/// and attempt (so the coordinator fails that attempt), never a crash.
final class ResultChecksTests: XCTestCase {
    /// Decodes `ResultMessageTests.result` after `change` tampered with its header or frames.
    private func decode(_ change: (inout ResultHeader, inout [[UInt8]]) -> Void) -> Result<Message, ProtocolError> {
        var (header, payloads) = ResultLayout.encode(ResultMessageTests.result)
        change(&header, &payloads)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = Array(try! encoder.encode(header))
        return Result { () throws(ProtocolError) in try Message.decode([WireProtocol.signature, [Command.result.rawValue], json] + payloads) }
    }

    private func assertRefused(_ expected: String, file: StaticString = #filePath, line: UInt = #line,
                               _ change: (inout ResultHeader, inout [[UInt8]]) -> Void) {
        switch decode(change) {
        case .failure(.invalidResult("t", 2, let reason)):
            XCTAssertTrue(reason.contains(expected), "\(reason) does not say \(expected)", file: file, line: line)
        case let other:
            XCTFail("expected a refusal saying \(expected), got \(other)", file: file, line: line)
        }
    }

    private func floats(_ values: [Float]) -> [UInt8] { Message.littleEndianBytes(values) }

    func testTheUntamperedResultDecodes() throws {
        XCTAssertEqual(try decode { _, _ in }.get(), .result(ResultMessageTests.result))
    }

    func testSetNamesMustBeUniqueShortWords() {
        assertRefused(#"set name "last" appears twice"#) { header, _ in header.sets[1] = "last" }
        for name in ["", "../../etc/passwd", "a/b", "résumé", String(repeating: "x", count: 41)] {
            assertRefused("is not 1 to 40 ASCII letters") { header, _ in header.sets[2] = name }
        }
        assertRefused("names 0 prediction sets") { header, payloads in (header.sets, payloads) = ([], [payloads[0]]) }
        assertRefused("names 65 prediction sets") { header, _ in header.sets = (0..<65).map { "set-\($0)" } }
        XCTAssertTrue(ResultChecks.isSetName("snapshot-12"))
    }

    func testAMissingOrExtraFrameIsRefused() {
        assertRefused("so 7 payload frames (rows, then OOF and test per set), it has 6") { _, payloads in payloads.removeLast() }
        assertRefused("it has 8") { _, payloads in payloads.append([]) }
        assertRefused("it has 0") { _, payloads in payloads = [] }
    }

    func testShapesMustMatchTheHeader() {
        assertRefused("set last OOF has 16 bytes, 2 rows × 3 classes need 24") { header, _ in header.classes = 3 }
        assertRefused("set last test has 24 bytes, 4 rows × 2 classes need 32") { header, _ in header.testRows = 4 }
        assertRefused("validation rows frame has 16 bytes, 3 rows need 24") { header, _ in header.rows = 3 }
        assertRefused("set ema test has 20 bytes") { _, payloads in payloads[6].removeLast(4) }
        // Version 2 sent the rows as Float32: half the bytes.
        assertRefused("validation rows frame has 8 bytes, 2 rows need 16") { _, payloads in payloads[0] = self.floats([5, 0]) }
    }

    func testImpossibleSizesAreRefusedBeforeAnythingIsAllocated() {
        assertRefused("are impossible") { header, _ in header.classes = 0 }
        assertRefused("are impossible") { header, _ in header.rows = -2 }
        assertRefused("overflow") { header, _ in header.testRows = Int.max / 2 }
        assertRefused("overflow") { header, _ in header.rows = Int.max / 4 }
    }

    func testRowIndicesMustBeNonNegativeAndUnique() {
        assertRefused("validation row -1 is negative") { _, payloads in payloads[0] = ResultLayout.littleEndianBytes([-1, 0]) }
        assertRefused("validation row 5 appears twice") { _, payloads in payloads[0] = ResultLayout.littleEndianBytes([5, 5]) }
    }

    func testValuesMustBeFinite() {
        assertRefused("set last OOF row 0 holds nan: the model diverged") { _, payloads in payloads[1] = self.floats([.nan, 1, 1, 0]) }
        assertRefused("set snapshot-1 test row 2 holds inf") { _, payloads in payloads[4] = self.floats([1, 0, 1, 0, .infinity, 0]) }
        assertRefused("set ema OOF row 1 holds -inf") { _, payloads in payloads[5] = self.floats([0, 1, -.infinity, 1]) }
    }

    func testRowsMustBeClassProbabilities() {
        assertRefused("set last OOF row 0 holds the negative value -0.25") { _, payloads in payloads[1] = self.floats([-0.25, 1.25, 1, 0]) }
        assertRefused("set last test row 1 sums to 0.5, not 1") { _, payloads in payloads[2] = self.floats([0.5, 0.5, 0.25, 0.25, 0, 1]) }
        assertRefused("set ema OOF row 0 sums to 2") { _, payloads in payloads[5] = self.floats([1, 1, 0, 1]) }
        // Float32 rounding stays well inside the tolerance.
        guard case .success = decode({ _, payloads in payloads[1] = self.floats([0.3333, 0.6669, 1, 0]) }) else {
            return XCTFail("a row 2e-4 off 1 is a probability row")
        }
    }

    func testAHeaderWithoutATaskIDOrOfTheOldLayoutIsMalformed() {
        guard case .failure(.malformedHeader(.result, let reason)) = decode({ header, _ in header.taskID = "" }) else {
            return XCTFail("an empty task ID")
        }
        XCTAssertTrue(reason.contains("taskID"), reason)
        let old = Array(#"{"attempt":1,"score":0.5,"shapes":[[1,2],[1,2],[1]],"taskID":"t"}"#.utf8)
        XCTAssertThrowsError(try Message.decode([WireProtocol.signature, [Command.result.rawValue], old, [], [], []])) { error in
            guard case .malformedHeader(.result, _)? = error as? ProtocolError else { return XCTFail("\(error)") }
        }
    }
}
