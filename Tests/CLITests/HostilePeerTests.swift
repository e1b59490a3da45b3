import Cluster
import Foundation
import Manifests
import TestSupport
import Training
import XCTest

/// Hostile peers against a real `foldwise coordinator --insecure` process on
/// loopback, spoken for by bare DEALER sockets: lying results fail their
/// attempts and phantom leases cost none, while a real worker finishes the run.
final class HostilePeerTests: ProcessTestCase {
    func testLyingResultsFailTheirAttemptsAndTheRunEndsWithTheRealWorkersPredictions() throws {
        let reference = try ClusterReference.shared.get()
        // Five attempts: the liar's three refusals can never use up a task.
        let manifestURL = try reference.dataset.writeManifest(
            ClusterReference.yaml(cluster: "{heartbeat_interval: 0.25, liveness: 4, retry_delay: 0.1, max_attempts: 5}"), file: "hostile.yaml")
        let dir = scratch.appendingPathComponent("liars")
        let coordinator = try startCoordinator(manifestURL, reference, dir: dir)
        let endpoint = try Self.boundEndpoint(of: coordinator)
        let (manifest, fingerprint) = try Self.identity(manifestURL)

        let liar = try FakePeer(endpoint: endpoint, workerID: "liar", manifest: manifest, fingerprint: fingerprint)
        var told: [String] = []
        for lie in 0..<3 {
            let assignment = try XCTUnwrap(liar.takeTask(), "the liar got no task (\(lie))\n\(coordinator.transcript)")
            try liar.send(.result(Self.lie(lie, assignment, manifest: manifest)))
            told.append(try XCTUnwrap(liar.awaitCancelReason(), "the liar was not told why (\(lie))\n\(coordinator.transcript)"))
        }
        XCTAssertEqual(told.filter { $0.hasPrefix("result refused: ") }.count, 3, "\(told)")
        XCTAssertTrue(told[0].contains("holds nan"), told[0])
        XCTAssertTrue(told[1].contains("classes"), told[1])
        XCTAssertTrue(told[2].contains("claims accuracy 1.0"), told[2])
        XCTAssertTrue(liar.awaitReject()?.contains("quarantined") == true, coordinator.transcript)
        liar.close()

        let worker = try jar.start("worker-real", ["worker", "--connect", endpoint, "--threads", "1", "--id", "real"], in: scratch)
        coordinator.assertExits(0, within: 180)
        worker.assertExits(0, within: 30)
        let attempts = try AttemptRow.all(in: dir)
        XCTAssertEqual(attempts.filter { $0.worker == "liar" }.map(\.outcome), ["failed", "failed", "failed"], "\(attempts)")
        XCTAssertEqual(attempts.filter { $0.outcome == "succeeded" }.count, ClusterReference.taskCount, "\(attempts)")
        XCTAssertTrue(attempts.filter { $0.outcome == "succeeded" }.allSatisfy { $0.worker == "real" }, "\(attempts)")
        for (exported, trained) in [("tiny.last.oof.npy", "tiny/oof.npy"), ("tiny.last.test.npy", "tiny/test.npy")] {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("export/\(exported)")),
                           try Data(contentsOf: reference.trainOut.appendingPathComponent(trained)), exported)
        }
        // Each task's stored score is the one its OOF rows earn (train's fold score), recomputed by the coordinator.
        let scores = try AttemptRow.query(dir, "SELECT t.seed, t.fold, s.value FROM score s JOIN task t ON t.id = s.subject")
        XCTAssertEqual(scores.count, ClusterReference.taskCount)
        for row in scores {
            let summary = try JSONDecoder().decode(FoldSummary.self, from: Data(contentsOf: reference.trainOut
                .appendingPathComponent("tiny/seed\(row[0])/fold\(row[1]).json")))
            XCTAssertEqual(Double(row[2]), summary.score, "seed \(row[0]) fold \(row[1])")
        }
    }

    func testEightPhantomPeersTakingLeasesAndVanishingDoNotEndTheRun() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("phantoms")
        let coordinator = try startCoordinator(reference.fastManifest, reference, dir: dir)
        let endpoint = try Self.boundEndpoint(of: coordinator)
        let (manifest, fingerprint) = try Self.identity(reference.fastManifest)
        var leases = 0
        // Each phantom comes back under its id until it is refused: 8 × 3 leases, more than 6 tasks × 3 attempts.
        for index in 0..<8 {
            for _ in 0..<4 {
                let phantom = try FakePeer(endpoint: endpoint, workerID: "phantom-\(index)", manifest: manifest, fingerprint: fingerprint)
                defer { phantom.close() }
                guard phantom.takeTask() != nil else { break }
                leases += 1
            }
        }
        XCTAssertGreaterThanOrEqual(leases, 18, coordinator.transcript)
        XCTAssertTrue(coordinator.isRunning, coordinator.transcript)
        let worker = try jar.start("worker-real", ["worker", "--connect", endpoint, "--threads", "1", "--id", "real"], in: scratch)
        coordinator.assertExits(0, within: 180)
        worker.assertExits(0, within: 30)
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertEqual(status.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
        XCTAssertEqual(coordinator.stderr.components(separatedBy: "is quarantined for the rest of this run").count - 1, 8,
                       coordinator.stderr)
    }

    func testAFrameOverTheCoordinatorsLimitDropsItsPeerBeforeTheFrameIsRead() throws {
        let reference = try ClusterReference.shared.get()
        let coordinator = try startCoordinator(reference.manifest, reference, dir: scratch.appendingPathComponent("limited"))
        let endpoint = try Self.boundEndpoint(of: coordinator)
        let (manifest, fingerprint) = try Self.identity(reference.manifest)
        // 2 MiB: over this data's limit (1 MiB of headers + twice its largest result frame), under libzmq's none.
        let big = try FakePeer(endpoint: endpoint, workerID: "big", manifest: manifest, fingerprint: fingerprint)
        defer { big.close() }
        XCTAssertNotNil(big.next { if case .welcome = $0 { true } else { nil } }, coordinator.transcript)
        try big.sendRaw([[UInt8](repeating: 0x46, count: 2 << 20)])
        let small = try FakePeer(endpoint: endpoint, workerID: "small", manifest: manifest, fingerprint: fingerprint)
        defer { small.close() }
        try small.sendRaw([[UInt8](repeating: 0x46, count: 64)])
        XCTAssertTrue(eventually(timeout: 20) { coordinator.stderr.contains("dropped a malformed message") }, coordinator.transcript)
        usleep(300_000)
        let malformed = coordinator.stderr.components(separatedBy: "dropped a malformed message").count - 1
        XCTAssertEqual(malformed, 1, "only the small frame was read: \(coordinator.transcript)")
        XCTAssertTrue(coordinator.isRunning)
    }

    // MARK: helpers

    private func startCoordinator(_ manifest: URL, _ reference: ClusterReference.Made, dir: URL) throws -> BackgroundFoldwise {
        try jar.start("coordinator", ["coordinator", manifest.path, "--bind", "tcp://127.0.0.1:*", "--insecure", "--dir", dir.path],
                      in: reference.dataset.directory)
    }

    /// What a peer must know to be admitted: the manifest's hash and the data's fingerprint (anyone with the data knows both).
    static func identity(_ url: URL) throws -> (Manifest, String) {
        let manifest = try Manifest.load(url)
        return (manifest, try ExperimentData(manifest: manifest, threads: 1).fingerprint)
    }

    static func boundEndpoint(of coordinator: BackgroundFoldwise) throws -> String {
        var endpoint: String?
        _ = eventually(timeout: 60, interval: 0.05) {
            endpoint = coordinator.stderr.split(separator: "\n").lazy.compactMap(ClusterCommandTests.endpoint(inLogLine:)).first
            return endpoint != nil || !coordinator.isRunning
        }
        return try XCTUnwrap(endpoint, coordinator.transcript)
    }

    /// Lie `index`: NaN OOF probabilities, one class too few, constant predictions claiming a perfect score.
    static func lie(_ index: Int, _ assignment: TaskAssignment, manifest: Manifest) throws -> TaskResult {
        let data = try ExperimentData(manifest: manifest, threads: 1)
        let fold = assignment.task.fold
        let folds = data.folds(manifest.cv, seed: fold.seed)
        let rows = folds.indices.filter { folds[$0] == fold.fold }
        let classes = index == 1 ? data.classes - 1 : data.classes
        let constant = { (count: Int) in (0..<count).flatMap { _ in [1] + [Float](repeating: 0, count: classes - 1) } }
        var oof = constant(rows.count)
        if index == 0 { oof[0] = .nan }
        let set = SetPredictions(name: "last", oof: oof, test: constant(data.test.ids.count))
        return TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: 1,
                          predictions: TaskPredictions(validationRows: rows, testRows: data.test.ids.count, classes: classes, sets: [set]))
    }
}

