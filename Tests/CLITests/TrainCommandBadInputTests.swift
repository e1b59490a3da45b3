import Datasets
import Foundation
import TestSupport
import XCTest

/// Bad input to `foldwise train`: each case first trains fold 0 into an
/// output folder, then damages one thing and trains again into the same
/// folder. The second run must exit with code 2, name the file and the line
/// (or the manifest key path), and leave every earlier file byte-identical.
final class TrainCommandBadInputTests: XCTestCase {
    private var dataset: TemporaryDataset!
    private var manifest: URL!
    private var out: URL!

    override func setUpWithError() throws {
        dataset = try TemporaryDataset.digits()
        manifest = try dataset.writeManifest(dataset.manifestYAML())
        out = dataset.url("runs")
        assertSucceeded(try FoldwiseProcess.train(manifest, out: out, ["--fold", "0"]))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiny/seed0/fold0.oof.npy").path))
    }

    override func tearDown() {
        dataset?.remove()
    }

    /// Trains `manifest` into `out` again and checks the refusal.
    private func assertRejected(_ extra: [String] = [], manifest other: URL? = nil, mentions fragments: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try folderSnapshot(out)
        XCTAssertFalse(before.isEmpty, file: file, line: line)
        let result = try FoldwiseProcess.train(other ?? manifest, out: out, extra, file: file, line: line)
        assertBadInput(result, mentions: fragments, file: file, line: line)
        let after = try folderSnapshot(out)
        XCTAssertEqual(after.keys.sorted(), before.keys.sorted(), "files were added or removed", file: file, line: line)
        for (path, bytes) in before where after[path] != bytes {
            XCTFail("\(path) changed", file: file, line: line)
        }
    }

    /// The CSV line of train row `row` ("train.csv line N", as image errors say it).
    private func trainLine(_ row: Int) -> Int { row + 2 }

    // MARK: images

    func testTruncatedJPEG() throws {
        let noise = DecodedImage(width: 64, height: 64, components: 1, pixels: (0..<4096).map { UInt8($0 * 37 % 251) })
        let bytes = try JPEG.encode(noise, quality: 90)
        let id = dataset.trainIDs[7]
        try bytes.prefix(bytes.count * 3 / 4).write(to: dataset.trainImage(id))
        try assertRejected(mentions: [dataset.trainImage(id).path, "not a readable JPEG", "train.csv line \(trainLine(7))"])
    }

    func testCorruptJPEG() throws {
        let id = dataset.trainIDs[11]
        try Data((0..<300).map { UInt8(($0 * 91 + 7) % 256) }).write(to: dataset.trainImage(id))
        try assertRejected(mentions: [dataset.trainImage(id).path, "not a readable JPEG", "train.csv line \(trainLine(11))"])
    }

    func testMissingImage() throws {
        let id = dataset.trainIDs[3]
        try FileManager.default.removeItem(at: dataset.trainImage(id))
        try assertRejected(mentions: [dataset.trainImage(id).path, "no image for id '\(id)'", "train.csv line \(trainLine(3))"])
    }

    func testRGBImageWhenTheManifestSaysGrey() throws {
        let id = dataset.trainIDs[20]
        let colour = DecodedImage(width: 16, height: 16, components: 3, pixels: (0..<768).map { UInt8($0 % 256) })
        try JPEG.write(colour, to: dataset.trainImage(id))
        try assertRejected(mentions: [dataset.trainImage(id).path, "3 channels", "expects 1", "train.csv line \(trainLine(20))"])
    }

    func testDamagedTestImageNamesTheSampleSubmissionLine() throws {
        let id = dataset.testIDs[4]
        try Data("not a jpeg".utf8).write(to: dataset.testImage(id))
        try assertRejected(mentions: [dataset.testImage(id).path, "sample_submission.csv line 6"])
    }

    // MARK: tables

