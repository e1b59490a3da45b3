import Datasets
import Engine
import Foundation
import Manifests
import TestSupport
@testable import Training
import XCTest

/// The output folder: per-fold files, seed assembly once every fold is
/// present, seed averages, and refusal to mix two manifests' results.
final class PredictionFilesTests: XCTestCase {
    /// Three folds over six train rows and two classes; fold k holds rows k and k + 3.
    private let manifest = Manifest(
        name: "prediction-files",
        data: DataSection(trainCSV: "train.csv", trainImages: "train", testImages: "test", testCSV: "test.csv",
                          imageHeight: 8, imageWidth: 8, channels: 1),
        cv: CVSection(folds: 3, seeds: [0, 1]),
        models: [ModelSpec(name: "tiny", arch: ArchSpec(name: "resnet_ref"), lr: 1e-3, epochs: 1, batchSize: 4)])

    private let fingerprint = "00c0ffee00c0ffee"

    private func temporaryDirectory() throws -> URL {
        let url = try TrainingDataset.temporaryDirectory("foldwise-training")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Fold `fold`'s result with OOF row i = [v, 1 − v] (v = 0.1·row + 0.01·seed)
    /// and a two-row test prediction that depends on the fold.
    private func result(seed: Int, fold: Int) -> FoldResult {
        let rows = [fold, fold + 3]
        let oof = rows.flatMap { row -> [Float] in
            let v = 0.1 * Float(row) + 0.01 * Float(seed)
            return [v, 1 - v]
        }
        let test: [Float] = [0.2 * Float(fold), 1 - 0.2 * Float(fold), 0.5 + 0.1 * Float(seed), 0.5 - 0.1 * Float(seed)]
        let record = EpochRecord(epoch: 1, trainLoss: 0.7, validationLoss: 0.6, validationScore: 0.5, learningRate: 1e-3,
                                 seconds: 0.01)
        return FoldResult(task: FoldTask(model: "tiny", seed: seed, fold: fold), validationRows: rows,
                          oof: Tensor(shape: [2, 2], scalars: oof), test: Tensor(shape: [2, 2], scalars: test),
                          score: 0.5 + Double(fold) / 10, history: [record],
                          weights: [("fc.weight", Tensor(shape: [2], scalars: [Float(fold), 1]), false)],
                          architecture: "resnet")
    }

    private func assertClose(_ values: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(values.count, expected.count, file: file, line: line)
        for (i, (value, wanted)) in zip(values, expected).enumerated() {
            XCTAssertEqual(value, wanted, accuracy: 1e-6, "element \(i)", file: file, line: line)
        }
    }

    func testFoldFilesAreValidNPYAndJSON() throws {
        let files = try PredictionFiles(directory: temporaryDirectory().appendingPathComponent("out"), manifest: manifest, dataFingerprint: fingerprint)
        let written = try files.write(result(seed: 0, fold: 1))
        XCTAssertEqual(written.map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["fold1.oof.npy", "fold1.rows.npy", "fold1.test.npy", "fold1.json", "fold1.ckpt"])
        XCTAssertTrue(written.allSatisfy { $0.hasPrefix(files.directory.appendingPathComponent("tiny/seed0").path) })
        let oof = try NPY.read(files.url("tiny/seed0/fold1.oof.npy"))
        XCTAssertEqual(oof.descr, "<f4")
        XCTAssertEqual(oof.shape, [2, 2])
        assertClose(oof.floats, [0.1, 0.9, 0.4, 0.6])
        let rows = try NPY.read(files.url("tiny/seed0/fold1.rows.npy"))
        XCTAssertEqual(rows.descr, "<i8")
        XCTAssertEqual(rows.integers, [1, 4])
        assertClose(try NPY.read(files.url("tiny/seed0/fold1.test.npy")).floats, [0.2, 0.8, 0.5, 0.5])
        let summary = try JSONDecoder().decode(FoldSummary.self, from: Data(contentsOf: files.url("tiny/seed0/fold1.json")))
        XCTAssertEqual(summary.task, FoldTask(model: "tiny", seed: 0, fold: 1))
        XCTAssertEqual(summary.score, 0.6)
        XCTAssertEqual(summary.history.map(\.validationLoss), [0.6])
    }

    func testExperimentMarkerHoldsTheManifestAndItsHash() throws {
        let files = try PredictionFiles(directory: temporaryDirectory().appendingPathComponent("a/b"), manifest: manifest, dataFingerprint: fingerprint)
        let marker = try Data(contentsOf: files.url("experiment.json"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: marker) as? [String: Any])
        XCTAssertEqual(object["manifest_hash"] as? String, manifest.hash)
        XCTAssertEqual(object["data_fingerprint"] as? String, fingerprint)
        let stored = try JSONSerialization.data(withJSONObject: try XCTUnwrap(object["manifest"]))
        XCTAssertEqual(try Manifest.fromCanonicalJSON(String(decoding: stored, as: UTF8.self)), manifest)
    }

    func testSeedIsAssembledOnlyOnceEveryFoldIsPresent() throws {
        let files = try PredictionFiles(directory: temporaryDirectory(), manifest: manifest, dataFingerprint: fingerprint)
        _ = try files.write(result(seed: 0, fold: 2))
        _ = try files.write(result(seed: 0, fold: 0))
        XCTAssertNil(try files.assembleSeed(model: "tiny", seed: 0, trainRows: 6, classes: 2))
        XCTAssertFalse(FileManager.default.fileExists(atPath: files.url("tiny/oof_seed0.npy").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: files.url("tiny/test_seed0.npy").path))
        // Another seed's folds do not complete this one.
        _ = try files.write(result(seed: 1, fold: 1))
        XCTAssertNil(try files.assembleSeed(model: "tiny", seed: 0, trainRows: 6, classes: 2))

        _ = try files.write(result(seed: 0, fold: 1))
        let assembled = try XCTUnwrap(try files.assembleSeed(model: "tiny", seed: 0, trainRows: 6, classes: 2))
        // Every row's OOF comes from the fold that held it out, in train order.
        let expectedOOF = (0..<6).flatMap { row -> [Float] in [0.1 * Float(row), 1 - 0.1 * Float(row)] }
        XCTAssertEqual(assembled.oof.shape, [6, 2])
        XCTAssertEqual(assembled.oof.scalars, expectedOOF)
        // The test prediction is the mean of the three folds' (folds 0, 1, 2 give 0, 0.2, 0.4 in column 0).
        XCTAssertEqual(assembled.test.shape, [2, 2])
        assertClose(assembled.test.scalars, [0.2, 0.8, 0.5, 0.5])
        XCTAssertEqual(try NPY.read(files.url("tiny/oof_seed0.npy")).floats, assembled.oof.scalars)
        let test = try NPY.read(files.url("tiny/test_seed0.npy"))
        XCTAssertEqual(test.shape, [2, 2])
        XCTAssertEqual(test.floats, assembled.test.scalars)
    }

    func testFoldsWrittenByEarlierRunsAreAssembled() throws {
        let directory = try temporaryDirectory()
        for fold in 0..<3 {
            // A fresh PredictionFiles per fold, as separate `--fold K` runs make.
            _ = try PredictionFiles(directory: directory, manifest: manifest, dataFingerprint: fingerprint).write(result(seed: 1, fold: fold))
        }
        let files = try PredictionFiles(directory: directory, manifest: manifest, dataFingerprint: fingerprint)
        let assembled = try XCTUnwrap(try files.assembleSeed(model: "tiny", seed: 1, trainRows: 6, classes: 2))
        XCTAssertEqual(assembled.oof[2 * 5], 0.51, accuracy: 1e-6)
    }

    func testModelAverageIsTheMeanOfTheSeeds() throws {
        let files = try PredictionFiles(directory: temporaryDirectory(), manifest: manifest, dataFingerprint: fingerprint)
        for seed in [0, 1] {
            for fold in 0..<3 { _ = try files.write(result(seed: seed, fold: fold)) }
        }
        let seeds = try [0, 1].map { try XCTUnwrap(try files.assembleSeed(model: "tiny", seed: $0, trainRows: 6, classes: 2)) }
        let average = try files.writeModelAverage(model: "tiny", seeds: seeds)
        // Seeds differ by 0.01 in the OOF and 0.1 in the test's second row: the mean lies halfway.
        for row in 0..<6 {
            XCTAssertEqual(average.oof[row * 2], 0.1 * Float(row) + 0.005, accuracy: 1e-6)
            XCTAssertEqual(average.oof[row * 2 + 1], 1 - 0.1 * Float(row) - 0.005, accuracy: 1e-6)
        }
        assertClose(average.test.scalars, [0.2, 0.8, 0.55, 0.45])
        let oof = try NPY.read(files.url("tiny/oof.npy")), test = try NPY.read(files.url("tiny/test.npy"))
        XCTAssertEqual(oof.descr, "<f4")
        XCTAssertEqual(oof.shape, [6, 2])
        XCTAssertEqual(oof.floats, average.oof.scalars)
        XCTAssertEqual(test.shape, [2, 2])
        XCTAssertEqual(test.floats, average.test.scalars)
    }

    func testAFolderOfAnotherManifestIsRefused() throws {
        let directory = try temporaryDirectory()
        let files = try PredictionFiles(directory: directory, manifest: manifest, dataFingerprint: fingerprint)
        _ = try files.write(result(seed: 0, fold: 0))
        let marker = try Data(contentsOf: files.url("experiment.json"))
        var other = manifest
        other.models[0].epochs = 2
        XCTAssertNotEqual(other.hash, manifest.hash)
        XCTAssertThrowsError(try PredictionFiles(directory: directory, manifest: other, dataFingerprint: fingerprint)) { error in
            let datasetError = error as? DatasetError
            XCTAssertNotNil(datasetError, "\(error)")
            XCTAssertEqual(datasetError?.file, directory.path)
            XCTAssertTrue(datasetError?.message.contains(manifest.hash) ?? false, "\(error)")
            XCTAssertTrue(datasetError?.message.contains(other.hash) ?? false, "\(error)")
        }
        // Nothing already there is touched, and the same manifest may come back.
        XCTAssertEqual(try Data(contentsOf: files.url("experiment.json")), marker)
        XCTAssertTrue(FileManager.default.fileExists(atPath: files.url("tiny/seed0/fold0.oof.npy").path))
        XCTAssertNoThrow(try PredictionFiles(directory: directory, manifest: manifest, dataFingerprint: fingerprint))
    }

    func testAFolderOfOtherDataIsRefused() throws {
        let directory = try temporaryDirectory()
        _ = try PredictionFiles(directory: directory, manifest: manifest, dataFingerprint: fingerprint)
        XCTAssertThrowsError(try PredictionFiles(directory: directory, manifest: manifest, dataFingerprint: "1234567812345678")) {
            XCTAssertTrue(($0 as? DatasetError)?.message.contains("other data") ?? false, "\($0)")
        }
    }

    func testAForeignOrDamagedFolderIsRefused() throws {
        let foreign = try temporaryDirectory()
        try Data("notes\n".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try PredictionFiles(directory: foreign, manifest: manifest, dataFingerprint: fingerprint)) {
            XCTAssertTrue($0 is DatasetError, "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: foreign.path), ["notes.txt"])
        let damaged = try temporaryDirectory()
        try Data("{\"manifest_ha".utf8).write(to: damaged.appendingPathComponent("experiment.json"))
        XCTAssertThrowsError(try PredictionFiles(directory: damaged, manifest: manifest, dataFingerprint: fingerprint)) {
            XCTAssertEqual(($0 as? DatasetError)?.file, damaged.appendingPathComponent("experiment.json").path, "\($0)")
        }
    }

    func testAFoldThatDoesNotFitTheDataIsAnError() throws {
        let files = try PredictionFiles(directory: temporaryDirectory(), manifest: manifest, dataFingerprint: fingerprint)
        for fold in 0..<3 { _ = try files.write(result(seed: 0, fold: fold)) }
        // Fold 2 holds row 5: a train table of five rows cannot take it.
        XCTAssertThrowsError(try files.assembleSeed(model: "tiny", seed: 0, trainRows: 5, classes: 2)) {
            XCTAssertTrue($0 is DatasetError, "\($0)")
        }
        XCTAssertThrowsError(try files.assembleSeed(model: "tiny", seed: 0, trainRows: 6, classes: 3)) {
            XCTAssertTrue($0 is DatasetError, "\($0)")
        }
    }

    /// Real fold results of a tiny model, end to end: common files, every
    /// fold, the assembled OOF covering each train row once.
    func testTrainedFoldsAssembleIntoAFullOOFMatrix() throws {
        let dataset = try TrainingDataset.digits(in: temporaryDirectory(), trainRows: 60, testRows: 10)
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 8, cv: "{folds: 3, seeds: [0, 5]}", models: [
            "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, lr: 3e-3, epochs: 1, batch_size: 16}",
        ]))
        let data = try ExperimentData(manifest: manifest, threads: 2)
        let files = try PredictionFiles(directory: dataset.directory.appendingPathComponent("runs"), manifest: manifest,
                                        dataFingerprint: data.fingerprint)
        try files.writeCommon(data: data, seeds: [0, 5])
        XCTAssertEqual(try NPY.read(files.url("labels.npy")).integers, data.train.labels)
        XCTAssertEqual(try NPY.read(files.url("folds_seed5.npy")).integers, data.folds(manifest.cv, seed: 5))
        let ids = try String(contentsOf: files.url("test_ids.csv"), encoding: .utf8)
        XCTAssertEqual(ids, (["id"] + data.test.ids).joined(separator: "\n") + "\n")

        let runner = FoldRunner(manifest: manifest, data: data)
        var results: [FoldResult] = []
        for fold in 0..<3 {
            let result = runner.run(FoldTask(model: "tiny", seed: 5, fold: fold))
            results.append(result)
            _ = try files.write(result)
        }
        let (oof, test) = try XCTUnwrap(try files.assembleSeed(model: "tiny", seed: 5, trainRows: 60, classes: data.classes))
        for result in results {
            for (i, row) in result.validationRows.enumerated() {
                let stored = oof.scalars[(row * data.classes)..<((row + 1) * data.classes)]
                XCTAssertEqual(Array(stored), Array(result.oof.scalars[(i * data.classes)..<((i + 1) * data.classes)]))
            }
        }
        for row in 0..<60 {
            XCTAssertEqual(oof.scalars[(row * data.classes)..<((row + 1) * data.classes)].reduce(0, +), 1, accuracy: 1e-4)
        }
        for i in 0..<test.count {
            let mean = results.reduce(Float(0)) { $0 + $1.test[i] / 3 }
            XCTAssertEqual(test[i], mean, accuracy: 1e-6)
        }
    }
}