/// A peer that speaks the protocol by hand over a DEALER socket.
final class FakePeer {
    private let context: ZMQContext
    private let socket: ZMQSocket
    private var welcomed = false

    init(endpoint: String, workerID: String, manifest: Manifest, fingerprint: String) throws {
        context = try ZMQContext()
        socket = try ZMQSocket(context: context, kind: .dealer)
        try socket.setLinger(seconds: 0)
        try socket.connect(endpoint)
        try send(.hello(Hello(protocolVersion: Int(WireProtocol.version), workerID: workerID, host: "fake", threads: 1,
                              datasetFingerprint: fingerprint, manifestHash: manifest.hash)))
    }

    func send(_ message: Message) throws { try socket.send(frames: message.encode()) }
    func sendRaw(_ frames: [[UInt8]]) throws { try socket.send(frames: frames) }

    /// The first message `match` accepts within `timeout` seconds (heartbeats are answered, others dropped).
    func next<T>(timeout: Double = 10, _ match: (Message) -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let frames = try? socket.receive(timeout: 0.05), let message = try? Message.decode(frames) else { continue }
            if message == .heartbeat { try? send(.heartbeat) }
            if let found = match(message) { return found }
        }
        return nil
    }

    /// The first time, waits for the welcome and says ready; returns the task
    /// it is given next (nil if refused or none comes). A result or failure
    /// says ready again, so later tasks come unasked.
    func takeTask() -> TaskAssignment? {
        if !welcomed {
            welcomed = next { message -> Bool? in
                switch message {
                case .welcome: true
                case .reject: false
                default: nil
                }
            } ?? false
            guard welcomed, (try? send(.ready)) != nil else { return nil }
        }
        return next { if case .task(let assignment) = $0 { assignment } else { nil } }
    }

    func awaitCancelReason() -> String? { next { if case .cancel(let cancel) = $0 { cancel.reason } else { nil } } }
    func awaitReject() -> String? { next { if case .reject(let reject) = $0 { reject.reason } else { nil } } }
    func close() { socket.close() }
}
