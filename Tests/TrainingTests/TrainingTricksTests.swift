import Datasets
import Engine
import Foundation
import Manifests
import TestSupport
@testable import Training
import XCTest

/// Class-balanced sampling, gradient accumulation and the mean teacher inside a
/// fold task, and the learning-rate finder.
final class TrainingTricksTests: XCTestCase {
    private func runner(model: String) throws -> FoldRunner {
        let directory = try TrainingDataset.temporaryDirectory("foldwise-tricks")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let dataset = try TrainingDataset.digits(in: directory, trainRows: 100, testRows: 20)
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 8, models: [model]))
        return FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
    }

    func testBalancedDrawMakesEveryClassAboutEquallyLikelyAndNeverDrawsValidationRows() {
        // 90 rows of class 0, 10 of class 1; fold 1 (every fifth row) is held out.
        let count = 100
        let spec = ImageSpec(height: 1, width: 1, channels: 1)
        let images = ImageSet(spec: spec, scalars: (0..<count).map(Float.init))
        let labels = (0..<count).map { $0 < 90 ? 0 : 1 }
        let folds = (0..<count).map { $0 % 5 == 1 ? 1 : 0 }
        let set = TrainingSet(trainImages: images, trainLabels: labels, testImages: images, folds: folds, fold: 1,
                              classes: 2, inputs: .none)
        let drawn = set.balancedDraw(seed: 3)
        XCTAssertEqual(drawn.count, set.rows.count)
        let minority = drawn.filter { set.labels[$0] == 1 }.count
        XCTAssertEqual(Double(minority) / Double(drawn.count), 0.5, accuracy: 0.12)
        XCTAssertEqual(set.balancedDraw(seed: 3), drawn, "deterministic")
        XCTAssertNotEqual(set.balancedDraw(seed: 4), drawn)
        let loader = set.loader(batchSize: 8, shuffleSeed: 3, augmentation: nil, augmentSeed: 0, balanced: true)
        for batch in loader { XCTAssertTrue(batch.rows.allSatisfy { folds[$0] == 0 }, "a validation row was drawn") }
    }

    func testAccumulationAndBalancedSamplingTrain() throws {
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 2, batch_size: 8, accumulate: 3, sampler: balanced}"
        let runner = try runner(model: model)
        let result = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 0), progress: { _ in }, isCancelled: { false }))
        XCTAssertTrue(result.history.allSatisfy { $0.trainLoss.isFinite })
        let again = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 0), progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(again.oof.scalars, result.oof.scalars, "deterministic")
    }

    func testMeanTeacherPredictsTheSetEMA() throws {
        let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 2, batch_size: 16, augment: {crop_padding: 1}, mean_teacher: {decay: 0.9, weight: 2, rampup_epochs: 1}}"
        let runner = try runner(model: model)
        let result = try XCTUnwrap(runner.run(FoldTask(model: "tiny", seed: 0, fold: 1), progress: { _ in }, isCancelled: { false }))
        XCTAssertEqual(result.extraSets.map(\.name), ["ema"])
        let ema = result.extraSets[0]
        XCTAssertEqual(ema.oof.shape, result.oof.shape)
        XCTAssertEqual(ema.test.shape, result.test.shape)
        XCTAssertNotEqual(ema.test.scalars, result.test.scalars, "the teacher is not the student")
        for row in 0..<ema.test.shape[0] {
            XCTAssertEqual(ema.test.scalars[(row * 10)..<((row + 1) * 10)].reduce(0, +), 1, accuracy: 1e-4)
        }
    }

    func testMeanTeacherRampUpAndAverage() throws {
        var random = SeededRandom(seed: 1)
        func model() -> Model {
            Model(architecture: "linear", network: Linear(name: "fc", inFeatures: 2, outFeatures: 2, random: &random), classes: 2)
        }
        let student = model()
        let teacher = MeanTeacher(spec: MeanTeacherSpec(decay: 0.5, weight: 4, rampupEpochs: 2), teacher: model(), student: student)
        XCTAssertEqual(teacher.model.parameters.all[0].value.scalars, student.parameters.all[0].value.scalars, "starts as a copy")
        XCTAssertEqual(teacher.weight(atEpoch: 0), 4 * Float(exp(-5.0)), accuracy: 1e-6)
        XCTAssertEqual(teacher.weight(atEpoch: 1), 4 * Float(exp(-5 * 0.25)), accuracy: 1e-6)
        XCTAssertEqual(teacher.weight(atEpoch: 2), 4)
        let start = teacher.model.parameters.all[0].value
        student.parameters.all[0].value = Tensor(shape: start.shape, scalars: start.scalars.map { $0 + 1 })
        teacher.update(from: student)  // α = min(1 − 1/2, 0.5) = 0.5
        for i in 0..<start.count { XCTAssertEqual(teacher.model.parameters.all[0].value[i], start[i] + 0.5, accuracy: 1e-6) }
    }

    /// The teacher keeps its own batch-norm statistics (from its training-mode
    /// consistency passes), so they fit its averaged weights; only weights are averaged.
    func testMeanTeacherAveragesWeightsNotBatchNormStatistics() {
        var random = SeededRandom(seed: 2)
        func model() -> Model {
            Model(architecture: "bn", network: Sequential([BatchNorm(name: "bn", channels: 2),
                                                           Linear(name: "fc", inFeatures: 2, outFeatures: 2, random: &random)]),
                  classes: 2)
        }
        let student = model()
        let teacher = MeanTeacher(spec: MeanTeacherSpec(decay: 0.5), teacher: model(), student: student)
        _ = student.forward(Tensor(shape: [4, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8]), mode: .train)
        let buffersBefore = teacher.model.parameters.buffers.map(\.value.scalars)
        XCTAssertNotEqual(student.parameters.buffers.map(\.value.scalars), buffersBefore)
        teacher.update(from: student)
        XCTAssertEqual(teacher.model.parameters.buffers.map(\.value.scalars), buffersBefore)
        _ = teacher.consistencyTargets(Tensor(shape: [4, 2], scalars: [8, 7, 6, 5, 4, 3, 2, 1]))
        XCTAssertNotEqual(teacher.model.parameters.buffers.map(\.value.scalars), buffersBefore, "its own passes move them")
    }

    func testLRFinderSuggestsTheSteepestDescentBeforeTheMinimum() {
        // A loss that falls fastest at lr 1e-3 (in log10 lr) and bottoms out at 1e-1.
        let lrs = (0..<60).map { pow(10, -6 + Double($0) / 10) }
        let points = lrs.map { lr -> LRFinder.Point in
            let x = log10(lr)
            let loss = x < -1 ? 2 - 1 / (1 + exp(-3 * (x + 3))) : 1 + (x + 1) * (x + 1)
            return LRFinder.Point(lr: lr, loss: loss, smoothed: loss)
        }
        let suggestion = try? XCTUnwrap(LRFinder.suggestion(points))
        XCTAssertEqual(log10(suggestion ?? 0), -3, accuracy: 0.11)
        XCTAssertNil(LRFinder.suggestion(Array(points.prefix(2))), "too short to tell")
    }

    func testLRFinderSweepsExponentiallyOverOnePass() throws {
        let runner = try runner(model: "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 1, batch_size: 8}")
        let spec = try XCTUnwrap(runner.manifest.model(named: "tiny"))
        let points = LRFinder(start: 1e-5, end: 1).run(spec, manifest: runner.manifest, data: runner.data)
        XCTAssertEqual(points.count, 100 / 8, "one pass, or stopped early")
        XCTAssertEqual(points.first?.lr ?? 0, 1e-5, accuracy: 1e-9)
        XCTAssertEqual(points.last?.lr ?? 0, 1, accuracy: 1e-3)
        for (a, b) in zip(points, points.dropFirst()) { XCTAssertEqual(b.lr / a.lr, pow(1e5, 1.0 / 11), accuracy: 1e-3) }
        XCTAssertTrue(points.allSatisfy { $0.loss.isFinite && $0.smoothed.isFinite })
    }
}

