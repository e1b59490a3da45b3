import Engine
import Manifests

/// A named prediction set of one task beside `last`: `snapshot-k`, `snapshots`, `swa`.
public struct NamedPredictions: Sendable {
    public var name: String
    public var oof: Tensor   // [validation rows, K]
    public var test: Tensor  // [test rows, K]
    public init(name: String, oof: Tensor, test: Tensor) { (self.name, self.oof, self.test) = (name, oof, test) }
}

/// Collects a model's extra prediction sets while it trains: the snapshot at
/// the end of each cosine cycle, and the SWA running mean of the weights from
/// its start epoch on.
struct PredictionSetCollector {
    let snapshots: SnapshotSpec?
    let swa: SWASpec?
    let cycleEpochs: Int
    private var taken: [NamedPredictions] = []
    private let average = WeightAverage()

    init(spec: ModelSpec) {
        (snapshots, swa) = (spec.snapshots, spec.swa)
        cycleEpochs = spec.snapshots.map { spec.epochs / $0.cycles } ?? 0
    }

    /// After epoch `epoch` (1-based) whose OOF predictions are `oof`.
    mutating func endOfEpoch(_ epoch: Int, model: Model, oof: Tensor, predictTest: () -> Tensor) {
        if snapshots != nil, epoch % cycleEpochs == 0 {
            taken.append(NamedPredictions(name: "snapshot-\(epoch / cycleEpochs)", oof: oof, test: predictTest()))
        }
        if let swa, epoch >= swa.startEpoch { average.add(model.parameters) }
    }

    /// The collected sets, in order: each snapshot, their average over the
    /// last `keep`, then SWA, predicted by the averaged weights after their
    /// batch-norm statistics are recomputed over `statisticsBatches`. The
    /// model's own weights are restored afterwards.
    func finish(model: Model, statisticsBatches: () -> [Tensor],
                predict: () -> (oof: Tensor, test: Tensor)) -> [NamedPredictions] {
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
            for (parameter, value) in zip(model.parameters.all, saved) { parameter.value = value }
        }
        return sets
    }

    private func mean(_ tensors: [Tensor]) -> Tensor {
        var total = Tensor(zeros: tensors[0].shape)
        for tensor in tensors { for i in 0..<total.count { total[i] += tensor[i] / Float(tensors.count) } }
        return total
    }
}
