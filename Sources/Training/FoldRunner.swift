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
        let taskSeed = SeededRandom(UInt64(bitPattern: Int64(task.seed)), UInt64(task.fold), stableHash(task.model)).seedValue
        let model = ModelRegistry.make(name: spec.arch.name, config: Components.architecture(spec.arch),
                                       inputChannels: manifest.data.channels, classes: data.classes, seed: taskSeed)
        // Training drops a last short batch (unless it is the only one), as the loader does.
        let stepsPerEpoch = max(1, training.rows.count / spec.batchSize)
        let trainer = Trainer(model: model, loss: inputs.loss(default: Components.loss(spec.loss)),
                              optimizer: Components.optimizer(spec.optimizer),
                              policy: Components.policy(spec.schedule, lr: spec.lr, epochs: spec.epochs,
                                                        stepsPerEpoch: stepsPerEpoch, swa: spec.swa))
        let metric = Metric(rawValue: manifest.metric.rawValue) ?? .accuracy
        let augmentation = Augmentation(hflip: spec.augment.hflip, vflip: spec.augment.vflip, cropPadding: spec.augment.cropPadding)
        var history: [EpochRecord] = []
        var oof = Tensor(zeros: [0])
        var collector = PredictionSetCollector(spec: spec)
        let predictTest = { predict(trainer, images: data.testImages, rows: Array(0..<data.testImages.count), tta: spec.tta,
                                    batchSize: spec.batchSize) }
        for epoch in 0..<spec.epochs {
            let started = Date()
            let lr = trainer.learningRate
            let loader = training.loader(batchSize: spec.batchSize, shuffleSeed: taskSeed ^ UInt64(epoch + 1) &* 0x9E37_79B9,
                                         augmentation: augmentation, augmentSeed: taskSeed &+ UInt64(epoch))
            var lossSum = 0.0
            for (b, batch) in loader.enumerated() {
                if isCancelled() { return nil }
                lossSum += Double(trainer.trainStep(images: batch.images, targets: training.targets(for: batch)))
                progress(.batch(epoch: epoch, done: b + 1, total: loader.batchCount))
            }
            oof = predict(trainer, images: data.trainImages, rows: validationRows, tta: spec.tta, batchSize: spec.batchSize)
            let labels = validationRows.map { data.train.labels[$0] }
            let validationLoss = Metric.logLoss.score(probabilities: oof.scalars, classes: data.classes, labels: labels)
            trainer.endEpoch(validationLoss: validationLoss)
            let score = metric.score(probabilities: oof.scalars, classes: data.classes, labels: labels)
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
        let extraSets = collector.finish(model: model, statisticsBatches: { training.plainBatches(batchSize: spec.batchSize) },
                                         predict: {
            (predict(trainer, images: data.trainImages, rows: validationRows, tta: spec.tta, batchSize: spec.batchSize), predictTest())
        }, predictTest: predictTest)
        return FoldResult(task: task, validationRows: validationRows, oof: oof, test: test, extraSets: extraSets,
                          score: history.last?.validationScore ?? .nan, history: history, weights: weights,
                          architecture: spec.arch.name)
    }

    /// Probabilities [rows, K] averaged over the identity and the TTA flips.
    func predict(_ trainer: Trainer, images: ImageSet, rows: [Int], tta: [TTATransform], batchSize: Int) -> Tensor {
        let K = data.classes
        var out = Tensor(zeros: [rows.count, K])
        let loader = BatchLoader(images: images, rows: rows, labels: [], batchSize: max(batchSize, 256),
                                 shuffleSeed: nil, augmentation: nil, augmentSeed: 0, dropLast: false)
        var offset = 0
        let views: [(Bool, Bool)] = [(false, false)] + tta.map {
            switch $0 { case .hflip: (true, false); case .vflip: (false, true); case .hvflip: (true, true) }
        }
        for batch in loader {
            for (h, v) in views {
                let input = (h || v) ? flipped(batch.images, horizontal: h, vertical: v) : batch.images
                let p = trainer.predictProbabilities(input)
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
