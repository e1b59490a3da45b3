import Foundation
import TestSupport
import XCTest

/// End-to-end tests of `foldwise run`, `coordinator`, `worker`, `status` and
/// `export` with real processes on loopback: every task trained once, results
/// bit-identical to `foldwise train --threads 1`, a worker or the coordinator
/// killed with SIGKILL mid-run, malformed frames, and refusals.
final class ClusterCommandTests: ProcessTestCase {
    // MARK: run

    func testRunWithTwoWorkersTrainsEveryTaskOnceLikeTrainAndResumesWithoutTraining() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("run")
        let arguments = ["run", reference.manifest.path, "--workers", "2", "--threads", "1", "--dir", dir.path, "--json"]
        let first = try FoldwiseProcess.run(arguments, in: reference.dataset.directory, timeout: 120)
        assertSucceeded(first)

        let summary = try JSONDecoder.snakeCase.decode(RunJSON.self, from: Data(first.lastLine.utf8))
        XCTAssertEqual(summary.directory, dir.path)
        XCTAssertEqual(summary.database, dir.appendingPathComponent("experiment.sqlite").path)
        XCTAssertEqual(summary.metric, "accuracy")
        XCTAssertEqual(summary.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
        XCTAssertEqual(summary.sets.map(\.name), ["tiny/last"])
        XCTAssertEqual(summary.sets.first?.seeds, ClusterReference.seeds)
        // Same arrays, same metric code: the scores are equal, not just close.
        XCTAssertEqual(summary.sets.first?.oofScore, reference.oofScore)
        XCTAssertEqual(summary.sets.first?.testScore, reference.testScore)
        XCTAssertTrue(summary.paths.contains(dir.appendingPathComponent("export/tiny.last.oof.npy").path), "\(summary.paths)")
        XCTAssertTrue(summary.paths.contains(dir.appendingPathComponent("export/oof.csv").path), "\(summary.paths)")
        for worker in 1...2 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("logs/worker-\(worker).log").path))
        }

        let attempts = try AttemptRow.all(in: dir)
        assertEveryTaskSucceededOnce(attempts)
        XCTAssertEqual(attempts.count, ClusterReference.taskCount, "\(attempts)")
        XCTAssertTrue(Set(attempts.map(\.worker)).isSubset(of: ["local-1", "local-2"]), "\(attempts)")
        try assertExportMatchesTrain(dir, reference)
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertTrue(status.integrityOk)
        XCTAssertEqual(status.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
        XCTAssertTrue(status.problems.isEmpty, "\(status.problems)")
        XCTAssertEqual(status.scores.first { $0.metric == "oof:accuracy" }?.value, reference.oofScore)

        // Everything is done: the second run starts no worker, trains nothing and prints the same.
        let second = try FoldwiseProcess.run(arguments, in: reference.dataset.directory, timeout: 60)
        assertSucceeded(second)
        XCTAssertEqual(second.stdout, first.stdout)
        XCTAssertTrue(second.stderr.contains("(\(ClusterReference.taskCount) already done)"), second.stderr)
        XCTAssertEqual(try AttemptRow.all(in: dir), attempts)
    }

    // MARK: a worker killed

    func testWorkerKilledMidTaskLosesItsLeaseAndTheRunEndsWithTheUndisturbedOOF() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("killed-worker")
        let coordinator = try startCoordinator(reference, dir: dir)
        let endpoint = try boundEndpoint(of: coordinator)
        let victim = try startWorker(reference, endpoint: endpoint, id: "victim")

        let survivor = try startWorker(reference, endpoint: endpoint, id: "survivor")

        // Mid-task: the victim holds a lease and has stored at least one epoch of it. A task
        // takes a fraction of a second, so this polls the database directly, not through status.
        // Seeing a running attempt is not enough: its result may already be on the wire (CI
        // once caught a victim that had just finished, so its next task was merely handed
        // back). So the victim is frozen and the attempt watched until the coordinator settles
        // it, whatever the machine's load: succeeded (the result was on its way: thaw the victim
        // and hunt on) or abandoned (silent past the liveness limit, 1 s: its lease is lost
        // mid-task, so it dies).
        var caught = false
        _ = try eventually(interval: 0.005) {
            guard let held = try? AttemptRow.training("victim", in: dir) else { return !coordinator.isRunning }
            victim.send(SIGSTOP)
            var outcome = "running"
            _ = eventually(timeout: 30, interval: 0.02) {
                outcome = (try? AttemptRow.outcome(of: held, in: dir)) ?? "running"
                return outcome != "running"
            }
            caught = outcome == "abandoned"
            victim.send(caught ? SIGKILL : SIGCONT)
            return caught || !coordinator.isRunning
        }
        XCTAssertTrue(caught, "the victim was never caught mid-task\n\(coordinator.transcript)")
        XCTAssertNotNil(victim.waitForExit(timeout: 10))

        coordinator.assertExits(0)
        survivor.assertExits(0)
        XCTAssertTrue(coordinator.stderr.contains("lease is lost"), coordinator.stderr)
        // The task the victim held when it died (it may have finished others before):
        // its attempt is abandoned, and a later attempt on the survivor succeeded.
        let attempts = try AttemptRow.all(in: dir)
        assertEveryTaskSucceededOnce(attempts)
        // Only the victim's lease must be lost; on a starved machine the survivor's may be too
        // (then it is retried like any lost lease), so its attempts are not pinned here.
        // (A thawed victim may lose a later lease too if the coordinator took a second to take its result.)
        let lost = attempts.filter { $0.outcome != "succeeded" && $0.worker == "victim" }
        XCTAssertFalse(lost.isEmpty, "\(attempts)")
        for lost in lost {
            XCTAssertEqual(lost.outcome, "abandoned", "\(attempts)")
            XCTAssertTrue(attempts.contains { $0.task == lost.task && $0.attempt > lost.attempt && $0.worker == "survivor"
                                              && $0.outcome == "succeeded" }, "\(attempts)")
        }
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertTrue(status.integrityOk)
        XCTAssertEqual(status.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
        XCTAssertTrue(status.problems.contains { $0.worker == "victim" }, "\(status.problems)")
        XCTAssertTrue(status.problems.allSatisfy { $0.outcome == "abandoned" && $0.message.contains("lease is lost") },
                      "\(status.problems)\n\(coordinator.stderr)")
        try assertExportMatchesTrain(dir, reference)
    }

    // MARK: the coordinator killed

    func testCoordinatorKilledAndRestartedNeverRetrainsAFinishedTaskAndTheWorkerReconnects() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("killed-coordinator")
        let first = try startCoordinator(reference, dir: dir)
        // The restart binds the same port, so the worker's endpoint stays valid.
        let endpoint = try boundEndpoint(of: first)
        let worker = try startWorker(reference, endpoint: endpoint, id: "steady")

        XCTAssertTrue(try eventually {
            guard let status = try StatusSnapshot.read(dir) else { return false }
            return status.count("done") >= 2 && !status.running.isEmpty
        }, "no two tasks finished\n\(first.transcript)")
        first.send(SIGKILL)
        XCTAssertNotNil(first.waitForExit(timeout: 10))
        let before = try AttemptRow.all(in: dir)
        let finished = before.filter { $0.outcome == "succeeded" }
        XCTAssertGreaterThanOrEqual(finished.count, 2, "\(before)")
        XCTAssertTrue(worker.isRunning, worker.transcript)

        let second = try startCoordinator(reference, dir: dir, bind: endpoint)
        second.assertExits(0)
        worker.assertExits(0)
        XCTAssertTrue(second.stderr.contains("worker steady on"), second.stderr)
        XCTAssertTrue(worker.stderr.contains("shut this worker down"), worker.stderr)

        let after = try AttemptRow.all(in: dir)
        assertEveryTaskSucceededOnce(after)
        for done in finished {
            XCTAssertEqual(after.filter { $0.task == done.task }, [done], "task \(done.task) changed after the restart")
        }
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertTrue(status.integrityOk)
        XCTAssertEqual(status.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
        try assertExportMatchesTrain(dir, reference)
    }

    // MARK: files that travel with the manifest

    /// A fine-tuning checkpoint travels with the manifest: a worker whose disk
    /// lacks it (here it is moved away once the coordinator has read it) trains
    /// from the coordinator's bytes, exactly as `foldwise train` beside the file.
    func testFineTuningCheckpointTravelsWithTheManifest() throws {
        let reference = try ClusterReference.shared.get()
        let checkpoint = scratch.appendingPathComponent("pretrained.ckpt")
        try FileManager.default.copyItem(at: reference.trainOut.appendingPathComponent("tiny/seed0/fold0.ckpt"), to: checkpoint)
        let yaml = ClusterReference.yaml(cluster: "{heartbeat_interval: 0.25, liveness: 4, retry_delay: 0.1}")
            .replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]")
            .replacingOccurrences(of: "epochs: \(ClusterReference.epochs)",
                                  with: "epochs: 2\n    finetune: {checkpoint: \(checkpoint.path), freeze_backbone_epochs: 1}")
        let manifest = try reference.dataset.writeManifest(yaml, file: "cluster-finetune.yaml")
        let trained = scratch.appendingPathComponent("finetune-train")
        let train = try FoldwiseProcess.train(manifest, out: trained)
        XCTAssertEqual(train.status, 0, train.transcript)

        let dir = scratch.appendingPathComponent("finetune")
        let coordinator = try startCoordinator(reference, dir: dir, manifest: manifest)
        let endpoint = try boundEndpoint(of: coordinator)  // bound, so the checkpoint has been read
        try FileManager.default.moveItem(at: checkpoint, to: scratch.appendingPathComponent("moved-away.ckpt"))
        let worker = try startWorker(reference, endpoint: endpoint, id: "remote")
        coordinator.assertExits(0)
        worker.assertExits(0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint.path))
        for (exported, train) in [("tiny.last.oof.npy", "tiny/oof.npy"), ("tiny.last.test.npy", "tiny/test.npy")] {
            let ours = try Data(contentsOf: dir.appendingPathComponent("export/\(exported)"))
            XCTAssertEqual(ours, try Data(contentsOf: trained.appendingPathComponent(train)), exported)
        }
    }

    // MARK: malformed frames

    func testMalformedFramesAreLoggedAndDroppedWhileTheRunGoesOn() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("malformed")
        let coordinator = try startCoordinator(reference, dir: dir, manifest: reference.manifest)
        let endpoint = try boundEndpoint(of: coordinator)
        let port = try XCTUnwrap(endpoint.split(separator: ":").last.flatMap { Int($0) })
        let worker = try startWorker(reference, endpoint: endpoint, id: "steady")
        XCTAssertTrue(try eventually { try StatusSnapshot.read(dir)?.running.isEmpty == false }, coordinator.transcript)
        // Frozen mid-task the worker holds the run open (a task can take less time than
        // the garbage below); the default 3 s liveness outlasts the freeze.
        worker.send(SIGSTOP)

        // A hand-made DEALER (real ZMTP) sending frames that are not Foldwise messages.
        // The binary's protocol, version 3 ("FWP" + version; this target does not link Cluster).
        let signature: [UInt8] = [0x46, 0x57, 0x50, 0x03]
        let frames: [[[UInt8]]] = [
            [Array("XYZ!".utf8), [0x01], Array("{}".utf8)],
            [[0x46, 0x57, 0x50, 0x09], [0x01], Array("{}".utf8)],
            [signature],
            [signature, [0x01], Array("not json".utf8)],
            [signature, [0x7E], Array("{}".utf8)],
        ]
        let exchange = try RawTCP.exchange(port: port, handshake: ZMTP.greeting + ZMTP.ready(socketType: "DEALER"),
                                           send: frames.flatMap(ZMTP.message), listen: 0.5)
        // Plain TCP garbage: not even a ZeroMQ greeting.
        _ = try RawTCP.exchange(port: port, send: Array("GET / HTTP/1.1\r\nHost: foldwise\r\n\r\n".utf8), listen: 0.1)
        _ = try RawTCP.exchange(port: port, send: Self.garbage(count: 4096), listen: 0.1)
        XCTAssertTrue(coordinator.isRunning, coordinator.transcript)
        worker.send(SIGCONT)

        // The only answer is the reject of the other protocol version, naming both versions.
        XCTAssertEqual(exchange.handshake.first, 0xFF, "\(exchange.handshake)")
        XCTAssertTrue(String(decoding: exchange.handshake, as: UTF8.self).contains("READY"), "\(exchange.handshake)")
        let answers = ZMTP.messages(in: exchange.reply)
        XCTAssertEqual(answers.count, 1, "\(answers)")
        if let answer = answers.first {
            XCTAssertEqual(answer.first, signature)
            XCTAssertEqual(answer.dropFirst().first, [0x0B])
            let header = String(decoding: answer.last ?? [], as: UTF8.self)
            XCTAssertTrue(header.contains("protocol version 9") && header.contains("version 3"), header)
        }
        coordinator.assertExits(0)
        worker.assertExits(0)
        let log = coordinator.stderr
        XCTAssertGreaterThanOrEqual(log.components(separatedBy: "dropped a malformed message").count - 1, 5, log)
        for fragment in ["not the Foldwise signature", "protocol version 9", "message has 1 frames",
                         "hello header is not valid", "command frame 7e"] {
            XCTAssertTrue(log.contains(fragment), "coordinator log lacks \"\(fragment)\":\n\(log)")
        }
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertTrue(status.integrityOk)
        XCTAssertEqual(status.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
        assertEveryTaskSucceededOnce(try AttemptRow.all(in: dir))
    }

    // MARK: refusals

    func testWorkerWithOtherDataIsRefusedOnBothSides() throws {
        let reference = try ClusterReference.shared.get()
        let other = try TemporaryDataset.digits(perClass: 5, testRows: 20)
        defer { other.remove() }
        let dir = scratch.appendingPathComponent("other-data")
        let coordinator = try startCoordinator(reference, dir: dir)
        let endpoint = try boundEndpoint(of: coordinator)
        let worker = try jar.start("worker-other-data", ["worker", "--connect", endpoint, "--threads", "1", "--id", "stranger",
                                                         "--data-root", other.directory.path], in: scratch)
        worker.assertExits(2)
        XCTAssertTrue(worker.stderr.contains("dataset fingerprint mismatch"), worker.stderr)
        XCTAssertTrue(worker.stderr.contains("--data-root"), worker.stderr)
        XCTAssertTrue(eventually { coordinator.stderr.contains("dataset fingerprint mismatch") }, coordinator.transcript)
        XCTAssertTrue(coordinator.stderr.contains("stranger"), coordinator.stderr)
        XCTAssertEqual(try AttemptRow.all(in: dir), [])

        // SIGTERM stops a coordinator cleanly; the same --dir resumes later.
        coordinator.send(SIGTERM)
        coordinator.assertExits(128 + SIGTERM, within: 30)
        XCTAssertTrue(coordinator.stderr.contains("resume"), coordinator.stderr)
    }

    func testExposedBindWithoutKeysIsRefusedBeforeTheDirectoryExists() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("exposed")
        let result = try FoldwiseProcess.run(["coordinator", reference.fastManifest.path, "--bind", "tcp://0.0.0.0:5599",
                                              "--dir", dir.path], in: reference.dataset.directory)
        assertBadInput(result, mentions: ["0.0.0.0", "--insecure", "foldwise keys generate"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
    }

    func testStatusAndExportWithoutADatabaseExitTwo() throws {
        let empty = scratch.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        for command in ["status", "export"] {
            for folder in [empty, scratch.appendingPathComponent("missing")] {
                let result = try FoldwiseProcess.run([command, folder.path], in: scratch)
                assertBadInput(result, mentions: [folder.path, "experiment.sqlite"])
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("missing").path))
    }

    // MARK: helpers

    /// A coordinator of the fast manifest (unless told otherwise) on a loopback port the system picks.
    private func startCoordinator(_ reference: ClusterReference.Made, dir: URL, manifest: URL? = nil,
                                  bind: String = "tcp://127.0.0.1:*") throws -> BackgroundFoldwise {
        try jar.start("coordinator", ["coordinator", (manifest ?? reference.fastManifest).path, "--bind", bind, "--insecure", "--dir", dir.path],
                      in: reference.dataset.directory)
    }

    private func startWorker(_ reference: ClusterReference.Made, endpoint: String, id: String) throws -> BackgroundFoldwise {
        // Another folder than the data's: the worker takes everything from the coordinator.
        try jar.start("worker-\(id)", ["worker", "--connect", endpoint, "--threads", "1", "--id", id], in: scratch)
    }

    /// The endpoint a coordinator bound for `tcp://127.0.0.1:*`, from its first log line.
    private func boundEndpoint(of coordinator: BackgroundFoldwise, file: StaticString = #filePath,
                               line: UInt = #line) throws -> String {
        var endpoint: String?
        let found = eventually(timeout: 60, interval: 0.05) {
            endpoint = coordinator.stderr.split(separator: "\n").lazy.compactMap(Self.endpoint(inLogLine:)).first
            return endpoint != nil || !coordinator.isRunning
        }
        return try XCTUnwrap(found ? endpoint : nil, "the coordinator named no endpoint\n\(coordinator.transcript)",
                             file: file, line: line)
    }

    static func endpoint(inLogLine line: Substring) -> String? {
        guard line.hasPrefix("foldwise coordinator:"), let start = line.range(of: " on tcp://") else { return nil }
        let rest = line[start.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == ":" }
        return rest.contains(":") ? "tcp://" + rest : nil
    }

    private func assertEveryTaskSucceededOnce(_ attempts: [AttemptRow], file: StaticString = #filePath, line: UInt = #line) {
        let succeeded = attempts.filter { $0.outcome == "succeeded" }
        XCTAssertEqual(succeeded.count, ClusterReference.taskCount, "\(attempts)", file: file, line: line)
        XCTAssertEqual(Set(succeeded.map(\.task)).count, ClusterReference.taskCount, "\(attempts)", file: file, line: line)
        XCTAssertFalse(attempts.contains { $0.outcome == "running" }, "\(attempts)", file: file, line: line)
    }

    /// Every exported array is byte-for-byte the file `foldwise train --threads 1` wrote.
    private func assertExportMatchesTrain(_ dir: URL, _ reference: ClusterReference.Made,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        var pairs = [("tiny.last.oof.npy", "tiny/oof.npy"), ("tiny.last.test.npy", "tiny/test.npy")]
        for seed in ClusterReference.seeds {
            pairs += [("tiny.last.oof_seed\(seed).npy", "tiny/oof_seed\(seed).npy"),
                      ("tiny.last.test_seed\(seed).npy", "tiny/test_seed\(seed).npy")]
        }
        for (exported, trained) in pairs {
            let ours = try Data(contentsOf: dir.appendingPathComponent("export/\(exported)"))
            let theirs = try Data(contentsOf: reference.trainOut.appendingPathComponent(trained))
            XCTAssertEqual(ours, theirs, "export/\(exported) differs from train's \(trained)", file: file, line: line)
        }
    }

    /// Deterministic bytes that are no protocol at all.
    static func garbage(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }
}

/// The `--json` object that ends the stdout of `foldwise run`.
private struct RunJSON: Decodable {
    struct SetScore: Decodable { var name: String; var seeds: [Int]; var oofScore: Double; var testScore: Double? }
    var directory, database, metric: String
    var tasks: [String: Int]
    var sets: [SetScore]
    var paths: [String]
}
