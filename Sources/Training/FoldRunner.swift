import Datasets
import Engine
import Foundation
import Manifests

/// One unit of work: a model trained on every fold but `fold`, for one CV seed.
public struct FoldTask: Sendable, Hashable, Codable {
    public var model: String
    public var seed: Int
    public var fold: Int
    public init(model: String, seed: Int, fold: Int) { (self.model, self.seed, self.fold) = (model, seed, fold) }
}

public struct EpochRecord: Sendable, Codable, Hashable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationScore: Double
    public var learningRate: Double
    public var seconds: Double
    public init(epoch: Int, trainLoss: Double, validationLoss: Double, validationScore: Double,
                learningRate: Double, seconds: Double) {
        (self.epoch, self.trainLoss, self.validationLoss) = (epoch, trainLoss, validationLoss)
        (self.validationScore, self.learningRate, self.seconds) = (validationScore, learningRate, seconds)
    }
}

public enum FoldProgress: Sendable {
    case batch(epoch: Int, done: Int, total: Int)
    case epoch(EpochRecord)
}

/// What a fold returns: the held-out rows' probabilities (OOF) and the test set's.
public struct FoldResult: Sendable {
    public var task: FoldTask
    public var validationRows: [Int]
    public var oof: Tensor          // [validationRows.count, K]
    public var test: Tensor         // [test rows, K]
    /// Snapshot and SWA sets, when the model asks for them (`oof`/`test` are the set `last`).
    public var extraSets: [NamedPredictions] = []
    public var score: Double
    public var history: [EpochRecord]
    /// The trained model's parameters and buffers, by dotted name, for its checkpoint.
    public var weights: [(name: String, value: Tensor, isBuffer: Bool)]
    public var architecture: String
}

public struct FoldRunner {
    public let manifest: Manifest
    public let data: ExperimentData

    public init(manifest: Manifest, data: ExperimentData) { (self.manifest, self.data) = (manifest, data) }

    /// Trains the task's model and predicts its held-out fold and the test set.
    /// All randomness comes from the task's fields.
    public func run(_ task: FoldTask, progress: (FoldProgress) -> Void = { _ in }) -> FoldResult {
        guard let result = run(task, progress: progress, isCancelled: { false }) else {
            preconditionFailure("a run that cannot be cancelled always finishes")
        }
        return result
    }

    /// As `run(_:progress:)`, but gives up (returning nil) at the first batch
    /// after `isCancelled` turns true: a worker whose lease is gone stops training.
    public func run(_ task: FoldTask, progress: (FoldProgress) -> Void, isCancelled: () -> Bool) -> FoldResult? {
        run(task, inputs: .none, progress: progress, isCancelled: isCancelled)
    }

