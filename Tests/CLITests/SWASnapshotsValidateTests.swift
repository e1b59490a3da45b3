import Foundation
import TestSupport
import XCTest

/// SWA that starts before the last snapshot cycle stops `validate` with exit code 2.
final class SWASnapshotsValidateTests: XCTestCase {
    func testSWAOverlappingTheSnapshotCyclesIsRefused() throws {
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let overlapping = dataset.manifestYAML(epochs: "4", modelLines: [
            "schedule: cosine", "snapshots: {cycles: 2}", "swa: {start_epoch: 2, lr: 1e-3}"])
        assertBadInput(try FoldwiseProcess.run(["validate", try dataset.writeManifest(overlapping).path]),
                       mentions: ["model `tiny`", "`swa.start_epoch` 2", "snapshot cycles", "start_epoch: 3 or later"])
        let lastCycle = overlapping.replacingOccurrences(of: "start_epoch: 2", with: "start_epoch: 3")
        assertSucceeded(try FoldwiseProcess.run(["validate", try dataset.writeManifest(lastCycle, file: "last.yaml").path]))
    }
}
