import Foundation
import XCTest
@testable import Storage

final class RecordsTests: XCTestCase {
    /// These strings are stored in existing databases; renaming a case would orphan rows.
    func testStoredEnumValuesAreStable() {
        XCTAssertEqual(TaskState.allCases.map(\.rawValue), ["queued", "running", "done", "failed", "abandoned"])
        XCTAssertEqual(AttemptOutcome.allCases.map(\.rawValue), ["running", "succeeded", "failed", "abandoned", "handedBack"])
        XCTAssertEqual(PredictionKind.allCases.map(\.rawValue), ["oof", "test"])
    }

    func testPredictionSetRecordStoresShapeEncodingAndChecksum() throws {
        let set = PredictionSet(name: "last", kind: .test, shape: [1, 2], values: [1.0, -2.0])
        let record = try PredictionSetRecord(taskID: "t", set: set)
        XCTAssertEqual(record.shapeJSON, "[1,2]")
        XCTAssertEqual(record.encoding, "float32-le")
        XCTAssertEqual(record.scalars.count, 8)
        XCTAssertEqual(record.checksum, Int64(PredictionBlob.crc32(record.scalars)))
        assertBitIdentical(try record.predictionSet(), set, "round trip")
    }

    func testShapeThatDoesNotMatchTheValuesIsRejected() {
        let set = PredictionSet(name: "last", kind: .oof, shape: [2, 3], values: [1, 2, 3])
        XCTAssertThrowsError(try PredictionSetRecord(taskID: "t", set: set)) { error in
            guard case .malformedPredictionSet(let taskID, let name, let kind, _) = error as? StorageError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual([taskID, name, kind.rawValue], ["t", "last", "oof"])
        }
    }

    func testDamagedBlobFailsItsChecksum() throws {
        var record = try PredictionSetRecord(taskID: "t", set: awkwardPredictions())
        var bytes = [UInt8](record.scalars)
        bytes[5] ^= 0x10
        record.scalars = Data(bytes)
        XCTAssertThrowsError(try record.predictionSet()) { error in
            guard case .checksumMismatch(let taskID, let name, _, let stored, let computed) = error as? StorageError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(taskID, "t")
            XCTAssertEqual(name, "last")
            XCTAssertNotEqual(stored, computed)
        }
    }
}
