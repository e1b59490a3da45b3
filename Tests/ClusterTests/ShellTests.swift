import Cluster
import Foundation
import Manifests
import Storage
import TestSupport
import Training
import XCTest

/// Coordinator and worker shells over real loopback sockets, on threads of
/// this process, with the tiny two-fold digits manifest.
final class ShellTests: XCTestCase {
    /// Strings handed over from other threads (worker exit reasons, log lines); each one signals `finished`.
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var reasons: [String?] = []
        let finished = DispatchSemaphore(value: 0)
        func add(_ reason: String?) { lock.withLock { reasons.append(reason) }; finished.signal() }
        var all: [String?] { lock.withLock { reasons } }
    }

    func testTwoWorkersTrainEveryTaskOnceAndARestartTrainsNothing() throws {
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let manifest = try Manifest.load(try dataset.writeManifest(dataset.manifestYAML()))
        let data = try ExperimentData(manifest: manifest, threads: 1)
        let databaseURL = dataset.url("experiment/experiment.sqlite")
        let context = try ZMQContext()

        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint,
                                               database: try ExperimentDatabase.open(at: databaseURL))
        coordinator.reference = ResultReference(manifest: manifest, data: data)
        let port = try XCTUnwrap(coordinator.port)
        let outcomes = Outcomes()
        for index in 0..<2 {
            Thread {
                let worker = WorkerShell(context: context, endpoint: "tcp://127.0.0.1:\(port)", manifest: manifest,
                                         data: data, workerID: "worker-\(index)", host: "loopback", threads: 1)
                outcomes.add(try? worker.run(until: Date().addingTimeInterval(60)))
            }.start()
        }
        XCTAssertTrue(try coordinator.run(until: Date().addingTimeInterval(60)), "the run did not finish within 60 s")
        coordinator.close()
        for _ in 0..<2 { XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success) }
        XCTAssertEqual(outcomes.all.count, 2)
        for reason in outcomes.all {
            XCTAssertEqual(reason, "the coordinator shut this worker down: all tasks are finished")
        }

        let database = coordinator.database
        let tasks = try database.tasks(experimentID: coordinator.experimentID)
        XCTAssertEqual(tasks.map(\.fold).sorted(), [0, 1])
        let runner = FoldRunner(manifest: manifest, data: data)
        for task in tasks {
            XCTAssertEqual(task.state, .done)
            XCTAssertEqual(task.attempts, 1)
            XCTAssertEqual(try database.attempts(taskID: task.id).map(\.outcome), [.succeeded])
            XCTAssertEqual(try database.epochs(taskID: task.id).map(\.epoch), [1])
            let direct = runner.run(FoldTask(model: task.model, seed: task.seed, fold: task.fold))
            let stored = try database.predictions(taskID: task.id)
            let oof = try XCTUnwrap(stored.first { $0.kind == .oof })
            let test = try XCTUnwrap(stored.first { $0.kind == .test })
            XCTAssertEqual(oof.shape, [direct.validationRows.count, 10])
            XCTAssertEqual(oof.values.map(\.bitPattern), direct.oof.scalars.map(\.bitPattern))
            XCTAssertEqual(test.shape, [20, 10])
            XCTAssertEqual(test.values.map(\.bitPattern), direct.test.scalars.map(\.bitPattern))
        }

        let restarted = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                             dataFingerprint: data.fingerprint,
                                             database: try ExperimentDatabase.open(at: databaseURL))
        defer { restarted.close(linger: 0) }
        XCTAssertTrue(restarted.logic.isFinished)
        XCTAssertEqual(restarted.logic.summary.done, 2)
        XCTAssertTrue(try restarted.run(until: Date().addingTimeInterval(5)))
        for task in try restarted.database.tasks(experimentID: restarted.experimentID) {
            XCTAssertEqual(try restarted.database.attempts(taskID: task.id).count, 1, "task \(task.id) was trained again")
        }
        XCTAssertTrue(try restarted.database.integrityCheck())
    }

    func testAWorkerWithOtherDataIsRejectedAndBothSidesSayWhy() throws {
        let (_, manifest, data) = try smallExperiment()
        let context = try ZMQContext()
        let coordinatorLog = Outcomes()
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: "00000000deadbeef", database: try ExperimentDatabase.inMemory(),
                                               log: { coordinatorLog.add($0) })
        defer { coordinator.close(linger: 0) }
        let port = try XCTUnwrap(coordinator.port)
        let outcomes = Outcomes()
        Thread {
            let worker = WorkerShell(context: context, endpoint: "tcp://127.0.0.1:\(port)", manifest: manifest,
                                     data: data, workerID: "stranger", host: "loopback", threads: 1)
            outcomes.add(try? worker.run(until: Date().addingTimeInterval(10)))
        }.start()
        XCTAssertFalse(try coordinator.run(until: Date().addingTimeInterval(1.5)))
        XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success)
        let reason = try XCTUnwrap(outcomes.all.first ?? nil)
        XCTAssertTrue(reason.hasPrefix("the coordinator rejected this worker: dataset fingerprint mismatch"), reason)
        XCTAssertTrue(reason.contains(data.fingerprint) && !reason.contains("00000000deadbeef"), reason)
        XCTAssertTrue(coordinatorLog.all.contains { $0?.hasPrefix("rejected dataset fingerprint mismatch") == true },
                      "\(coordinatorLog.all)")
        XCTAssertEqual(coordinator.logic.summary.queued, 2)
        XCTAssertEqual(try coordinator.database.counts(experimentID: coordinator.experimentID)[.queued], 2)
    }

    /// The files that came with a manifest land in the cache, one folder per digest, by the
    /// path the manifest writes (`Manifest.localCopies`); writing the same file again is harmless.
    func testShippedFilesAreStoredByDigestAndResolveThere() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let offer = ManifestOffer(hash: "m", json: "{}", directory: "/exp",
                                  files: [("runs/a/pre.ckpt", [1, 2, 3]), ("/abs/other.ckpt", [9])])
        for _ in 0..<2 {
            let copies = try WorkerShell.store(offer, in: cache)
            XCTAssertEqual(copies.keys.sorted(), ["/abs/other.ckpt", "runs/a/pre.ckpt"])
            XCTAssertEqual(copies["runs/a/pre.ckpt"]?.path,
                           cache.appendingPathComponent("\(ShippedFile.digest([1, 2, 3]))/pre.ckpt").path)
            XCTAssertEqual(try Data(contentsOf: XCTUnwrap(copies["runs/a/pre.ckpt"])), Data([1, 2, 3]))
            XCTAssertEqual(try Data(contentsOf: XCTUnwrap(copies["/abs/other.ckpt"])), Data([9]))
        }
    }

    func testAWorkerWithoutACoordinatorReturnsAtItsDeadline() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try Manifest.load(try dataset.writeManifest(dataset.manifestYAML()))
        let worker = WorkerShell(context: try ZMQContext(), endpoint: "tcp://127.0.0.1:1", manifest: manifest,
                                 data: try ExperimentData(manifest: manifest, threads: 1), workerID: "alone", threads: 1)
        let started = Date()
        XCTAssertNil(try worker.run(until: started.addingTimeInterval(0.5)))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertEqual(worker.logic.state, .helloSent)
    }

    /// The two-fold digits experiment most tests here run (its folder is removed
    /// after the test), and its loaded data.
    private func smallExperiment() throws -> (dataset: TemporaryDataset, manifest: Manifest, data: ExperimentData) {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        let directory = dataset.directory
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let manifest = try Manifest.load(try dataset.writeManifest(dataset.manifestYAML()))
        return (dataset, manifest, try ExperimentData(manifest: manifest, threads: 1))
    }

    /// A worker with the manifest's data on its own thread for up to 30 s: its log
    /// lines, and its exit reason once it returns.
    private func startWorker(_ id: String, port: Int, context: ZMQContext, manifest: Manifest,
                             data: ExperimentData) -> (log: Outcomes, outcomes: Outcomes) {
        let workerLog = Outcomes(), outcomes = Outcomes()
        Thread {
            let worker = WorkerShell(context: context, endpoint: "tcp://127.0.0.1:\(port)", manifest: manifest,
                                     data: data, workerID: id, host: "loopback", threads: 1,
                                     log: { workerLog.add($0) })
            outcomes.add(try? worker.run(until: Date().addingTimeInterval(30)))
        }.start()
        return (workerLog, outcomes)
    }

    /// The coordinator binds but does not answer for longer than the worker's
    /// liveness window: the worker drops its socket, reconnects on a new one
    /// and is served once the coordinator runs (a stale hello from the old
    /// socket cannot be answered and is only logged).
    func testASilentCoordinatorMakesTheWorkerReconnectAndTheRunStillCompletes() throws {
        let (_, manifest, data) = try smallExperiment()
        let context = try ZMQContext()
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint, database: try ExperimentDatabase.inMemory())
        defer { coordinator.close(linger: 0) }
        let port = try XCTUnwrap(coordinator.port)
        let (workerLog, outcomes) = startWorker("patient", port: port, context: context, manifest: manifest, data: data)
        let silence = Double(WireProtocol.liveness) * WireProtocol.heartbeatInterval
        Thread.sleep(forTimeInterval: silence + WireProtocol.reconnectInitialDelay + 0.3)
        XCTAssertTrue(try coordinator.run(until: Date().addingTimeInterval(20)))
        XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(outcomes.all.first ?? nil, "the coordinator shut this worker down: all tasks are finished")
        XCTAssertTrue(workerLog.all.contains { $0?.hasPrefix("coordinator silent for") == true }, "\(workerLog.all)")
        let counts = try coordinator.database.counts(experimentID: coordinator.experimentID)
        XCTAssertEqual(counts[.done], 2)
    }

    /// Between two stages the coordinator computes (the level-2 stage) for longer than the
    /// workers' liveness window; `serve` keeps heartbeating meanwhile, so no worker takes it
    /// for dead and reconnects, and the computation's value or error comes back.
    func testWorkersStayConnectedWhileTheCoordinatorComputesBetweenStages() throws {
        let (_, manifest, data) = try smallExperiment()
        let context = try ZMQContext()
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint, database: try ExperimentDatabase.inMemory(),
                                               settings: CoordinatorSettings(heartbeatInterval: 0.1))
        defer { coordinator.close(linger: 0) }
        coordinator.holdsWorkers = true
        let port = try XCTUnwrap(coordinator.port)
        let (workerLog, outcomes) = startWorker("steady", port: port, context: context, manifest: manifest, data: data)
        XCTAssertTrue(try coordinator.run(until: Date().addingTimeInterval(30)))
        // Five times the worker's liveness window (3 × 0.1 s).
        XCTAssertEqual(try coordinator.serve { Thread.sleep(forTimeInterval: 1.5); return 42 }, 42)
        struct Boom: Error {}
        XCTAssertThrowsError(try coordinator.serve { () throws -> Int in throw Boom() }) { XCTAssertTrue($0 is Boom) }
        try coordinator.shutdownWorkers()
        XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(outcomes.all.last ?? nil, "the coordinator shut this worker down: all tasks are finished")
        XCTAssertFalse(workerLog.all.contains { $0?.hasPrefix("coordinator silent for") == true }, "\(workerLog.all)")
    }

    func testARestartRetriesTasksThatFailedForGoodAndRequeuesRunningOnes() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try Manifest.load(try dataset.writeManifest(dataset.manifestYAML()))
        let databaseURL = dataset.url("experiment/experiment.sqlite")
        let context = try ZMQContext()
        let first = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                         dataFingerprint: "f", database: try ExperimentDatabase.open(at: databaseURL))
        first.close(linger: 0)
        let (failed, running) = (CoordinatorShell.tasks(for: manifest)[0].id, CoordinatorShell.tasks(for: manifest)[1].id)
        let database = first.database
        XCTAssertEqual(try database.startAttempt(taskID: failed, worker: "w", host: "h"), 1)
        XCTAssertTrue(try database.failAttempt(taskID: failed, attempt: 1, message: "boom", requeue: false))
        XCTAssertEqual(try database.startAttempt(taskID: running, worker: "w", host: "h"), 1)

        let second = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                          dataFingerprint: "f", database: try ExperimentDatabase.open(at: databaseURL))
        defer { second.close(linger: 0) }
        XCTAssertEqual(second.logic.summary.queued, 2)
        XCTAssertEqual(second.logic.summary.done, 0)
        XCTAssertEqual(try second.database.task(id: running)?.state, .queued)
        XCTAssertEqual(try second.database.task(id: failed)?.state, .queued)
        XCTAssertEqual(try second.database.attempts(taskID: running).map(\.outcome), [.abandoned])
        XCTAssertEqual(try second.database.attempts(taskID: failed).map(\.outcome), [.failed])
    }

    /// Each task trains for longer than the 0.75 s liveness window (150 short
    /// epochs: about 0.3 s in release on a quiet machine, several seconds on a
    /// busy one or in debug); a worker whose training blocked its poll loop would
    /// lose its lease, and with one attempt allowed the task would fail. The
    /// window is wide enough that a loaded CI machine's scheduling stalls do not
    /// expire a healthy lease, and the deadline leaves room for a machine whose
    /// other cores are busy.
    func testHeartbeatsKeepFlowingWhileATaskTrains() throws {
        let dataset = try TemporaryDataset.digits(perClass: 10)
        defer { dataset.remove() }
        let manifest = try Manifest.load(try dataset.writeManifest(dataset.manifestYAML(epochs: "150")))
        let data = try ExperimentData(manifest: manifest, threads: 1)
        let context = try ZMQContext()
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint, database: try ExperimentDatabase.inMemory(),
                                               settings: CoordinatorSettings(maxAttempts: 1, heartbeatInterval: 0.25))
        defer { coordinator.close(linger: 0) }
        coordinator.pollInterval = 0.02
        let port = try XCTUnwrap(coordinator.port)
        let outcomes = Outcomes()
        Thread {
            let worker = WorkerShell(context: context, endpoint: "tcp://127.0.0.1:\(port)", manifest: manifest,
                                     data: data, workerID: "steady", host: "loopback", threads: 1)
            worker.pollInterval = 0.02
            outcomes.add(try? worker.run(until: Date().addingTimeInterval(180)))
        }.start()
        XCTAssertTrue(try coordinator.run(until: Date().addingTimeInterval(180)))
        XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success)
        for task in try coordinator.database.tasks(experimentID: coordinator.experimentID) {
            XCTAssertEqual(task.state, .done)
            XCTAssertEqual(try coordinator.database.attempts(taskID: task.id).count, 1)
            XCTAssertEqual(try coordinator.database.epochs(taskID: task.id).map(\.epoch), Array(1...150))
        }
    }

    func testTasksAreEveryModelSeedAndFoldWithDistinctIDs() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let yaml = dataset.manifestYAML().replacingOccurrences(of: "seeds: [0]", with: "seeds: [0, 7]")
        let manifest = try Manifest.load(try dataset.writeManifest(yaml))
        let tasks = CoordinatorShell.tasks(for: manifest)
        XCTAssertEqual(tasks.map { [$0.fold.seed, $0.fold.fold] }, [[0, 0], [0, 1], [7, 0], [7, 1]])
        XCTAssertTrue(tasks.allSatisfy { $0.stage == "base" && $0.round == 0 && $0.manifestHash == manifest.hash })
        XCTAssertEqual(Set(tasks.map(\.id)).count, 4)
    }

    func testAWorkerWithoutAManifestTakesTheCoordinatorsAndReadsTheDataUnderItsDataRoot() throws {
        let (dataset, manifest, data) = try smallExperiment()
        // The worker's copy of the data lives elsewhere; the coordinator's images are gone once it has loaded them.
        let workerRoot = dataset.url("worker-copy")
        try FileManager.default.createDirectory(at: workerRoot, withIntermediateDirectories: true)
        for item in ["train.csv", "train", "test", "sample_submission.csv", "test_labels.csv"] {
            try FileManager.default.copyItem(at: dataset.url(item), to: workerRoot.appendingPathComponent(item))
        }
        try FileManager.default.moveItem(at: dataset.url("train"), to: dataset.url("train-elsewhere"))
        let context = try ZMQContext()
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint, database: try ExperimentDatabase.inMemory())
        defer { coordinator.close(linger: 0) }
        coordinator.reference = ResultReference(manifest: manifest, data: data)
        let port = try XCTUnwrap(coordinator.port)
        let outcomes = Outcomes(), workerLog = Outcomes()
        Thread {
            let worker = WorkerShell(context: context, endpoint: "tcp://127.0.0.1:\(port)", workerID: "remote", host: "loopback",
                                     threads: 1, dataRoot: workerRoot, log: { workerLog.add($0) })
            outcomes.add(try? worker.run(until: Date().addingTimeInterval(60)))
        }.start()
        XCTAssertTrue(try coordinator.run(until: Date().addingTimeInterval(60)), "the run did not finish within 60 s")
        coordinator.close()
        XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(outcomes.all.first ?? nil, "the coordinator shut this worker down: all tasks are finished")
        XCTAssertTrue(workerLog.all.contains { $0?.hasPrefix("loading the data of manifest \(manifest.hash)") == true }, "\(workerLog.all)")
        XCTAssertEqual(try coordinator.database.counts(experimentID: coordinator.experimentID)[.done], 2)
    }

    func testAWorkerWhoseKeyIsNotAllowedIsRefusedAndBothSidesSayWhy() throws {
        let (_, manifest, data) = try smallExperiment()
        let (server, allowed, stranger) = (KeyPair.generate(), KeyPair.generate(), KeyPair.generate())
        let security = ServerSecurity(keyPair: server, allowedKeys: [allowed.publicKey])
        let context = try ZMQContext()
        let coordinatorLog = Outcomes()
        var zap: ZAPHandler?
        let coordinator = try CoordinatorShell(context: context, endpoint: "tcp://127.0.0.1:*", manifest: manifest,
                                               dataFingerprint: data.fingerprint, database: try ExperimentDatabase.inMemory(),
                                               configure: { zap = try security.apply(to: $0, context: context) },
                                               log: { coordinatorLog.add($0) })
        defer { coordinator.close(linger: 0); zap?.stop() }
        let port = try XCTUnwrap(coordinator.port)
        let outcomes = Outcomes()
        let client = ClientSecurity(keyPair: stranger, serverPublicKey: server.publicKey)
        Thread {
            let worker = WorkerShell(context: context, endpoint: "tcp://127.0.0.1:\(port)", workerID: "stranger", host: "loopback",
                                     threads: 1, configure: { try client.apply(to: $0) })
            outcomes.add(try? worker.run(until: Date().addingTimeInterval(10)))
        }.start()
        XCTAssertFalse(try coordinator.run(until: Date().addingTimeInterval(1.5)))
        XCTAssertEqual(outcomes.finished.wait(timeout: .now() + 10), .success)
        let reason = try XCTUnwrap(outcomes.all.first ?? nil)
        XCTAssertTrue(reason.contains("refused this worker's CURVE key"), reason)
        XCTAssertTrue(coordinatorLog.all.contains { $0?.contains("CURVE key is not allowed") == true }, "\(coordinatorLog.all)")
        XCTAssertEqual(coordinator.logic.summary.workers, 0)
        XCTAssertEqual(zap?.takeRejections().first?.clientKey, stranger.publicKey)
    }
}
