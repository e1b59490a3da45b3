import Foundation
import XCTest
@testable import Storage

final class PredictionBlobTests: XCTestCase {
    func testCRC32MatchesTheStandardCheckValue() {
        XCTAssertEqual(PredictionBlob.crc32(Data("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PredictionBlob.crc32(Data()), 0)
        XCTAssertEqual(PredictionBlob.crc32(Data("a".utf8)), 0xE8B7_BE43)
    }

    func testEncodingIsFloat32LittleEndian() {
        let bytes = [UInt8](PredictionBlob.encode([1.0, -2.0, 0.5]))
        XCTAssertEqual(bytes, [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x3F])
    }

    func testDecodeRoundTripsEveryBitPattern() throws {
        let values = awkwardPredictions().values
        let decoded = try XCTUnwrap(PredictionBlob.decode(PredictionBlob.encode(values)))
        XCTAssertEqual(decoded.map(\.bitPattern), values.map(\.bitPattern))
    }

    func testDecodeRejectsAPartialValue() {
        XCTAssertNil(PredictionBlob.decode(Data([0, 0, 0x80, 0x3F, 0x01])))
        XCTAssertEqual(PredictionBlob.decode(Data()), [])
    }

    func testShapeJSONRoundTrips() {
        XCTAssertEqual(PredictionBlob.shapeJSON([4000, 10]), "[4000,10]")
        XCTAssertEqual(PredictionBlob.shape(fromJSON: "[4000,10]"), [4000, 10])
        XCTAssertEqual(PredictionBlob.shape(fromJSON: "[]"), [])
        XCTAssertNil(PredictionBlob.shape(fromJSON: "[4000,\"ten\"]"))
    }
}
