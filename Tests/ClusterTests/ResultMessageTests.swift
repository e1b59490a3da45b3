import Foundation
import Storage
import XCTest
@testable import Cluster

/// The result message's typed layout: what goes in comes out, and a result that
/// does not fit the coordinator's data is refused naming the task and attempt.
final class ResultMessageTests: XCTestCase {
    static let predictions = TaskPredictions(validationRows: [5, 0], testRows: 3, classes: 2, sets: [
        SetPredictions(name: "last", oof: [0.25, 0.75, 1, 0], test: [0.5, 0.5, 0, 1, 0.125, 0.875]),
        SetPredictions(name: "snapshot-1", oof: [0.5, 0.5, 0.5, 0.5], test: [1, 0, 1, 0, 1, 0]),
        SetPredictions(name: "ema", oof: [0, 1, 0.375, 0.625], test: [0.25, 0.75, 0.25, 0.75, 0.25, 0.75]),
    ])
    static let result = TaskResult(taskID: "t", attempt: 2, score: 0.75, predictions: predictions)

    func testEncodeDecodeRoundTrips() throws {
        let frames = Message.result(Self.result).encode()
        XCTAssertEqual(frames.count, 3 + 1 + 2 * 3, "signature, command, header, rows, then OOF and test per set")
        XCTAssertEqual(try Message.decode(frames), .result(Self.result))
    }

    /// Row indices travel as integers: Float32 would turn 2^24 + 1 into 2^24.
    func testRowIndicesAboveFloat32PrecisionSurvive() throws {
        var predictions = Self.predictions
        predictions.validationRows = [16_777_217, 1 << 40]
        let result = TaskResult(taskID: "t", attempt: 1, score: 0.5, predictions: predictions)
        guard case .result(let decoded) = try Message.decode(Message.result(result).encode()) else { return XCTFail("not a result") }
        XCTAssertEqual(decoded.predictions.validationRows, [16_777_217, 1 << 40])
    }

    func testNonFiniteScoreTravelsAsAString() throws {
        let result = TaskResult(taskID: "t", attempt: 1, score: .nan, predictions: Self.predictions)
        guard case .result(let decoded) = try Message.decode(Message.result(result).encode()) else { return XCTFail("not a result") }
        XCTAssertTrue(decoded.score.isNaN)
    }

    func testEverySetBecomesAnOOFAndATestRecord() {
        let records = Self.predictions.records
        XCTAssertEqual(records.map { "\($0.name)/\($0.kind.rawValue)" },
                       ["last/oof", "last/test", "snapshot-1/oof", "snapshot-1/test", "ema/oof", "ema/test"])
        XCTAssertEqual(records.map(\.shape), Array(repeating: [[2, 2], [3, 2]], count: 3).flatMap { $0 })
        XCTAssertEqual(records[1].values, [0.5, 0.5, 0, 1, 0.125, 0.875])
    }

    func testAResultThatFitsTheDataPasses() throws {
        XCTAssertNoThrow(try Self.result.check(against: DataShape(trainRows: 6, testRows: 3, classes: 2)))
    }

    func testAResultOfOtherDataIsRefused() {
        assertRefused(DataShape(trainRows: 5, testRows: 3, classes: 2), "validation row 5 is outside the coordinator's 5 train rows")
        assertRefused(DataShape(trainRows: 6, testRows: 4, classes: 2), "3 test rows, the coordinator's data has 4")
        assertRefused(DataShape(trainRows: 6, testRows: 3, classes: 10), "2 classes, the coordinator's data has 10")
    }

    private func assertRefused(_ data: DataShape, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Self.result.check(against: data), file: file, line: line) { error in
            guard case .invalidResult("t", 2, let reason) = error as? ProtocolError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(reason.contains(expected) && reason.contains("the worker loaded other data"), reason, file: file, line: line)
            XCTAssertTrue((error as? ProtocolError)?.description.hasPrefix("result of task t attempt 2 refused: ") == true,
                          file: file, line: line)
        }
    }
}
