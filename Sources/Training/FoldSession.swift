import Datasets
import Engine
import Foundation
import Manifests

/// One task's training run, built once by `FoldRunner.run`: the model, its
/// trainer and everything an epoch needs. `run` calls the steps in order —
/// `trainEpoch`, `validate` and `collectPredictionSets` each epoch, then
/// `finish` — and the session keeps the history, the latest OOF predictions
/// and the extra prediction sets.
final class FoldSession {
    let task: FoldTask
    let spec: ModelSpec
    private let runner: FoldRunner
    private let training: TrainingSet
    let validationRows: [Int]
    private let validationLabels: [Int]
    /// The labels of `training.selectionRows`.
    private let selectionLabels: [Int]
    private let taskSeed: UInt64
    private let model: Model
    private let trainer: Trainer
    private let metric: Metric
    private let augmentation: Augmentation
    private let multiScale: MultiScale?
    private let mixing: BatchMixing?
    private let teacher: MeanTeacher?
    private let testRows: [Int]
    private(set) var history: [EpochRecord] = []
    private(set) var oof = Tensor(zeros: [0])
    private var collector: PredictionSetCollector

    /// What training one epoch reports to its validation.
    struct TrainedEpoch {
        var started: Date
        var learningRate: Float
        var trainLoss: Double
    }

    /// Builds the task's model (loading a fine-tuning checkpoint) and trainer.
    /// All randomness comes from the task's fields.
    init(runner: FoldRunner, task: FoldTask, inputs: TaskInputs) {
        let (manifest, data) = (runner.manifest, runner.data)
        guard let spec = manifest.model(named: task.model) else { preconditionFailure("FoldRunner: no model \(task.model)") }
        (self.runner, self.task, self.spec) = (runner, task, spec)
        // Choosing an epoch or stepping a plateau on the fold's own labels would make its OOF optimistic.
        let choosesWhileTraining = spec.keepBest == true || spec.schedule.name == .plateau
        training = TrainingSet(data: data, folds: data.folds(manifest.cv, seed: task.seed), fold: task.fold, inputs: inputs,
                               holdsOutSelection: choosesWhileTraining)
        validationRows = training.validationRows
        validationLabels = validationRows.map { data.train.labels[$0] }
        selectionLabels = training.selectionRows.map { data.train.labels[$0] }
        let taskSeed = SeededRandom(UInt64(bitPattern: Int64(task.seed)), UInt64(task.fold), stableHash(task.model)).seedValue
        self.taskSeed = taskSeed
        let makeModel = { Components.model(spec, manifest: manifest, classes: data.classes, seed: taskSeed) }
        let model = makeModel()
        self.model = model
        if let checkpoint = spec.finetune?.checkpoint {
            do {
                _ = try FineTuning.initialise(model, from: manifest.resolve(checkpoint), newHead: spec.finetune?.newHead ?? false)
            } catch {
                preconditionFailure("FoldRunner: \(error) (checkModels() checks this before training)")
            }
        }
        // Training drops a last short batch (unless it is the only one), as the loader does.
        let batchesPerEpoch = max(1, training.rows.count / spec.batchSize)
        let accumulation = spec.accumulate ?? 1
        let stepsPerEpoch = (batchesPerEpoch + accumulation - 1) / accumulation
        trainer = Trainer(model: model, loss: inputs.loss(default: Components.loss(spec.loss)),
                          optimizer: Components.optimizer(spec.optimizer),
                          policy: Components.policy(spec.schedule, lr: spec.lr, epochs: spec.epochs,
                                                    stepsPerEpoch: stepsPerEpoch, swa: spec.swa),
                          accumulationSteps: accumulation)
        metric = Metric(manifest.metric)
        augmentation = Components.augmentation(spec.augment)
        multiScale = Components.multiScale(spec.augment)
        // Mixing would blur a teacher's soft targets, so a distilled task trains on them unmixed.
        mixing = inputs.distillation == nil ? Components.batchMixing(spec.augment) : nil
        teacher = spec.meanTeacher.map { MeanTeacher(spec: $0, teacher: makeModel(), student: model) }
        testRows = Array(0..<data.testImages.count)
        collector = PredictionSetCollector(spec: spec)
    }

    /// One pass over the training rows (`epoch` is 0-based); nil when
    /// `isCancelled` turns true before a batch.
    func trainEpoch(_ epoch: Int, progress: (FoldProgress) -> Void, isCancelled: () -> Bool) -> TrainedEpoch? {
        if let finetune = spec.finetune { FineTuning.apply(finetune, to: model, epoch: epoch) }
        let started = Date()
        let lr = trainer.learningRate
        let shuffleSeed = taskSeed ^ UInt64(epoch + 1) &* 0x9E37_79B9
        let loader = training.loader(batchSize: spec.batchSize, shuffleSeed: shuffleSeed, augmentation: augmentation,
                                     augmentSeed: taskSeed &+ UInt64(epoch), balanced: spec.sampler == .balanced)
        let unlabelled = unlabelledViews(epoch: epoch, shuffleSeed: shuffleSeed)
        var lossSum = 0.0
        for (b, batch) in loader.enumerated() {
            if isCancelled() { return nil }
            var images = batch.images, targets = training.targets(for: batch)
            if multiScale != nil || mixing != nil {
                var random = SeededRandom(taskSeed, UInt64(epoch), UInt64(b), stableHash("batch"))
                if let multiScale { images = multiScale.apply(images, random: &random) }
                if let mixing { targets = mixing.apply(images: &images, targets: targets, classes: runner.data.classes, random: &random) }
            }
            lossSum += Double(trainer.accumulate { backward in
                let (value, dLogits) = trainer.loss.evaluate(logits: model.forward(images, mode: .train), targets: targets)
                backward(dLogits)
                guard let teacher, let views = unlabelled, views[0].batchCount > 0 else { return value }
                let index = b % views[0].batchCount
                let (extra, dExtra) = teacher.consistency(student: model, studentView: views[0].batch(index).images,
                                                          teacherView: views[1].batch(index).images,
                                                          atEpoch: Double(epoch) + Double(b) / Double(loader.batchCount))
                backward(dExtra)
                return value + extra
            })
            if trainer.pendingBatches == 0 { teacher?.update(from: model) }
            progress(.batch(epoch: epoch, done: b + 1, total: loader.batchCount))
        }
        if trainer.flush() { teacher?.update(from: model) }
        return TrainedEpoch(started: started, learningRate: lr, trainLoss: lossSum / Double(max(loader.batchCount, 1)))
    }

