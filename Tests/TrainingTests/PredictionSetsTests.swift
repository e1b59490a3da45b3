import Datasets
import Engine
import Foundation
import Manifests
import TestSupport
import Training
import XCTest

/// Snapshot, SWA and best-epoch prediction sets out of one task.
final class PredictionSetsTests: XCTestCase {
    private func runner(model: String) throws -> FoldRunner {
        let directory = try TrainingDataset.temporaryDirectory("foldwise-sets")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 100, testRows: 20)
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 8, models: [model]))
        return FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
    }

    func testSnapshotsAreTheModelAtEachCycleEndAndTheirMean() throws {
        let runner = try runner(model: "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 4, batch_size: 16, schedule: cosine, snapshots: {cycles: 2, keep: 2}}")
        var epochScores: [Double] = []
        let result = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 1), progress: {
            if case .epoch(let record) = $0 { epochScores.append(record.validationScore) }
        }, isCancelled: { false }))
        XCTAssertEqual(result.extraSets.map(\.name), ["snapshot-1", "snapshot-2", "snapshots"])
        let (first, second, mean) = (result.extraSets[0], result.extraSets[1], result.extraSets[2])
        // The last cycle ends with the last epoch: its snapshot is the set `last`.
        XCTAssertEqual(second.oof.scalars, result.oof.scalars)
        XCTAssertEqual(second.test.scalars, result.test.scalars)
        XCTAssertNotEqual(first.oof.scalars, second.oof.scalars)
        for i in 0..<mean.oof.count { XCTAssertEqual(mean.oof[i], (first.oof[i] + second.oof[i]) / 2, accuracy: 1e-6) }
        for i in 0..<mean.test.count { XCTAssertEqual(mean.test[i], (first.test[i] + second.test[i]) / 2, accuracy: 1e-6) }
        // The learning rate restarts after epoch 2.
        XCTAssertEqual(result.history.map(\.learningRate)[2], result.history.map(\.learningRate)[0], accuracy: 1e-9)
    }

    func testSWAAveragesTheLateWeightsAndPredictsWithRecomputedStatistics() throws {
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 3, batch_size: 16, swa: {start_epoch: 2, lr: 1e-3}}"
        let runner = try runner(model: model)
        let result = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 0), progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(result.extraSets.map(\.name), ["swa"])
        XCTAssertEqual(result.history.map(\.learningRate).suffix(2), [1e-3, 1e-3].map { Double(Float($0)) })
        let swa = result.extraSets[0]
        XCTAssertEqual(swa.oof.shape, result.oof.shape)
        XCTAssertEqual(swa.test.shape, result.test.shape)
        XCTAssertNotEqual(swa.oof.scalars, result.oof.scalars)
        for row in 0..<swa.oof.shape[0] {
            XCTAssertEqual((0..<10).reduce(Float(0)) { $0 + swa.oof[row * 10 + $1] }, 1, accuracy: 1e-4)
        }
        // Deterministic, weights and SWA predictions alike.
        let again = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 0), progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(again.extraSets[0].oof.scalars, swa.oof.scalars, "deterministic")
        XCTAssertEqual(result.weights.map(\.value.scalars), again.weights.map(\.value.scalars))
    }

    func testBestIsTheEpochWithTheHighestSelectionScoreAndPredictsTestWithItsWeights() throws {
        // A learning rate this high makes the scores jump about, so the best epoch is not the last.
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 5e-2, epochs: 4, batch_size: 16, keep_best: true}"
        let runner = try runner(model: model)
        let spec = try XCTUnwrap(runner.manifest.model(named: "tiny"))
        let task = FoldTask(model: "tiny", seed: 0, fold: 2)
        let result = try XCTUnwrap(runner.run(task, progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(["last"] + result.extraSets.map(\.name), spec.predictionSets)
        let best = try XCTUnwrap(result.extraSets.first { $0.name == "best" })
        let scores = try result.history.map { try XCTUnwrap($0.selectionScore, "keep_best scores the selection rows") }
        let losses = try result.history.map { try XCTUnwrap($0.selectionLoss) }
        let bestEpoch = try XCTUnwrap(scores.indices.max { a, b in
            scores[a] != scores[b] ? scores[a] < scores[b] : losses[a] > losses[b] || a > b
        })
        XCTAssertLessThan(bestEpoch, scores.count - 1, "this configuration's best epoch is before the last: \(scores)")
        let labels = result.validationRows.map { runner.data.train.labels[$0] }
        XCTAssertEqual(Metric.accuracy.score(probabilities: best.oof.scalars, classes: 10, labels: labels),
                       result.history[bestEpoch].validationScore, "best's OOF rows are the chosen epoch's")
        XCTAssertNotEqual(best.test.scalars, result.test.scalars, "test predicted by the best epoch's weights")
        // The weights returned (the checkpoint) stay the last epoch's.
        let again = try XCTUnwrap(runner.run(task, progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(again.weights.map(\.value.scalars), result.weights.map(\.value.scalars))
        XCTAssertEqual(again.extraSets[0].test.scalars, best.test.scalars, "deterministic")
    }

    /// The leak test of the choices made while training: with `keep_best` and
    /// a plateau schedule, changing the labels of the fold's own rows changes
    /// none of its OOF predictions (before, the best epoch and the plateau's
    /// steps were chosen on them).
    func testTheFoldsOwnLabelsChooseNeitherTheBestEpochNorThePlateauSteps() throws {
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 5e-2, epochs: 4, batch_size: 16, keep_best: true, schedule: {name: plateau, patience: 0, factor: 0.5}}"
        let directory = try TrainingDataset.temporaryDirectory("foldwise-selection")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 100, testRows: 20)
        let url = try dataset.writeManifest(imageSize: 8, cv: "{folds: 5, seeds: [0], stratify: false}", models: [model])
        let manifest = try Manifest.load(url)
        let task = FoldTask(model: "tiny", seed: 0, fold: 1)
        let run = { try XCTUnwrap(FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
            .run(task, progress: { _ in }, isCancelled: { false })) }
        let honest = try run()
        // Every validation row's label moved to the next class.
        let validation = Set(honest.validationRows)
        let lines = zip(dataset.trainIDs, dataset.trainLabels).enumerated().map { row, entry in
            "\(entry.0),\(validation.contains(row) ? (entry.1 + 1) % 10 : entry.1)"
        }
        try (["id,label"] + lines).joined(separator: "\n").appending("\n")
            .write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let other = try run()
        XCTAssertEqual(other.validationRows, honest.validationRows, "the folds must not move")
        XCTAssertEqual(other.oof.scalars, honest.oof.scalars, "last")
        XCTAssertEqual(other.extraSets.map(\.name), ["best"])
        XCTAssertEqual(other.extraSets[0].oof.scalars, honest.extraSets[0].oof.scalars, "best")
        XCTAssertEqual(other.history.map(\.learningRate), honest.history.map(\.learningRate), "the plateau's steps")
        XCTAssertTrue(honest.history.map(\.learningRate).contains { $0 < 5e-2 * 0.99 }, "the plateau stepped at least once")
    }

    func testEverySetAModelNamesIsReportedInItsOrder() throws {
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 4, batch_size: 16, schedule: cosine, snapshots: {cycles: 2, keep: 1}, swa: {start_epoch: 3, lr: 1e-3}, keep_best: true}"
        let runner = try runner(model: model)
        let spec = try XCTUnwrap(runner.manifest.model(named: "tiny"))
        XCTAssertEqual(spec.predictionSets, ["last", "snapshot-1", "snapshot-2", "snapshots", "swa", "best"])
        let result = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 0), progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(["last"] + result.extraSets.map(\.name), spec.predictionSets)
    }

    func testAModelWithoutSnapshotsOrSWAHasOnlyLast() throws {
        let runner = try runner(model: FoldRunnerTests.tinyModel)
        XCTAssertEqual(runner.run(FoldTask(model: "tiny", seed: 0, fold: 0)).extraSets.count, 0)
    }
}
