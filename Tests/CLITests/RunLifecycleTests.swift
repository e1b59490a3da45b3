import Cluster
import Foundation
import Manifests
import XCTest

/// `foldwise run` owns its workers: only they can use its port (ephemeral
/// CURVE keys through their standard input), they die with it however it
/// dies, and a stop by signal leaves no task recorded as running.
final class RunLifecycleTests: ProcessTestCase {
    func testAFakeWorkerOnARunPortIsRefusedAndTheRunFinishes() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("fenced")
        let run = try jar.start("run", ["run", reference.manifest.path, "--workers", "1", "--threads", "1", "--dir", dir.path],
                                in: reference.dataset.directory)
        let endpoint = try Self.endpoint(of: run)
        let (manifest, fingerprint) = try HostilePeerTests.identity(reference.manifest)
        // Everything an admitted worker would send: the right manifest hash and data fingerprint, but no key.
        let fake = try FakePeer(endpoint: endpoint, workerID: "intruder", manifest: manifest, fingerprint: fingerprint)
        defer { fake.close() }
        XCTAssertNil(fake.next(timeout: 3) { $0 }, "a keyless peer hears nothing from a run's port")
        XCTAssertTrue(eventually(timeout: 30) { run.stderr.contains("handshake failed") }, run.transcript)
        run.assertExits(0, within: 180)
        XCTAssertEqual(try AttemptRow.all(in: dir).filter { $0.outcome == "succeeded" }.count, ClusterReference.taskCount)
        XCTAssertFalse(try AttemptRow.all(in: dir).contains { $0.worker == "intruder" })
    }

    func testKillNineOfRunLeavesNoWorkerTenSecondsLater() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("orphans")
        let run = try jar.start("run", ["run", reference.manifest.path, "--workers", "2", "--threads", "1", "--dir", dir.path],
                                in: reference.dataset.directory)
        var workers: [Int32] = []
        XCTAssertTrue(eventually(timeout: 60) {
            workers = ProcessTree.descendants(of: run.pid).filter { Self.commandLine(of: $0).contains("worker") }
            return workers.count == 2
        }, run.transcript)
        // Mid-training, so the workers are busy when their run disappears.
        XCTAssertTrue(eventually(timeout: 60) { (try? AttemptRow.training("local-1", in: dir)) != nil
            || (try? AttemptRow.training("local-2", in: dir)) != nil }, run.transcript)
        run.send(SIGKILL)
        _ = run.waitForExit(timeout: 5)
        let gone = eventually(timeout: 10) { workers.allSatisfy { !Self.isAlive($0) } }
        XCTAssertTrue(gone, "workers \(workers.filter(Self.isAlive)) outlived their run by 10 s")
        for pid in workers where Self.isAlive(pid) { kill(pid, SIGKILL) }
        // The tasks it left running are shown as such, not as live work.
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertEqual(status.coordinatorRunning, false)
        XCTAssertFalse(status.running.isEmpty, "killed mid-training, its tasks are still marked running")
        let text = try FoldwiseProcess.run(["status", dir.path])
        XCTAssertTrue(text.stdout.contains("no coordinator is running on this folder"), text.transcript)
    }

    func testSIGTERMOfRunHandsBackItsRunningTasksBeforeExiting() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("stopped")
        let run = try jar.start("run", ["run", reference.manifest.path, "--workers", "2", "--threads", "1", "--dir", dir.path],
                                in: reference.dataset.directory)
        XCTAssertTrue(eventually(timeout: 60) { (try? AttemptRow.training("local-1", in: dir)) != nil }, run.transcript)
        run.send(SIGTERM)
        run.assertExits(128 + SIGTERM, within: 30)
        let running = try AttemptRow.query(dir, "SELECT count(*) FROM task WHERE state = 'running'")
        XCTAssertEqual(running.first?.first, "0", run.transcript)
        XCTAssertEqual(try AttemptRow.all(in: dir).filter { $0.outcome == "running" }, [])
        // The worker's own hand-back reached the coordinator before it closed (not only the safety net).
        let handedBack = try AttemptRow.query(dir, "SELECT count(*) FROM attempt WHERE outcome = 'handedBack' "
                                              + "AND message LIKE '%is stopping (SIGTERM); task handed back%'")
        XCTAssertNotEqual(handedBack.first?.first, "0", run.transcript)
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertTrue(status.running.isEmpty, "\(status.running)")
        XCTAssertTrue(status.integrityOk)
    }

    func testAWorkerWithAWrongServerKeyOrNoKeysExitsTwoSayingWhy() throws {
        let reference = try ClusterReference.shared.get()
        for name in ["coordinator", "worker", "impostor"] {
            assertSucceeded(try FoldwiseProcess.run(["keys", "generate", name, "--dir", scratch.path]))
        }
        let key = { (name: String) in self.scratch.appendingPathComponent(name).path }
        let coordinator = try jar.start("coordinator", [
            "coordinator", reference.manifest.path, "--bind", "tcp://127.0.0.1:*", "--key", key("coordinator.key"),
            "--allow", key("worker.pub"), "--dir", scratch.appendingPathComponent("keyed").path], in: reference.dataset.directory)
        let endpoint = try HostilePeerTests.boundEndpoint(of: coordinator)
        let wrongServer = try jar.start("wrong-server-key", ["worker", "--connect", endpoint, "--threads", "1", "--key", key("worker.key"),
                                                             "--server-key", key("impostor.pub")], in: scratch)
        let keyless = try jar.start("keyless", ["worker", "--connect", endpoint, "--threads", "1"], in: scratch)
        for worker in [wrongServer, keyless] {
            worker.assertExits(2, within: 60)
            XCTAssertTrue(worker.stderr.contains("--server-key"), worker.transcript)
        }
        XCTAssertTrue(coordinator.isRunning, coordinator.transcript)
    }

    // MARK: helpers

    /// The endpoint in `foldwise run`'s first log line ("… on tcp://127.0.0.1:PORT").
    static func endpoint(of run: BackgroundFoldwise) throws -> String {
        var endpoint: String?
        _ = eventually(timeout: 60, interval: 0.05) {
            endpoint = run.stderr.split(separator: "\n").lazy.compactMap { line -> String? in
                guard line.contains("local worker"), let start = line.range(of: " on tcp://", options: .backwards) else { return nil }
                return "tcp://" + line[start.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == ":" }
            }.first
            return endpoint != nil || !run.isRunning
        }
        return try XCTUnwrap(endpoint, run.transcript)
    }

    static func commandLine(of pid: Int32) -> String {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// Alive and not a zombie waiting to be reaped.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }
}
