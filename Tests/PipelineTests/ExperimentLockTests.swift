import Foundation
import Pipeline
import XCTest

/// One holder of an experiment folder's lock at a time, named to the next.
final class ExperimentLockTests: XCTestCase {
    func testASecondLockOnTheFolderIsRefusedNamingTheHolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)/experiment")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let directory = ExperimentDirectory(folder)
        let held = try XCTUnwrap(try ExperimentLock.acquire(directory))
        XCTAssertEqual(held.owner.pid, getpid())
        XCTAssertThrowsError(try ExperimentLock.acquire(directory)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("another coordinator (pid \(getpid()) on host \(ProcessInfo.processInfo.hostName), started"), text)
            XCTAssertTrue(text.contains(folder.path), text)
        }
        withExtendedLifetime(held) {}
    }

    func testAFolderOfSomethingElseIsNotLocked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        XCTAssertNil(try ExperimentLock.acquire(ExperimentDirectory(folder)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["notes.txt"])
    }
}
