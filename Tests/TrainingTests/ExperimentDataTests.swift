import Datasets
import Foundation
import Manifests
import TestSupport
import Training
import XCTest

/// A manifest's data section is read, decoded and split into folds once.
final class ExperimentDataTests: XCTestCase {
    private func digits() throws -> (manifest: Manifest, data: ExperimentData) {
        let manifest = try Manifest.load(TrainingDataset.digitsManifest)
        return (manifest, try ExperimentData(manifest: manifest, threads: 2))
    }

    private func temporaryDirectory() throws -> URL {
        let url = try TrainingDataset.temporaryDirectory("foldwise-training")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testLoadsTheDigitsData() throws {
        let (_, data) = try digits()
        XCTAssertEqual(data.train.ids.count, 1500)
        XCTAssertEqual(data.trainImages.count, 1500)
        XCTAssertEqual(data.test.ids.count, 297)
        XCTAssertEqual(data.testImages.count, 297)
        XCTAssertEqual(data.classes, 10)
        XCTAssertEqual(data.train.classNames, (0...9).map(String.init))
        XCTAssertEqual(data.trainImages.spec.imageSize, 16 * 16)
        // First rows of train.csv (img_0001,5) and test_labels.csv (img_0006,9).
        XCTAssertEqual(data.train.ids.first, "img_0001")
        XCTAssertEqual(data.train.labels.first, 5)
        XCTAssertEqual(data.test.ids.first, "img_0006")
        let testLabels = try XCTUnwrap(data.testLabels)
        XCTAssertEqual(testLabels.count, 297)
        XCTAssertEqual(testLabels.first, 9)
        XCTAssertTrue(testLabels.allSatisfy { (0..<10).contains($0) })
        XCTAssertEqual(Set(testLabels).count, 10)
    }

    func testDigitsFoldsAreStratifiedAndCoverEveryRow() throws {
        let (manifest, data) = try digits()
        let folds = data.folds(manifest.cv, seed: 0)
        XCTAssertEqual(folds.count, 1500)
        XCTAssertTrue(folds.allSatisfy { (0..<5).contains($0) })
        XCTAssertEqual((0..<5).map { k in folds.filter { $0 == k }.count }, [300, 300, 300, 300, 300])
        for label in 0..<10 {
            let rows = data.train.labels.indices.filter { data.train.labels[$0] == label }
            let perFold = (0..<5).map { k in rows.filter { folds[$0] == k }.count }
            XCTAssertLessThanOrEqual(perFold.max()! - perFold.min()!, 1, "class \(label): \(perFold)")
        }
        XCTAssertEqual(folds, stratifiedFolds(labels: data.train.labels, folds: 5, seed: 0))
    }

    func testEachSeedGivesItsOwnReproducibleSplit() throws {
        let (manifest, data) = try digits()
        let zero = data.folds(manifest.cv, seed: 0)
        XCTAssertEqual(zero, data.folds(manifest.cv, seed: 0))
        let one = data.folds(manifest.cv, seed: 1)
        XCTAssertNotEqual(zero, one)
        // Different, not just relabelled: many rows change their fold-mates.
        let moved = zip(zero, one).filter { $0 != $1 }.count
        XCTAssertGreaterThan(moved, 1000)
        XCTAssertEqual(data.folds(manifest.cv, seed: -3), stratifiedFolds(labels: data.train.labels, folds: 5,
                                                                          seed: UInt64(bitPattern: -3)))
    }

    func testUnstratifiedFoldsArePlainKFold() throws {
        let (manifest, data) = try digits()
        var cv = manifest.cv
        cv.stratify = false
        let folds = data.folds(cv, seed: 4)
        XCTAssertEqual(folds, randomFolds(count: 1500, folds: 5, seed: 4))
        XCTAssertNotEqual(folds, data.folds(manifest.cv, seed: 4))
    }

    func testGroupColumnGivesGroupFolds() throws {
        let dataset = try TrainingDataset.digits(in: temporaryDirectory(), trainRows: 40, testRows: 5,
                                                 groupOf: { row, _ in "patient\(row % 10)" })
        let url = try dataset.writeManifest(imageSize: 16, cv: "{folds: 5, seeds: [0], group_column: group}",
                                            models: ["{name: tiny, arch: resnet_ref, lr: 1e-3, epochs: 1, batch_size: 8}"])
        let manifest = try Manifest.load(url)
        let data = try ExperimentData(manifest: manifest, threads: 1)
        XCTAssertEqual(data.train.groups?.count, 40)
        XCTAssertNil(data.testLabels)
        for seed in [0, 1] {
            let folds = data.folds(manifest.cv, seed: seed)
            for patient in 0..<10 {
                let foldsOfPatient = Set((0..<40).filter { $0 % 10 == patient }.map { folds[$0] })
                XCTAssertEqual(foldsOfPatient.count, 1, "seed \(seed): patient\(patient) spans folds \(foldsOfPatient)")
            }
            // Ten groups of four rows: two groups in each of the five folds.
            XCTAssertEqual((0..<5).map { k in folds.filter { $0 == k }.count }, [8, 8, 8, 8, 8])
            XCTAssertEqual(folds, groupFolds(groups: data.train.groups!, folds: 5, seed: UInt64(seed)))
        }
        XCTAssertNotEqual(data.folds(manifest.cv, seed: 0), data.folds(manifest.cv, seed: 1))
    }

    func testSubsetKeepsRowsAndImagesInCSVOrder() throws {
        let dataset = try TrainingDataset.digits(in: temporaryDirectory(), trainRows: 30, testRows: 7)
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 16, models: [
            "{name: tiny, arch: resnet_ref, lr: 1e-3, epochs: 1, batch_size: 8}",
        ]))
        let data = try ExperimentData(manifest: manifest, threads: 2)
        let (_, full) = try digits()
        XCTAssertEqual(data.train.labels, Array(full.train.labels.prefix(30)))
        XCTAssertEqual(data.test.ids, Array(full.test.ids.prefix(7)))
        XCTAssertEqual(Array(data.trainImages.image(29)), Array(full.trainImages.image(29)))
        XCTAssertEqual(Array(data.testImages.image(6)), Array(full.testImages.image(6)))
    }

    func testFingerprintFollowsTheData() throws {
        let directory = try temporaryDirectory()
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 20, testRows: 4)
        let url = try dataset.writeManifest(imageSize: 16, models: ["{name: tiny, arch: resnet_ref, lr: 1e-3, epochs: 1, batch_size: 8}"])
        let manifest = try Manifest.load(url)
        let fingerprint = try ExperimentData(manifest: manifest, threads: 1).fingerprint
        XCTAssertEqual(fingerprint.count, 16)
        XCTAssertTrue(fingerprint.allSatisfy(\.isHexDigit))
        XCTAssertEqual(try ExperimentData(manifest: manifest, threads: 2).fingerprint, fingerprint)
        var smaller = manifest
        smaller.data.imageHeight = 8
        smaller.data.imageWidth = 8
        XCTAssertNotEqual(try ExperimentData(manifest: smaller, threads: 1).fingerprint, fingerprint)
        // One changed label is other data.
        let csv = directory.appendingPathComponent("train.csv")
        let text = try String(contentsOf: csv, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let fields = lines[1].split(separator: ",")
        let relabelled = [lines[0], "\(fields[0]),\((Int(fields[1])! + 1) % 10)"] + lines.dropFirst(2)
        try Data((relabelled.joined(separator: "\n") + "\n").utf8).write(to: csv)
        XCTAssertNotEqual(try ExperimentData(manifest: manifest, threads: 1).fingerprint, fingerprint)
    }

    func testASingleClassIsRefused() throws {
        let directory = try temporaryDirectory()
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 6, testRows: 2)
        let ids = (try String(contentsOf: directory.appendingPathComponent("train.csv"), encoding: .utf8))
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }
        try Data((["id,label"] + ids.map { "\($0),7" }).joined(separator: "\n").utf8)
            .write(to: directory.appendingPathComponent("train.csv"))
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 16, models: [
            "{name: tiny, arch: resnet_ref, lr: 1e-3, epochs: 1, batch_size: 8}",
        ]))
        XCTAssertThrowsError(try ExperimentData(manifest: manifest, threads: 1)) { error in
            let datasetError = error as? DatasetError
            XCTAssertNotNil(datasetError, "\(error)")
            XCTAssertTrue(datasetError?.file.hasSuffix("train.csv") ?? false)
            XCTAssertTrue(datasetError?.message.contains("only one class (7)") ?? false, "\(error)")
        }
    }

    func testAMissingTestImageIsADatasetError() throws {
        let directory = try temporaryDirectory()
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 10, testRows: 3)
        let missing = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("test").path)
            .sorted()[1]
        try FileManager.default.removeItem(at: directory.appendingPathComponent("test").appendingPathComponent(missing))
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 16, models: [
            "{name: tiny, arch: resnet_ref, lr: 1e-3, epochs: 1, batch_size: 8}",
        ]))
        XCTAssertThrowsError(try ExperimentData(manifest: manifest, threads: 1)) { error in
            XCTAssertTrue(error is DatasetError, "\(error)")
            XCTAssertTrue("\(error)".contains(String(missing.dropLast(4))), "\(error)")
        }
    }
}
