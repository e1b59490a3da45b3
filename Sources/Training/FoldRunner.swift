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
    /// The loss and score on the selection rows (`TrainingSet.selectionRows`),
    /// which choose the best epoch and step a plateau schedule; nil without them.
    public var selectionLoss: Double?
    public var selectionScore: Double?
    public init(epoch: Int, trainLoss: Double, validationLoss: Double, validationScore: Double,
                learningRate: Double, seconds: Double, selectionLoss: Double? = nil, selectionScore: Double? = nil) {
        (self.epoch, self.trainLoss, self.validationLoss) = (epoch, trainLoss, validationLoss)
        (self.validationScore, self.learningRate, self.seconds) = (validationScore, learningRate, seconds)
        (self.selectionLoss, self.selectionScore) = (selectionLoss, selectionScore)
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
        let session = FoldSession(runner: self, task: task, inputs: inputs)
        for epoch in 0..<session.spec.epochs {
            guard let trained = session.trainEpoch(epoch, progress: progress, isCancelled: isCancelled) else { return nil }
            let record = session.validate(epoch, trained)
            progress(.epoch(record))
            session.collectPredictionSets(after: record)
        }
        return session.finish()
    }

    /// Builds every model once and checks what only a built model can tell: its
    /// fine-tuning settings against its stages and its checkpoint. Commands call
    /// this before training, so a bad setting exits with a message, not mid-run.
    public func checkModels() throws {
        try ModelFit.check(manifest)
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
