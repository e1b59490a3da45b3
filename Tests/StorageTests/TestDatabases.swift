import Foundation
import XCTest
@testable import Storage

/// A fixed clock reading with whole seconds, since SQLite stores dates to the millisecond.
let testDate = Date(timeIntervalSince1970: 1_700_000_000)

/// A fresh folder under the system's temporary directory, removed by the caller.
func makeTemporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("foldwise-storage-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Runs `body` once on an in-memory database and once on a new database file,
/// so every behaviour is checked on both (the label names which one failed).
func forEachDatabase(_ body: (ExperimentDatabase, String) throws -> Void) throws {
    try body(try ExperimentDatabase.inMemory(), "in-memory")
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try body(try ExperimentDatabase.open(at: folder.appendingPathComponent("experiment.sqlite")), "on-disk")
}

/// Registers one experiment with `count` tasks (fold = index) and returns them.
func seedTasks(_ database: ExperimentDatabase, count: Int = 3) throws -> (experimentID: Int64, tasks: [TaskRecord]) {
    let experimentID = try database.registerExperiment(
        name: "digits", manifestJSON: #"{"name":"digits"}"#, hash: "hash-1", dataFingerprint: "data-1", now: testDate)
    let tasks = (0..<count).map { fold in
        TaskRecord(id: "task-\(fold)", experimentID: experimentID, stage: "train", model: "resnet_ref",
                   seed: 7, fold: fold, round: 0, updatedAt: testDate)
    }
    try database.insertTasks(tasks)
    return (experimentID, tasks)
}

/// Values whose bit patterns a lossy path would change: signed zero, NaN, infinities, subnormals.
func awkwardPredictions(name: String = "last", kind: PredictionKind = .oof) -> PredictionSet {
    let values: [Float] = [0.25, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude,
                           .greatestFiniteMagnitude, 1.0 / 3.0, -7.5, 1e-20, 0.999_999_9, 42]
    return PredictionSet(name: name, kind: kind, shape: [4, 3], values: values)
}

func assertBitIdentical(_ actual: PredictionSet, _ expected: PredictionSet, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.name, expected.name, label, file: file, line: line)
    XCTAssertEqual(actual.kind, expected.kind, label, file: file, line: line)
    XCTAssertEqual(actual.shape, expected.shape, label, file: file, line: line)
    XCTAssertEqual(actual.values.map(\.bitPattern), expected.values.map(\.bitPattern), label, file: file, line: line)
}