/// Fine-tuning: a checkpoint's weights, a replaced head, frozen and slower stages.
final class FineTuningTests: XCTestCase {
    private func model(classes: Int, seed: UInt64) -> Model {
        ModelRegistry.make(name: "resnet", config: Components.architecture(ArchSpec(name: "resnet", widths: [4, 8], blocks: [1, 1])),
                           inputChannels: 1, classes: classes, seed: seed)
    }

    private func checkpoint(of model: Model) throws -> URL {
        let directory = try TrainingDataset.temporaryDirectory("foldwise-finetune")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("pretrained.ckpt")
        try Checkpoint.save(model.parameters, metadata: [:], to: url)
        return url
    }

    func testTheBackboneLoadsAndAHeadForAnotherClassCountStartsFresh() throws {
        let pretrained = model(classes: 10, seed: 1)
        let url = try checkpoint(of: pretrained)
        let target = model(classes: 3, seed: 2)
        let fresh = target.parameters.all.map(\.value)
        let loaded = try FineTuning.initialise(target, from: url, newHead: false)
        XCTAssertFalse(loaded.kept.isEmpty)
        for (index, parameter) in target.parameters.all.enumerated() {
            if target.part(of: parameter.name) == .head && parameter.shape != pretrained.parameters[parameter.name]?.shape {
                XCTAssertEqual(parameter.value.scalars, fresh[index].scalars, "\(parameter.name) replaced")
                XCTAssertTrue(loaded.kept.contains(parameter.name))
            } else if target.part(of: parameter.name) != .head {
                XCTAssertEqual(parameter.value.scalars, pretrained.parameters[parameter.name]?.value.scalars, parameter.name)
            }
        }
        // new_head: every head parameter starts fresh, even when its shape matches.
        let same = model(classes: 10, seed: 3)
        let sameFresh = same.parameters.all.map(\.value)
        _ = try FineTuning.initialise(same, from: url, newHead: true)
        for (index, parameter) in same.parameters.all.enumerated() where same.part(of: parameter.name) == .head {
            XCTAssertEqual(parameter.value.scalars, sameFresh[index].scalars, parameter.name)
        }
    }

