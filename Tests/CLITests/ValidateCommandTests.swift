import Foundation
import TestSupport
import XCTest

/// `foldwise validate`: the shipped manifest and its data, and refusals.
final class ValidateCommandTests: XCTestCase {
    func testShippedDigitsManifestAndDataAreValid() throws {
        let manifest = TemporaryDataset.repositoryRoot.appendingPathComponent("manifests/digits.yaml")
        let result = try FoldwiseProcess.run(["validate", manifest.path])
        assertSucceeded(result)
        XCTAssertTrue(result.stdout.contains("manifest \(manifest.path): ok (1 model, 5 folds × 2 seeds, hash "), result.stdout)
        XCTAssertTrue(result.stdout.contains("data: ok (1500 train images, 297 test images, 10 classes: 0 1 2 3 4 5 6 7 8 9)"),
                      result.stdout)
    }

    func testManifestOnlySkipsTheData() throws {
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML())
        try FileManager.default.removeItem(at: dataset.trainImage(dataset.trainIDs[0]))

        let manifestOnly = try FoldwiseProcess.run(["validate", manifest.path, "--manifest-only"])
        assertSucceeded(manifestOnly)
        XCTAssertTrue(manifestOnly.stdout.contains("(1 model, 2 folds × 1 seed, hash "), manifestOnly.stdout)
        XCTAssertFalse(manifestOnly.stdout.contains("data:"), manifestOnly.stdout)

        let withData = try FoldwiseProcess.run(["validate", manifest.path])
        assertBadInput(withData, mentions: [dataset.trainImage(dataset.trainIDs[0]).path, "train.csv line 2"])
    }

    func testValidatingABadManifestExitsTwo() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML(channels: 2))
        let result = try FoldwiseProcess.run(["validate", manifest.path, "--manifest-only"])
        assertBadInput(result, mentions: [manifest.path, "data.channels"])
    }
}
