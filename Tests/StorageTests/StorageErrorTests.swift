import Foundation
import XCTest
@testable import Storage

final class StorageErrorTests: XCTestCase {
    func testChecksumMismatchNamesTaskSetAndFix() {
        let error = StorageError.checksumMismatch(taskID: "task-3", name: "swa", kind: .oof,
                                                  stored: 0xAB, computed: 0xCBF4_3926)
        let text = error.description
        for part in ["task-3", "swa", "oof", "0x000000ab", "0xcbf43926", "Fix:"] {
            XCTAssertTrue(text.contains(part), "\(part) missing from: \(text)")
        }
        XCTAssertEqual(error.errorDescription, text)
    }

    func testOpeningUnderAFileFailsWithThePath() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: file)
        let target = file.appendingPathComponent("experiment.sqlite")
        XCTAssertThrowsError(try ExperimentDatabase.open(at: target)) { error in
            guard case .cannotOpen(let path, _) = error as? StorageError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(path, target.path)
            XCTAssertTrue("\(error)".contains("Fix:"))
        }
    }

    func testDataMismatchNamesBothFingerprints() {
        let text = StorageError.experimentDataMismatch(hash: "h", recorded: "old-data", given: "new-data").description
        XCTAssertTrue(text.contains("old-data") && text.contains("new-data") && text.contains("Fix:"), text)
    }
}