    /// Mean teacher: the same unlabelled test images under two augmentations, one per network.
    private func unlabelledViews(epoch: Int, shuffleSeed: UInt64) -> [BatchLoader]? {
        teacher.map { _ in
            [UInt64(1), 2].map { view in
                BatchLoader(images: runner.data.testImages, rows: testRows, labels: [],
                            batchSize: spec.batchSize, shuffleSeed: shuffleSeed ^ 0x7465_6163,
                            augmentation: augmentation, augmentSeed: (taskSeed &+ UInt64(epoch)) ^ (view << 40),
                            dropLast: false, prefetch: 0)
            }
        }
    }

    /// Predicts the held-out fold after epoch `epoch` (0-based) and records
    /// the epoch; the schedule steps on the selection rows' loss when there
    /// are some (never on the fold's: its labels must not steer its model).
    func validate(_ epoch: Int, _ trained: TrainedEpoch) -> EpochRecord {
        let classes = runner.data.classes
        oof = predict(studentProbabilities, images: runner.data.trainImages, rows: validationRows)
        let validationLoss = Metric.logLoss.score(probabilities: oof.scalars, classes: classes, labels: validationLabels)
        let score = metric.score(probabilities: oof.scalars, classes: classes, labels: validationLabels)
        let selection = scoreSelection()
        if let selection { trainer.endEpoch(validationLoss: selection.loss) }
        let record = EpochRecord(epoch: epoch + 1, trainLoss: trained.trainLoss,
                                 validationLoss: validationLoss, validationScore: score,
                                 learningRate: Double(trained.learningRate), seconds: Date().timeIntervalSince(trained.started),
                                 selectionLoss: selection?.loss, selectionScore: selection?.score)
        history.append(record)
        return record
    }

    /// The loss and score of the current model on the selection rows; nil without them.
    private func scoreSelection() -> (loss: Double, score: Double)? {
        let rows = training.selectionRows
        guard !rows.isEmpty else { return nil }
        let classes = runner.data.classes
        let predicted = predict(studentProbabilities, images: runner.data.trainImages, rows: rows)
        return (Metric.logLoss.score(probabilities: predicted.scalars, classes: classes, labels: selectionLabels),
                metric.score(probabilities: predicted.scalars, classes: classes, labels: selectionLabels))
    }

    /// Offers the validated epoch to the extra prediction sets (a snapshot at
    /// a cycle's end, SWA's running mean, the best epoch so far — best on the
    /// selection rows, never on the fold's own).
    func collectPredictionSets(after record: EpochRecord) {
        let selection = record.selectionScore ?? .nan
        let score = metric.higherIsBetter ? selection : -selection
        collector.endOfEpoch(record.epoch, model: model, oof: oof, score: score, loss: record.selectionLoss ?? .nan,
                             predictTest: predictTest)
    }

    /// After the last epoch: the test predictions, the checkpoint's weights and
    /// the extra prediction sets (snapshots, SWA, best, the mean teacher's `ema`).
    func finish() -> FoldResult {
        let test = predictTest()
        let weights = model.parameters.all.map { ($0.name, $0.value, $0.isBuffer) }
        let images = runner.data.trainImages
        // Batch-norm statistics for SWA come from the training rows as the network sees them at prediction time.
        var extraSets = collector.finish(model: model, statisticsBatches: { training.plainBatches(batchSize: spec.batchSize) },
                                         predict: { (self.predict(self.studentProbabilities, images: images, rows: self.validationRows),
                                                     self.predictTest()) },
                                         predictTest: predictTest)
        if let teacher {
            let probabilities = { teacher.probabilities($0) }
            extraSets.append(NamedPredictions(name: "ema", oof: predict(probabilities, images: images, rows: validationRows),
                                              test: predict(probabilities, images: runner.data.testImages, rows: testRows)))
        }
        return FoldResult(task: task, validationRows: validationRows, oof: oof, test: test, extraSets: extraSets,
                          score: history.last?.validationScore ?? .nan, history: history, weights: weights,
                          architecture: spec.arch.name)
    }

    private func studentProbabilities(_ images: Tensor) -> Tensor { trainer.predictProbabilities(images) }

    private func predictTest() -> Tensor {
        predict(studentProbabilities, images: runner.data.testImages, rows: testRows)
    }

    private func predict(_ probabilities: (Tensor) -> Tensor, images: ImageSet, rows: [Int]) -> Tensor {
        runner.predict(probabilities, images: images, rows: rows, tta: spec.tta, scales: spec.ttaScales ?? [],
                       batchSize: spec.batchSize)
    }
}
