import Cluster
import Foundation
import Manifests
import Storage
import TestSupport
import Training
import XCTest

/// A hostile worker, spoken for by a bare DEALER over loopback, sends results
/// that lie: the coordinator refuses each with a logged reason, fails the
/// attempt (retried, then abandoned) and stores nothing.
final class ResultRefusalShellTests: XCTestCase {
    func testLyingResultsFailTheirAttemptsAndAreNeverStored() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try Manifest.load(try dataset.writeManifest(dataset.manifestYAML()))
        let data = try ExperimentData(manifest: manifest, threads: 1)
        let context = try ZMQContext()
        let log = ShellTests.Outcomes()
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint, database: try ExperimentDatabase.inMemory(),
                                               settings: CoordinatorSettings(maxAttempts: 2, retryDelay: 0.05),
                                               log: { log.add($0) })
        defer { coordinator.close(linger: 0) }
        coordinator.dataShape = DataShape(data)
        let worker = try ZMQSocket(context: context, kind: .dealer)
        defer { worker.close() }
        try worker.setLinger(seconds: 0)
        try worker.connect("tcp://127.0.0.1:\(try XCTUnwrap(coordinator.port))")
        try worker.send(frames: Message.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "liar", host: "loopback",
                                                    threads: 1, datasetFingerprint: data.fingerprint,
                                                    manifestHash: manifest.hash)).encode())
        var sent = 0
        let deadline = Date().addingTimeInterval(30)
        while !coordinator.logic.isFinished, Date() < deadline {
            _ = try coordinator.run(until: Date().addingTimeInterval(0.2))
            while let frames = try worker.receive(timeout: 0) {
                switch try Message.decode(frames) {
                case .welcome: try worker.send(frames: Message.ready.encode())
                case .task(let assignment):
                    try worker.send(frames: Message.result(lie(sent, assignment, data)).encode())
                    sent += 1
                default: break
                }
            }
        }
        XCTAssertTrue(coordinator.logic.isFinished, "the coordinator did not give up on both tasks within 30 s")
        XCTAssertEqual(sent, 4, "two tasks, two attempts each")
        XCTAssertEqual(coordinator.logic.summary.abandoned, 2)
        var messages: [String] = []
        for task in try coordinator.database.tasks(experimentID: coordinator.experimentID) {
            XCTAssertEqual(task.state, .failed)
            XCTAssertEqual(try coordinator.database.predictions(taskID: task.id), [])
            let attempts = try coordinator.database.attempts(taskID: task.id)
            XCTAssertEqual(attempts.map(\.outcome), [.failed, .failed])
            messages += attempts.compactMap(\.message)
        }
        XCTAssertTrue(messages.allSatisfy { $0.hasPrefix("result refused: ") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("holds nan: the model diverged") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("outside the coordinator's \(data.train.ids.count) train rows") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("sums to 2") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("the coordinator's data has \(data.classes)") }, "\(messages)")
        XCTAssertEqual(log.all.filter { $0?.hasPrefix("refused the result of task") == true }.count, 4, "\(log.all)")
    }

    /// The `index`th lie: a NaN, a row the data does not have, a row summing to 2, one class too few.
    private func lie(_ index: Int, _ assignment: TaskAssignment, _ data: ExperimentData) -> TaskResult {
        let (classes, testRows) = (data.classes, data.test.ids.count)
        let uniform = { (rows: Int, classes: Int) in [Float](repeating: 1 / Float(classes), count: rows * classes) }
        var set = SetPredictions(name: "last", oof: uniform(2, classes), test: uniform(testRows, classes))
        var predictions = TaskPredictions(validationRows: [0, 1], testRows: testRows, classes: classes, sets: [])
        switch index % 4 {
        case 0: set.oof[3] = .nan
        case 1: predictions.validationRows = [0, data.train.ids.count]
        case 2: set.test[0] += 1
        default:
            predictions.classes = classes - 1
            set = SetPredictions(name: "last", oof: uniform(2, classes - 1), test: uniform(testRows, classes - 1))
        }
        predictions.sets = [set]
        return TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: 0.5, predictions: predictions)
    }
}
