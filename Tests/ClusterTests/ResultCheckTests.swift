import XCTest
@testable import Cluster

/// What the coordinator accepts from a worker's result before anything is stored.
final class ResultCheckTests: XCTestCase {
    let oof = Payload(shape: [2, 3], scalars: [Float](repeating: 1 / 3, count: 6))
    let test = Payload(shape: [4, 3], scalars: [Float](repeating: 1 / 3, count: 12))
    let rows = Payload(shape: [2], scalars: [5, 0])

    func result(_ sets: [String], _ payloads: [Payload]) -> TaskResult {
        TaskResult(taskID: "t", attempt: 1, score: 0.5, sets: sets, payloads: payloads)
    }

    func testEverySetBecomesAnOOFAndATestPredictionSet() throws {
        let (sets, validationRows) = try XCTUnwrap(CoordinatorShell.checked(result(["last", "snapshot-1", "swa"],
                                                                                   [oof, test, oof, test, oof, test, rows])))
        XCTAssertEqual(sets.map { "\($0.name)/\($0.kind.rawValue)" },
                       ["last/oof", "last/test", "snapshot-1/oof", "snapshot-1/test", "swa/oof", "swa/test"])
        XCTAssertEqual(validationRows, [5, 0])
    }

    func testMisfitsAreRefused() {
        XCTAssertNil(CoordinatorShell.checked(result(["last"], [oof, test])), "no rows")
        XCTAssertNil(CoordinatorShell.checked(result(["last", "swa"], [oof, test, rows])), "a set without arrays")
        XCTAssertNil(CoordinatorShell.checked(result(["last", "last"], [oof, test, oof, test, rows])), "a repeated name")
        XCTAssertNil(CoordinatorShell.checked(result(["last"], [oof, Payload(shape: [4, 2], scalars: Array(repeating: 0.5, count: 8)), rows])),
                     "classes differ")
        XCTAssertNil(CoordinatorShell.checked(result(["last"], [oof, test, Payload(shape: [3], scalars: [0, 1, 2])])),
                     "more rows than OOF predictions")
        XCTAssertNil(CoordinatorShell.checked(result(["last"], [oof, test, Payload(shape: [2], scalars: [0.5, 1])])),
                     "a row that is not a whole number")
        XCTAssertNil(CoordinatorShell.checked(result(["last"], [oof, test, Payload(shape: [2], scalars: [-1, 1])])),
                     "a negative row")
    }

    func testSetNamesCannotNameAPath() {
        for name in ["../../etc/passwd", "a/b", "", "résumé", String(repeating: "x", count: 41)] {
            XCTAssertNil(CoordinatorShell.checked(result([name], [oof, test, rows])), name)
        }
        XCTAssertTrue(CoordinatorShell.isSetName("snapshot-12"))
    }
}
