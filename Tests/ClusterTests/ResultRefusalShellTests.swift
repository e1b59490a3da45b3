import Cluster
import Foundation
import Manifests
import Storage
import TestSupport
import Training
import XCTest

/// A hostile worker, spoken for by a bare DEALER over loopback, sends results
/// that lie: the coordinator refuses each with a logged reason, tells the
/// worker why (a cancel with the reason), fails the attempt (retried, then
/// abandoned) and stores nothing.
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
                                               settings: CoordinatorSettings(maxAttempts: 3, retryDelay: 0.05,
                                                                             peerPolicy: PeerPolicy(freeLostLeases: 0, quarantineAfter: 100)),
                                               log: { log.add($0) })
        defer { coordinator.close(linger: 0) }
        coordinator.reference = ResultReference(manifest: manifest, data: data)
        let worker = try ZMQSocket(context: context, kind: .dealer)
        defer { worker.close() }
        try worker.setLinger(seconds: 0)
        try worker.connect("tcp://127.0.0.1:\(try XCTUnwrap(coordinator.port))")
        try worker.send(frames: Message.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: "liar", host: "loopback",
                                                    threads: 1, datasetFingerprint: data.fingerprint,
                                                    manifestHash: manifest.hash)).encode())
        var sent = 0, reasons: [String] = []
        let deadline = Date().addingTimeInterval(30)
        while !coordinator.logic.isFinished, Date() < deadline {
            _ = try coordinator.run(until: Date().addingTimeInterval(0.2))
            while let frames = try worker.receive(timeout: 0) {
                switch try Message.decode(frames) {
                case .welcome: try worker.send(frames: Message.ready.encode())
                case .task(let assignment):
                    try worker.send(frames: Message.result(lie(sent, assignment, manifest, data)).encode())
                    sent += 1
                case .cancel(let cancel): reasons += cancel.reason.map { [$0] } ?? []
                default: break
                }
            }
        }
        XCTAssertTrue(coordinator.logic.isFinished, "the coordinator did not give up on both tasks within 30 s")
        XCTAssertEqual(sent, 6, "two tasks, three attempts each")
        XCTAssertEqual(coordinator.logic.summary.abandoned, 2)
        var messages: [String] = []
        for task in try coordinator.database.tasks(experimentID: coordinator.experimentID) {
            XCTAssertEqual(task.state, .failed)
            XCTAssertEqual(try coordinator.database.predictions(taskID: task.id), [])
            let attempts = try coordinator.database.attempts(taskID: task.id)
            XCTAssertEqual(attempts.map(\.outcome), [.failed, .failed, .failed])
            messages += attempts.compactMap(\.message)
        }
        XCTAssertTrue(messages.allSatisfy { $0.hasPrefix("result refused: ") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("holds nan: the model diverged") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("outside the coordinator's \(data.train.ids.count) train rows") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("holds 1.1, above 1") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("the coordinator's data has \(data.classes)") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("the worker split the data otherwise") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("claims accuracy 1.0, but its OOF rows score") }, "\(messages)")
        XCTAssertEqual(log.all.filter { $0?.hasPrefix("refused the result of task") == true }.count, 6, "\(log.all)")
        // Every cancel went out with its refusal; the last may still be in flight.
        let told = Date().addingTimeInterval(5)
        while drain(worker, &reasons) < 6, Date() < told { usleep(10_000) }
        XCTAssertEqual(reasons.count, 6, "the worker was told why of \(reasons.count) refusals: \(reasons)")
        XCTAssertEqual(Set(reasons), Set(messages))
    }

    /// Counts the refusals the worker has been told of since.
    private func drain(_ worker: ZMQSocket, _ reasons: inout [String]) -> Int {
        while let frames = try? worker.receive(timeout: 0) {
            if case .cancel(let cancel) = try? Message.decode(frames), let reason = cancel.reason { reasons.append(reason) }
        }
        return reasons.count
    }

    /// The `index`th lie: a NaN, a row the data does not have, a probability
    /// above 1, one class too few, rows of another fold, constant predictions claiming
    /// a perfect score. Each is otherwise the task's true shape.
    private func lie(_ index: Int, _ assignment: TaskAssignment, _ manifest: Manifest, _ data: ExperimentData) -> TaskResult {
        let (classes, testRows) = (data.classes, data.test.ids.count)
        let reference = ResultReference(manifest: manifest, data: data)
        let rows = reference.validationRows(seed: assignment.task.fold.seed, fold: assignment.task.fold.fold) ?? []
        let uniform = { (rows: Int, classes: Int) in [Float](repeating: 1 / Float(classes), count: rows * classes) }
        var set = SetPredictions(name: "last", oof: uniform(rows.count, classes), test: uniform(testRows, classes))
        var predictions = TaskPredictions(validationRows: rows, testRows: testRows, classes: classes, sets: [])
        var score = reference.metric.score(probabilities: set.oof, classes: classes, labels: rows.map { data.train.labels[$0] })
        switch index % 6 {
        case 0: set.oof[3] = .nan
        case 1: predictions.validationRows[0] = data.train.ids.count
        case 2: set.test[0] += 1
        case 3:
            predictions.classes = classes - 1
            set = SetPredictions(name: "last", oof: uniform(rows.count, classes - 1), test: uniform(testRows, classes - 1))
        case 4: predictions.validationRows = Array(0..<data.train.ids.count).filter { !rows.contains($0) }.prefix(rows.count).map { $0 }
        default: score = 1
        }
        predictions.sets = [set]
        return TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: score, predictions: predictions)
    }
}
