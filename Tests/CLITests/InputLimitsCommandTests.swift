import Foundation
import TestSupport
import XCTest

/// Issue 11's input cases end with exit 2 at `validate` (and `train`), not
/// after training or with an internal error. scripts/probe-inputs runs the
/// whole corpus; these are the cases cheap enough for every test run.
final class InputLimitsCommandTests: XCTestCase {
    func testTooManyFoldsAreRefusedAtValidateAndTrain() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let yaml = dataset.manifestYAML().replacingOccurrences(of: "folds: 2", with: "folds: 100")
        let manifest = try dataset.writeManifest(yaml)
        assertBadInput(try FoldwiseProcess.run(["validate", manifest.path]), mentions: ["only 20 training rows", "cv.folds"])
        let train = try FoldwiseProcess.train(manifest, out: dataset.url("out"))
        assertBadInput(train, mentions: ["only 20 training rows"])
        XCTAssertFalse(train.stderr.contains("EncodingError"), train.stderr)
    }

    func testAClassWithFewerRowsThanFoldsIsRefused() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML().replacingOccurrences(of: "folds: 2", with: "folds: 3"))
        assertBadInput(try FoldwiseProcess.run(["validate", manifest.path]), mentions: ["has 2 training rows", "at most 2"])
    }

    func testSampleSubmissionColumnsAreCheckedAtValidate() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML())
        let rows = dataset.testIDs.map { "\($0),0,0" }.joined(separator: "\n")
        try Data("id,label,extra\n\(rows)\n".utf8).write(to: dataset.url("sample_submission.csv"))
        assertBadInput(try FoldwiseProcess.run(["validate", manifest.path]), mentions: ["sample_submission.csv", "extra"])
    }

    /// 220 images of 8192² floats need 59 GB before any batch: more than a test machine has.
    func testImageSizeBeyondMemoryIsRefusedWithTheBytesNeeded() throws {
        let dataset = try TemporaryDataset.digits(perClass: 20, testRows: 20)
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML().replacingOccurrences(of: "image_size: 8", with: "image_size: 8192"))
        let start = Date()
        assertBadInput(try FoldwiseProcess.run(["validate", manifest.path]), mentions: ["data.image_size", "needs at least", "bytes"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testANameOutsideRunsIsRefused() throws {
        let dataset = try TemporaryDataset.digits(perClass: 2, testRows: 2)
        defer { dataset.remove() }
        let manifest = try dataset.writeManifest(dataset.manifestYAML().replacingOccurrences(of: "name: tiny", with: "name: ../../x"))
        // Run two folders deep inside the dataset's own folder, so runs/../../x would land in a
        // folder this test owns (not a shared /tmp/x another process may have made).
        let cwd = dataset.directory.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let result = try FoldwiseProcess.run(["train", manifest.path, "--threads", "1"], in: cwd)
        assertBadInput(result, mentions: ["must be a plain name"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: cwd.deletingLastPathComponent().appendingPathComponent("x").path))
    }
}
