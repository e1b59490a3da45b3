import XCTest
@testable import Storage

/// The owner row: one coordinator at a time, each overwriting the last.
final class CoordinatorOwnerTests: XCTestCase {
    func testTheLatestOwnerIsTheOnlyRow() throws {
        try forEachDatabase { database, label in
            XCTAssertNil(try database.owner(), label)
            try database.recordOwner(CoordinatorOwnerRecord(pid: 41, host: "a", startedAt: testDate))
            let second = CoordinatorOwnerRecord(pid: 42, host: "b", startedAt: testDate.addingTimeInterval(60))
            try database.recordOwner(second)
            XCTAssertEqual(try database.owner(), second, label)
        }
    }
}
