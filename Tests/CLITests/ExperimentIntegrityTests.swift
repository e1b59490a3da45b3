import Foundation
import TestSupport
import XCTest

/// What keeps an experiment folder honest across runs: image contents are in
/// the data fingerprint (a changed image is refused, by name, on `run`,
/// `train --out` and at a worker's hello), and one coordinator holds a folder.
final class ExperimentIntegrityTests: ProcessTestCase {
    func testAChangedImageIsRefusedByNameOnRunTrainAndAtAWorkersHello() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 4)
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML())
        let runDir = scratch.appendingPathComponent("run"), trainDir = scratch.appendingPathComponent("train")
        assertSucceeded(try FoldwiseProcess.run(["run", manifest.path, "--threads", "1", "--dir", runDir.path], in: dataset.directory, timeout: 120))
        assertSucceeded(try FoldwiseProcess.train(manifest, out: trainDir))
        XCTAssertTrue(FileManager.default.fileExists(atPath: runDir.appendingPathComponent("image_digests.tsv").path))
        // Unchanged data: the re-run reads the digests from the folder's cache and trains nothing.
        let again = try FoldwiseProcess.run(["run", manifest.path, "--threads", "1", "--dir", runDir.path], in: dataset.directory)
        assertSucceeded(again)
        XCTAssertTrue(again.stderr.contains("(2 already done)"), again.stderr)

        // A worker whose copy holds another picture under one train id is refused at hello, naming it.
        let copy = scratch.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: dataset.directory, to: copy)
        let changed = dataset.trainIDs[0], donor = dataset.trainIDs[dataset.trainIDs.count - 1]
        let changedInCopy = copy.appendingPathComponent("train/\(changed).jpg")
        try FileManager.default.removeItem(at: changedInCopy)
        try FileManager.default.copyItem(at: copy.appendingPathComponent("train/\(donor).jpg"), to: changedInCopy)
        let coordinator = try jar.start("coordinator", ["coordinator", manifest.path, "--bind", "tcp://127.0.0.1:*", "--insecure",
                                                        "--dir", scratch.appendingPathComponent("served").path], in: dataset.directory)
        let endpoint = try HostilePeerTests.boundEndpoint(of: coordinator)
        let worker = try jar.start("worker", ["worker", "--connect", endpoint, "--threads", "1", "--id", "copycat",
                                              "--data-root", copy.path], in: scratch)
        worker.assertExits(2)
        XCTAssertTrue(worker.stderr.contains("dataset fingerprint mismatch"), worker.stderr)
        XCTAssertTrue(worker.stderr.contains("train image \(changedInCopy.path) differs from the coordinator's"), worker.stderr)
        XCTAssertTrue(eventually { coordinator.stderr.contains("rejected dataset fingerprint mismatch") }, coordinator.transcript)
        coordinator.send(SIGTERM)
        _ = coordinator.waitForExit(timeout: 30)

        // The same change in the data itself: `run` and `train --out` on the finished folders refuse, naming the file.
        let original = dataset.trainImage(changed)
        try FileManager.default.removeItem(at: original)
        try FileManager.default.copyItem(at: dataset.trainImage(donor), to: original)
        let before = try folderSnapshot(runDir)
        let rerun = try FoldwiseProcess.run(["run", manifest.path, "--threads", "1", "--dir", runDir.path], in: dataset.directory)
        assertBadInput(rerun, mentions: ["train image \(original.path) changed", "restore the data"])
        XCTAssertEqual(try folderSnapshot(runDir).filter { $0.key != "coordinator.lock" },
                       before.filter { $0.key != "coordinator.lock" }, "a refused run touches nothing")
        assertBadInput(try FoldwiseProcess.train(manifest, out: trainDir), mentions: ["train image \(original.path) changed"])
    }

    func testASecondRunOnTheSameFolderExitsAtOnceAndTheFirstFinishesConsistent() throws {
        let reference = try ClusterReference.shared.get()
        let dir = scratch.appendingPathComponent("locked")
        let arguments = ["run", reference.manifest.path, "--workers", "1", "--threads", "1", "--dir", dir.path]
        let first = try jar.start("first-run", arguments, in: reference.dataset.directory)
        let lock = dir.appendingPathComponent("coordinator.lock")
        XCTAssertTrue(eventually { (try? String(contentsOf: lock, encoding: .utf8))?.contains("pid \(first.pid)") == true },
                      first.transcript)
        let started = Date()
        let second = try FoldwiseProcess.run(arguments, in: reference.dataset.directory, timeout: 60)
        assertBadInput(second, mentions: ["another coordinator (pid \(first.pid) on host \(ProcessInfo.processInfo.hostName)", dir.path, "--dir"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the second run must not load data or wait")
        first.assertExits(0, within: 300)
        XCTAssertEqual(try AttemptRow.query(dir, "PRAGMA integrity_check"), [["ok"]])
        XCTAssertEqual(try AttemptRow.query(dir, "SELECT count(*) FROM task WHERE state = 'running'"), [["0"]])
        XCTAssertEqual(try AttemptRow.query(dir, "SELECT count(*) FROM attempt WHERE outcome = 'running'"), [["0"]])
        XCTAssertEqual(try AttemptRow.query(dir, "SELECT pid FROM coordinatorOwner"), [["\(first.pid)"]])
        let status = try XCTUnwrap(StatusSnapshot.read(dir))
        XCTAssertEqual(status.tasks.filter { $0.value > 0 }, ["done": ClusterReference.taskCount])
    }
}
