import Datasets
import Engine
import Foundation
import Manifests
import TestSupport
import Training
import XCTest

/// One (model, seed, fold) task: honest validation rows, probability outputs
/// of the right shapes, determinism and test-time augmentation. A one-stage
/// ResNet of width 8 on 100 digits keeps each run to a fraction of a second.
final class FoldRunnerTests: XCTestCase {
    static let tinyModel = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 2, batch_size: 16}"

    private func temporaryDirectory() throws -> URL {
        let url = try TrainingDataset.temporaryDirectory("foldwise-training")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func tinyRunner(model: String = tinyModel, imageSize: Int = 8) throws -> FoldRunner {
        let dataset = try TrainingDataset.digits(in: temporaryDirectory(), trainRows: 100, testRows: 20)
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: imageSize, models: [model]))
        return FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
    }

    private func assertProbabilityRows(_ tensor: Tensor, rows: Int, classes: Int,
                                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(tensor.shape, [rows, classes], file: file, line: line)
        for row in 0..<rows {
            let values = tensor.scalars[(row * classes)..<((row + 1) * classes)]
            XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "row \(row): \(values)", file: file, line: line)
            XCTAssertEqual(values.reduce(0, +), 1, accuracy: 1e-4, "row \(row)", file: file, line: line)
        }
    }

    func testValidationRowsAreTheFoldAndOutputsAreProbabilities() throws {
        let runner = try tinyRunner()
        let folds = runner.data.folds(runner.manifest.cv, seed: 0)
        var batches = 0
        var epochs: [EpochRecord] = []
        let result = runner.run(FoldTask(model: "tiny", seed: 0, fold: 3)) { event in
            switch event {
            case .batch: batches += 1
            case .epoch(let record): epochs.append(record)
            }
        }
        XCTAssertEqual(result.task, FoldTask(model: "tiny", seed: 0, fold: 3))
        XCTAssertEqual(result.validationRows, folds.indices.filter { folds[$0] == 3 })
        XCTAssertEqual(result.validationRows.count, 20)
        let K = runner.data.classes
        assertProbabilityRows(result.oof, rows: 20, classes: K)
        assertProbabilityRows(result.test, rows: 20, classes: K)
        // 80 training rows in batches of 16: five steps an epoch, two epochs.
        XCTAssertEqual(batches, 10)
        XCTAssertEqual(result.history.map(\.epoch), [1, 2])
        XCTAssertEqual(epochs.map(\.epoch), [1, 2])
        let labels = result.validationRows.map { runner.data.train.labels[$0] }
        let accuracy = Metric.accuracy.score(probabilities: result.oof.scalars, classes: K, labels: labels)
        XCTAssertEqual(result.score, accuracy)
        XCTAssertEqual(result.history.last?.validationScore, accuracy)
        XCTAssertEqual(result.history.last?.validationLoss ?? 0,
                       Metric.logLoss.score(probabilities: result.oof.scalars, classes: K, labels: labels), accuracy: 1e-9)
        XCTAssertTrue(result.history.allSatisfy { $0.trainLoss.isFinite && $0.trainLoss > 0 && $0.learningRate == Double(Float(3e-3)) })
    }

    /// Leakage, tested by behaviour: every "2" is in one group, so group folds
    /// put all of them (and nothing else) in fold 0. A model that never saw a
    /// "2" must give that class little probability on fold 0; a model that
    /// trained on them recognises them.
    func testAFoldsLabelsNeverReachItsModel() throws {
        let directory = try temporaryDirectory()
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 60, testRows: 0, keeping: { $0 <= 2 },
                                                 groupOf: { row, label in label == 2 ? "twos" : "row\(row)" })
        let twos = dataset.trainIDs.indices.filter { dataset.trainLabels[$0] == 2 }
        try dataset.writeTestImages(twos.map { try JPEG.decode(file: directory.appendingPathComponent("train/\(dataset.trainIDs[$0]).jpg")) },
                                    folder: "test")
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 1e-2, epochs: 12, batch_size: 8}"
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 8, cv: "{folds: 5, group_column: group}", models: [model]))
        let runner = FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
        XCTAssertEqual(runner.data.classes, 3)

        let blind = runner.run(FoldTask(model: "tiny", seed: 0, fold: 0))
        XCTAssertEqual(blind.validationRows, twos)
        let blindTwos = meanProbability(of: 2, in: blind.oof)
        let sighted = runner.run(FoldTask(model: "tiny", seed: 0, fold: 1))
        XCTAssertTrue(Set(sighted.validationRows).isDisjoint(with: twos))
        let sightedTwos = meanProbability(of: 2, in: sighted.test)
        XCTAssertLessThan(blindTwos, 0.1, "a model that never saw a 2 gives the class little probability")
        XCTAssertGreaterThan(sightedTwos, 0.5, "the same images, seen in training, are recognised")
        XCTAssertEqual(blind.score, 0)
    }

    private func meanProbability(of k: Int, in probabilities: Tensor) -> Double {
        let (rows, K) = (probabilities.shape[0], probabilities.shape[1])
        return (0..<rows).reduce(0.0) { $0 + Double(probabilities[$1 * K + k]) } / Double(rows)
    }

    func testTheSameTaskGivesBitIdenticalPredictions() throws {
        let runner = try tinyRunner()
        let task = FoldTask(model: "tiny", seed: 0, fold: 1)
        let first = runner.run(task), second = runner.run(task)
        XCTAssertEqual(first.validationRows, second.validationRows)
        XCTAssertEqual(first.oof.scalars, second.oof.scalars)
        XCTAssertEqual(first.test.scalars, second.test.scalars)
        XCTAssertEqual(first.history.map(\.trainLoss), second.history.map(\.trainLoss))
    }

    func testAnotherSeedOrFoldGivesOtherPredictions() throws {
        let runner = try tinyRunner()
        let base = runner.run(FoldTask(model: "tiny", seed: 0, fold: 1))
        let otherSeed = runner.run(FoldTask(model: "tiny", seed: 1, fold: 1))
        let otherFold = runner.run(FoldTask(model: "tiny", seed: 0, fold: 2))
        XCTAssertNotEqual(base.test.scalars, otherSeed.test.scalars)
        XCTAssertNotEqual(base.test.scalars, otherFold.test.scalars)
        XCTAssertNotEqual(base.validationRows, otherSeed.validationRows, "each CV seed has its own split")
        XCTAssertTrue(Set(base.validationRows).isDisjoint(with: otherFold.validationRows))
    }

    /// Test images made of four constant 8×8 blocks decode exactly, so their
    /// mirror images are exactly the flipped views TTA makes. Training ignores
    /// the test set, so runs that differ only in test folder or TTA train the
    /// same model, and TTA must average the views' predictions.
    func testTTAAveragesTheFlippedViews() throws {
        let directory = try temporaryDirectory()
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 60, testRows: 0)
        var random = SeededRandom(seed: 11)
        let quadrants = (0..<12).map { _ in (0..<4).map { _ in UInt8(random.uniform(0, 255)) } }
        func image(_ q: [Int]) -> (([UInt8]) -> DecodedImage) {
            { values in
                let pixels = (0..<256).map { i in values[q[(i / 16 >= 8 ? 2 : 0) + (i % 16 >= 8 ? 1 : 0)]] }
                return DecodedImage(width: 16, height: 16, components: 1, pixels: pixels)
            }
        }
        try dataset.writeTestImages(quadrants.map(image([0, 1, 2, 3])), folder: "test")
        try dataset.writeTestImages(quadrants.map(image([1, 0, 3, 2])), folder: "test_h")
        try dataset.writeTestImages(quadrants.map(image([2, 3, 0, 1])), folder: "test_v")
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, lr: 3e-3, epochs: 1, batch_size: 16"
        func testPredictions(folder: String, tta: String) throws -> Tensor {
            let url = try dataset.writeManifest(file: "\(folder)-\(tta.count).yaml", imageSize: 16, testImages: folder,
                                                models: [model + ", tta: \(tta)}"])
            let manifest = try Manifest.load(url)
            let runner = FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
            let result = runner.run(FoldTask(model: "tiny", seed: 0, fold: 0))
            assertProbabilityRows(result.oof, rows: result.validationRows.count, classes: runner.data.classes)
            assertProbabilityRows(result.test, rows: 12, classes: runner.data.classes)
            return result.test
        }
        let identity = try testPredictions(folder: "test", tta: "[]")
        let horizontal = try testPredictions(folder: "test_h", tta: "[]")
        let vertical = try testPredictions(folder: "test_v", tta: "[]")
        let withHFlip = try testPredictions(folder: "test", tta: "[hflip]")
        let withBoth = try testPredictions(folder: "test", tta: "[hflip, vflip]")
        XCTAssertNotEqual(withHFlip.scalars, identity.scalars)
        XCTAssertNotEqual(withBoth.scalars, withHFlip.scalars)
        for i in 0..<identity.count {
            XCTAssertEqual(withHFlip[i], (identity[i] + horizontal[i]) / 2, accuracy: 1e-6, "scalar \(i)")
            XCTAssertEqual(withBoth[i], (identity[i] + horizontal[i] + vertical[i]) / 3, accuracy: 1e-6, "scalar \(i)")
        }
    }

    /// The shipped digits model must be good, not just run: fold 0 of
    /// manifests/digits.yaml with fewer epochs than the manifest's 12.
    func testDigitsFoldReachesNinetyFivePercent() throws {
        #if DEBUG
        throw XCTSkip("trains resnet_ref on 1,200 digits: run in release (swift test -c release)")
        #else
        var manifest = try Manifest.load(TrainingDataset.digitsManifest)
        manifest.models[0].epochs = Self.digitsEpochs
        let runner = FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
        let started = Date()
        let result = runner.run(FoldTask(model: "resnet", seed: 0, fold: 0))
        let seconds = Date().timeIntervalSince(started)
        let testAccuracy = Metric.accuracy.score(probabilities: result.test.scalars, classes: 10,
                                                 labels: try XCTUnwrap(runner.data.testLabels))
        print("digits fold 0: \(Self.digitsEpochs) epochs in \(seconds) s, validation accuracy \(result.score), held-out \(testAccuracy)")
        XCTAssertEqual(result.validationRows.count, 300)
        XCTAssertGreaterThanOrEqual(result.score, 0.95)
        XCTAssertGreaterThanOrEqual(testAccuracy, 0.93)
        #endif
    }

    /// 4 of the manifest's 12 epochs: 0.98 in ~15 s of a release build on 2
    /// cores (3 epochs reach 0.97, 6 reach 0.993 in ~28 s).
    static let digitsEpochs = 4
}