    func testACheckpointOfAnotherArchitectureIsRefused() throws {
        let other = ModelRegistry.make(name: "resnet", config: Components.architecture(ArchSpec(name: "resnet", widths: [6], blocks: [1])),
                                       inputChannels: 3, classes: 2, seed: 1)
        let url = try checkpoint(of: other)
        let target = model(classes: 2, seed: 1)
        let before = target.parameters.all.map(\.value.scalars)
        XCTAssertThrowsError(try FineTuning.initialise(target, from: url, newHead: false)) { error in
            XCTAssertTrue("\(error)".contains("does not fit the backbone"), "\(error)")
        }
        XCTAssertEqual(target.parameters.all.map(\.value.scalars), before, "nothing loaded")
    }

    func testFreezingAndLearningRatesPerPart() {
        let network = model(classes: 10, seed: 1)   // stem, stage 1, stage 2, head
        func settings(_ part: ModelPart) -> [(Bool, Float)] {
            network.parameters.all.filter { !$0.isBuffer && network.part(of: $0.name) == part }.map { ($0.frozen, $0.lrMultiplier) }
        }
        let spec = FineTuneSpec(freezeBackboneEpochs: 1, freezeStages: 1, stageLRDecay: 0.5)
        FineTuning.apply(spec, to: network, epoch: 0)
        for part in [ModelPart.stem, .stage(1), .stage(2)] { XCTAssertTrue(settings(part).allSatisfy { $0.0 }, "\(part) frozen in epoch 1") }
        XCTAssertTrue(settings(.head).allSatisfy { !$0.0 && $0.1 == 1 })
        FineTuning.apply(spec, to: network, epoch: 1)
        XCTAssertTrue(settings(.stem).allSatisfy { $0.0 && $0.1 == 0.125 }, "the stem stays frozen (freeze_stages)")
        XCTAssertTrue(settings(.stage(1)).allSatisfy { $0.0 && $0.1 == 0.25 })
        XCTAssertTrue(settings(.stage(2)).allSatisfy { !$0.0 && $0.1 == 0.5 }, "the last stage trains at the decay")
        XCTAssertTrue(settings(.head).allSatisfy { !$0.0 && $0.1 == 1 })
        FineTuning.apply(FineTuneSpec(backboneLR: 0.1), to: network, epoch: 0)
        XCTAssertTrue(settings(.stem).allSatisfy { !$0.0 && $0.1 == 0.1 })
        XCTAssertTrue(settings(.stage(2)).allSatisfy { !$0.0 && $0.1 == 0.1 })
    }
}
