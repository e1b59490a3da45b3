import Engine
import Manifests

/// A named prediction set of one task beside `last`: `snapshot-k`, `snapshots`, `swa`, `best`.
public struct NamedPredictions: Sendable {
    public var name: String
    public var oof: Tensor   // [validation rows, K]
    public var test: Tensor  // [test rows, K]
    public init(name: String, oof: Tensor, test: Tensor) { (self.name, self.oof, self.test) = (name, oof, test) }
}

/// Collects a model's extra prediction sets while it trains: the snapshot at
/// the end of each cosine cycle, the SWA running mean of the weights from
/// its start epoch on, and the weights of the best epoch.
struct PredictionSetCollector {
    let snapshots: SnapshotSpec?
    let swa: SWASpec?
    let keepBest: Bool
    let cycleEpochs: Int
    private var taken: [NamedPredictions] = []
    private let average = WeightAverage()
    /// The best epoch so far: its validation score and loss, OOF predictions and weights.
    private(set) var best: (epoch: Int, score: Double, loss: Double, oof: Tensor, weights: [Tensor])?

    init(spec: ModelSpec) {
        (snapshots, swa, keepBest) = (spec.snapshots, spec.swa, spec.keepBest ?? false)
        cycleEpochs = spec.snapshots.map { spec.epochs / $0.cycles } ?? 0
    }

    /// After epoch `epoch` (1-based) whose OOF predictions are `oof`, scoring
    /// `score` (higher is better) with validation loss `loss`.
    mutating func endOfEpoch(_ epoch: Int, model: Model, oof: Tensor, score: Double, loss: Double,
                             predictTest: () -> Tensor) {
        if snapshots != nil, epoch % cycleEpochs == 0 {
            taken.append(NamedPredictions(name: "snapshot-\(epoch / cycleEpochs)", oof: oof, test: predictTest()))
        }
        if let swa, epoch >= swa.startEpoch { average.add(model.parameters) }
        // A higher score wins; an equal score wins with a lower loss. NaN never wins.
        if keepBest, best.map({ score > $0.score || (score == $0.score && loss < $0.loss) }) ?? !score.isNaN {
            best = (epoch, score, loss, oof, model.parameters.all.map(\.value))
        }
    }

    /// The collected sets, in order: each snapshot, their average over the
    /// last `keep`, then SWA, predicted by the averaged weights after their
    /// batch-norm statistics are recomputed over `statisticsBatches`, then
    /// `best`, whose test predictions come from the best epoch's weights and
    /// batch-norm statistics. The model's own weights are restored afterwards.
    func finish(model: Model, statisticsBatches: () -> [Tensor],
                predict: () -> (oof: Tensor, test: Tensor), predictTest: () -> Tensor) -> [NamedPredictions] {
        var sets = taken
        if let snapshots {
            let kept = taken.suffix(snapshots.keep)
            sets.append(NamedPredictions(name: "snapshots", oof: mean(kept.map(\.oof)), test: mean(kept.map(\.test))))
        }
        if swa != nil, average.count > 0 {
            let saved = model.parameters.all.map(\.value)
            average.apply(to: model.parameters)
            recomputeBatchNormStatistics(model, batches: statisticsBatches())
            let (oof, test) = predict()
            sets.append(NamedPredictions(name: "swa", oof: oof, test: test))
            restore(model, saved)
        }
        if keepBest, let best {
            let saved = model.parameters.all.map(\.value)
            restore(model, best.weights)
            sets.append(NamedPredictions(name: "best", oof: best.oof, test: predictTest()))
            restore(model, saved)
        }
        return sets
    }

    private func restore(_ model: Model, _ values: [Tensor]) {
        for (parameter, value) in zip(model.parameters.all, values) { parameter.value = value }
    }

    private func mean(_ tensors: [Tensor]) -> Tensor {
        var total = Tensor(zeros: tensors[0].shape)
        for tensor in tensors { for i in 0..<total.count { total[i] += tensor[i] / Float(tensors.count) } }
        return total
    }
}
