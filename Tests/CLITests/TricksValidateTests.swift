import Foundation
import TestSupport
import XCTest

/// `foldwise validate` accepts every example in manifests/tricks/ (the manifest,
/// the data it names and the model checks such as a fine-tuning checkpoint).
final class TricksValidateTests: XCTestCase {
    func testValidateAcceptsEveryTrickManifest() throws {
        let folder = TemporaryDataset.repositoryRoot.appendingPathComponent("manifests/tricks")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let result = try FoldwiseProcess.run(["validate", file.path])
            assertSucceeded(result)
            XCTAssertTrue(result.stdout.contains("data: ok"), "\(file.lastPathComponent): \(result.stdout)")
        }
    }

    /// A checkpoint that is missing or of another architecture stops validate with exit code 2.
    func testAFineTuningCheckpointThatDoesNotFitIsRefused() throws {
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let missing = dataset.manifestYAML(modelLines: ["finetune: {checkpoint: nowhere.ckpt}"])
        assertBadInput(try FoldwiseProcess.run(["validate", try dataset.writeManifest(missing).path]),
                       mentions: ["nowhere.ckpt"])
        let pretrained = TemporaryDataset.repositoryRoot.appendingPathComponent("manifests/tricks/pretrained.ckpt")
        let other = dataset.manifestYAML(modelLines: ["finetune: {checkpoint: \(pretrained.path)}"])
        assertBadInput(try FoldwiseProcess.run(["validate", try dataset.writeManifest(other, file: "other.yaml").path]),
                       mentions: ["does not fit the backbone", "stem.0.weight"])
        let stages = dataset.manifestYAML(modelLines: ["finetune: {freeze_stages: 3}"])
        assertBadInput(try FoldwiseProcess.run(["validate", try dataset.writeManifest(stages, file: "stages.yaml").path]),
                       mentions: ["`freeze_stages` is 3", "has 1 stages"])
    }
}