    func testMissingLabel() throws {
        var rows = zip(dataset.trainIDs, dataset.trainLabels).map { "\($0),\($1)" }
        rows[5] = "\(dataset.trainIDs[5]),"
        try dataset.writeCSV("train.csv", rows: rows)
        try assertRejected(mentions: ["\(dataset.trainCSV.path):\(trainLine(5)):", "'label' value is empty", dataset.trainIDs[5]])
    }

    func testUnknownHeldOutLabel() throws {
        var rows = zip(dataset.testIDs, dataset.testLabels).map { "\($0),\($1)" }
        rows[9] = "\(dataset.testIDs[9]),eleven"
        try dataset.writeCSV("test_labels.csv", rows: rows)
        try assertRejected(mentions: ["\(dataset.testLabelsCSV.path):11:", "'eleven'", "not a training class"])
    }

    func testDuplicateID() throws {
        let rows = zip(dataset.trainIDs, dataset.trainLabels).map { "\($0),\($1)" } + ["\(dataset.trainIDs[2]),\(dataset.trainLabels[2])"]
        try dataset.writeCSV("train.csv", rows: rows)
        let lastLine = trainLine(rows.count - 1)
        try assertRejected(mentions: ["\(dataset.trainCSV.path):\(lastLine):", "'\(dataset.trainIDs[2])' appears twice",
                                      "lines \(trainLine(2)) and \(lastLine)"])
    }

    func testEmptyTrainCSV() throws {
        try Data().write(to: dataset.trainCSV)
        try assertRejected(mentions: ["\(dataset.trainCSV.path):1:", "empty"])
    }

    func testHeaderOnlyCSV() throws {
        try dataset.writeCSV("sample_submission.csv", rows: [])
        try assertRejected(mentions: ["\(dataset.sampleSubmission.path):2:", "header but no rows"])
    }

    // MARK: manifest and command line

    func testUnknownManifestKeySuggestsTheRightOne() throws {
        let yaml = dataset.manifestYAML(modelLines: ["optimiser: adam"])
        let line = yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("optimiser") }! + 1
        let bad = try dataset.writeManifest(yaml, file: "typo.yaml")
        try assertRejected(manifest: bad, mentions: ["\(bad.path):\(line): models[0].optimiser", "did you mean `optimizer`"])
    }

    func testWrongValueType() throws {
        let yaml = dataset.manifestYAML(epochs: "\"ten\"")
        let line = yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("epochs:") }! + 1
        let bad = try dataset.writeManifest(yaml, file: "type.yaml")
        try assertRejected(manifest: bad, mentions: ["\(bad.path):\(line): models[0].epochs", "expected an integer", "\"ten\""])
    }

    func testFoldOutsideTheManifestsFolds() throws {
        try assertRejected(["--fold", "7"], mentions: ["--fold 7", "cv.folds"])
    }

    func testZeroThreads() throws {
        try assertRejected(["--threads", "0"], mentions: ["--threads", "at least 1"])
    }

    func testFolderHoldingAnotherManifestsResults() throws {
        let changed = try dataset.writeManifest(dataset.manifestYAML(lr: "2e-2"), file: "changed.yaml")
        try assertRejected(manifest: changed, mentions: [out.path, "another manifest", "--out"])
    }

    /// Same manifest, changed data (a row removed): the folder's results were
    /// computed on other data and must not be mixed with new folds.
    func testFolderHoldingResultsOfOtherData() throws {
        let rows = try String(contentsOf: dataset.trainCSV, encoding: .utf8).split(separator: "\n").map(String.init)
        try (rows.dropLast(2).joined(separator: "\n") + "\n").write(to: dataset.trainCSV, atomically: true, encoding: .utf8)
        try assertRejected(["--fold", "1"], mentions: [out.path, "other data", "--out"])
    }

    func testNonEmptyFolderWithoutResults() throws {
        let other = dataset.url("notes")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try "keep me".write(to: other.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let result = try FoldwiseProcess.train(manifest, out: other, [])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("not empty"), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.path), ["notes.txt"])
    }
}
