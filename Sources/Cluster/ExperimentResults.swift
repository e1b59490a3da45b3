import Engine
import Foundation
import Storage
import Training

/// One prediction set of one model (e.g. `resnet/last`) assembled from the
/// experiment database: per complete CV seed the OOF matrix [train rows, K]
/// and the fold-averaged test predictions, and their mean over those seeds.
public struct AssembledSet: Sendable {
    public var model: String
    public var set: String
    public var name: String { "\(model)/\(set)" }
    public var bySeed: [(seed: Int, oof: Tensor, test: Tensor)]
    public var oof: Tensor
    public var test: Tensor
    public var seeds: [Int] { bySeed.map(\.seed) }
}

public enum ExperimentResults {
    /// The name a stage's model goes by in set names: `resnet` for the base
    /// stage, `resnet+pl2` for pseudo-label round 2, `resnet+kd` for a distilled student.
    public static func label(stage: String, round: Int, model: String) -> String {
        if stage.hasPrefix(StagePlan.pseudoStage) { return "\(model)+pl\(round)" }
        if stage.hasPrefix(StagePlan.distillStage) { return "\(model)+kd" }
        return model
    }

    /// Every (model, set) of the training stages (base, pseudo-label rounds,
    /// distillation) with at least one seed whose folds are all done, in name
    /// order. Incomplete seeds are left out.
    public static func assemble(database: ExperimentDatabase, experimentID: Int64, folds: Int,
                                trainRows: Int) throws -> [AssembledSet] {
        let done = try database.tasks(experimentID: experimentID, state: .done)
            .filter { $0.stage == CoordinatorShell.baseStage || $0.stage.hasPrefix(StagePlan.pseudoStage)
                || $0.stage.hasPrefix(StagePlan.distillStage) }
        var byModelSeed: [String: [Int: [Int: TaskRecord]]] = [:]
        for task in done {
            byModelSeed[label(stage: task.stage, round: task.round, model: task.model), default: [:]][task.seed, default: [:]][task.fold] = task
        }
        var sets: [AssembledSet] = []
        for model in byModelSeed.keys.sorted() {
            var bySet: [String: [(seed: Int, oof: Tensor, test: Tensor)]] = [:]
            for (seed, tasksByFold) in byModelSeed[model]!.sorted(by: { $0.key < $1.key }) where tasksByFold.count == folds {
                var foldsBySet: [String: [FoldPredictions]] = [:]
                for fold in 0..<folds {
                    guard let task = tasksByFold[fold] else { continue }
                    let rows = try database.validationRows(taskID: task.id) ?? []
                    let predictions = try database.predictions(taskID: task.id)
                    for oof in predictions where oof.kind == .oof {
                        guard let test = predictions.first(where: { $0.kind == .test && $0.name == oof.name }) else { continue }
                        foldsBySet[oof.name, default: []].append(
                            FoldPredictions(rows: rows, oof: oof.values, test: Tensor(shape: test.shape, scalars: test.values)))
                    }
                }
                for (set, foldPredictions) in foldsBySet where foldPredictions.count == folds {
                    let classes = foldPredictions[0].test.shape.last ?? 0
                    do {
                        let seedResult = try OOFAssembly.seed(foldPredictions, trainRows: trainRows, classes: classes)
                        bySet[set, default: []].append((seed, seedResult.oof, seedResult.test))
                    } catch {
                        throw AssemblyError(description: "\(model)/\(set) seed \(seed): \(error)")
                    }
                }
            }
            for (set, seeds) in bySet.sorted(by: { $0.key < $1.key }) {
                let mean = OOFAssembly.average(seeds.map { ($0.oof, $0.test) })
                sets.append(AssembledSet(model: model, set: set, bySeed: seeds, oof: mean.oof, test: mean.test))
            }
        }
        return sets
    }
}