    /// As `run(_:progress:isCancelled:)`, with pseudo rows joining the training
    /// rows (never the validation rows) and, with a teacher, the distillation loss.
    /// The inputs must have passed `validate` against this data.
    public func run(_ task: FoldTask, inputs: TaskInputs, progress: (FoldProgress) -> Void,
                    isCancelled: () -> Bool) -> FoldResult? {
        guard let spec = manifest.model(named: task.model) else { preconditionFailure("FoldRunner: no model \(task.model)") }
        let training = TrainingSet(data: data, folds: data.folds(manifest.cv, seed: task.seed), fold: task.fold, inputs: inputs)
        let validationRows = training.validationRows
        let validationLabels = validationRows.map { data.train.labels[$0] }
        let taskSeed = SeededRandom(UInt64(bitPattern: Int64(task.seed)), UInt64(task.fold), stableHash(task.model)).seedValue
        let makeModel = { Components.model(spec, manifest: manifest, classes: data.classes, seed: taskSeed) }
        let model = makeModel()
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
        let trainer = Trainer(model: model, loss: inputs.loss(default: Components.loss(spec.loss)),
                              optimizer: Components.optimizer(spec.optimizer),
                              policy: Components.policy(spec.schedule, lr: spec.lr, epochs: spec.epochs,
                                                        stepsPerEpoch: stepsPerEpoch, swa: spec.swa),
                              accumulationSteps: accumulation)
        let metric = Metric(rawValue: manifest.metric.rawValue) ?? .accuracy
        let augmentation = Components.augmentation(spec.augment)
        let multiScale = Components.multiScale(spec.augment)
        // Mixing would blur a teacher's soft targets, so a distilled task trains on them unmixed.
        let mixing = inputs.distillation == nil ? Components.batchMixing(spec.augment) : nil
        let teacher = spec.meanTeacher.map { MeanTeacher(spec: $0, teacher: makeModel(), student: model) }
        var history: [EpochRecord] = []
        var oof = Tensor(zeros: [0])
        var collector = PredictionSetCollector(spec: spec)
        let studentProbabilities = { trainer.predictProbabilities($0) }
        let testRows = Array(0..<data.testImages.count)
        let predictRows = { (probabilities: (Tensor) -> Tensor, images: ImageSet, rows: [Int]) in
            predict(probabilities, images: images, rows: rows, tta: spec.tta, scales: spec.ttaScales ?? [], batchSize: spec.batchSize)
        }
        let predictTest = { predictRows(studentProbabilities, data.testImages, testRows) }
        for epoch in 0..<spec.epochs {
            if let finetune = spec.finetune { FineTuning.apply(finetune, to: model, epoch: epoch) }
            let started = Date()
            let lr = trainer.learningRate
            let shuffleSeed = taskSeed ^ UInt64(epoch + 1) &* 0x9E37_79B9
            let loader = training.loader(batchSize: spec.batchSize, shuffleSeed: shuffleSeed, augmentation: augmentation,
                                         augmentSeed: taskSeed &+ UInt64(epoch), balanced: spec.sampler == .balanced)
            // Mean teacher: the same unlabelled test images under two augmentations, one per network.
            let unlabelled = teacher.map { _ in
                [UInt64(1), 2].map { view in
                    BatchLoader(images: data.testImages, rows: testRows, labels: [],
                                batchSize: spec.batchSize, shuffleSeed: shuffleSeed ^ 0x7465_6163,
                                augmentation: augmentation, augmentSeed: (taskSeed &+ UInt64(epoch)) ^ (view << 40),
                                dropLast: false, prefetch: 0)
                }
            }
            var lossSum = 0.0
            for (b, batch) in loader.enumerated() {
                if isCancelled() { return nil }
                var images = batch.images, targets = training.targets(for: batch)
                if multiScale != nil || mixing != nil {
                    var random = SeededRandom(taskSeed, UInt64(epoch), UInt64(b), stableHash("batch"))
                    if let multiScale { images = multiScale.apply(images, random: &random) }
                    if let mixing { targets = mixing.apply(images: &images, targets: targets, classes: data.classes, random: &random) }
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
            oof = predictRows(studentProbabilities, data.trainImages, validationRows)
            let validationLoss = Metric.logLoss.score(probabilities: oof.scalars, classes: data.classes, labels: validationLabels)
            trainer.endEpoch(validationLoss: validationLoss)
            let score = metric.score(probabilities: oof.scalars, classes: data.classes, labels: validationLabels)
            let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(loader.batchCount, 1)),
                                     validationLoss: validationLoss, validationScore: score,
                                     learningRate: Double(lr), seconds: Date().timeIntervalSince(started))
            history.append(record)
            progress(.epoch(record))
            collector.endOfEpoch(epoch + 1, model: model, oof: oof, score: metric.higherIsBetter ? score : -score,
                                 loss: validationLoss, predictTest: predictTest)
        }
        let test = predictTest()
        let weights = model.parameters.all.map { ($0.name, $0.value, $0.isBuffer) }
        // Batch-norm statistics for SWA come from the training rows as the network sees them at prediction time.
        var extraSets = collector.finish(model: model, statisticsBatches: { training.plainBatches(batchSize: spec.batchSize) },
                                         predict: {
            (predictRows(studentProbabilities, data.trainImages, validationRows), predictTest())
        }, predictTest: predictTest)
        if let teacher {
            let probabilities = { teacher.probabilities($0) }
            extraSets.append(NamedPredictions(
                name: "ema",
                oof: predictRows(probabilities, data.trainImages, validationRows),
                test: predictRows(probabilities, data.testImages, testRows)))
        }
        return FoldResult(task: task, validationRows: validationRows, oof: oof, test: test, extraSets: extraSets,
                          score: history.last?.validationScore ?? .nan, history: history, weights: weights,
                          architecture: spec.arch.name)
    }

    /// Builds every model once and checks what only a built model can tell: its
    /// fine-tuning settings against its stages and its checkpoint. Commands call
    /// this before training, so a bad setting exits with a message, not mid-run.
    public func checkModels() throws {
        for spec in manifest.models {
            guard let finetune = spec.finetune else { continue }
            let model = Components.model(spec, manifest: manifest, classes: data.classes, seed: 0)
            try FineTuning.check(finetune, model: model, modelName: spec.name, manifest: manifest)
        }
    }

    /// Probabilities [rows, K] averaged over the identity, the TTA flips and the TTA scales.
    func predict(_ probabilities: (Tensor) -> Tensor, images: ImageSet, rows: [Int], tta: [TTATransform],
                 scales: [Float], batchSize: Int) -> Tensor {
        let K = data.classes
        var out = Tensor(zeros: [rows.count, K])
        let loader = BatchLoader(images: images, rows: rows, labels: [], batchSize: max(batchSize, 256),
                                 shuffleSeed: nil, augmentation: nil, augmentSeed: 0, dropLast: false)
        var offset = 0
        // The identity and each flip at the trained size, then the identity at each extra scale.
        let views: [(h: Bool, v: Bool, scale: Float)] = [(false, false, 1)] + tta.map {
            switch $0 { case .hflip: (true, false, 1); case .vflip: (false, true, 1); case .hvflip: (true, true, 1) }
        } + scales.map { (false, false, $0) }
        for batch in loader {
            for view in views {
                var input = (view.h || view.v) ? flipped(batch.images, horizontal: view.h, vertical: view.v) : batch.images
                if view.scale != 1 { input = resizeBatch(input, scale: view.scale) }
                let p = probabilities(input)
                for i in 0..<p.count { out[offset * K + i] += p[i] / Float(views.count) }
            }
            offset += batch.rows.count
        }
        return out
    }
}

extension SeededRandom {
    /// The first output of a stream, used as a compact seed for sub-streams.
    var seedValue: UInt64 { var copy = self; return copy.next() }
}
