import Engine
import Foundation
import Storage
import Training

/// One prediction set of one stage's model (e.g. `resnet+pl1/swa`) assembled
/// from the experiment database: per complete CV seed the OOF matrix
/// [train rows, K], the fold-averaged test predictions and each fold model's
/// own test predictions, and their mean over those seeds.
public struct AssembledSet: Sendable {
    public struct Seed: Sendable {
        public var seed: Int
        public var oof: Tensor
        public var test: Tensor
        /// [fold] → that fold model's test predictions [test rows, K].
        public var foldTests: [Tensor]
    }

    public var stage: Stage
    public var model: String
    public var set: String
    public var subject: Subject { .set(stage: stage, model: model, set: set) }
    public var name: String { subject.name }
    public var bySeed: [Seed]
    public var oof: Tensor
    public var test: Tensor
    public var seeds: [Int] { bySeed.map(\.seed) }

    /// The test predictions of the model that held out fold `fold` of seed `seed`.
    public func foldTest(seed: Int, fold: Int) -> Tensor? {
        bySeed.first { $0.seed == seed }.flatMap { fold < $0.foldTests.count ? $0.foldTests[fold] : nil }
    }
}

public enum ResultAssembly {
    /// Every (stage, model, set) of `stages` with at least one seed whose folds
    /// are all done, in stage then name order. Incomplete seeds are left out;
    /// tasks of stages not listed (other settings, older runs) are never read.
    public static func assemble(database: ExperimentDatabase, experimentID: Int64, stages: [KeyedStage], folds: Int,
                                trainRows: Int) throws -> [AssembledSet] {
        let done = try database.tasks(experimentID: experimentID, state: .done)
        var sets: [AssembledSet] = []
        for stage in stages {
            let tasks = done.filter { stage.owns(storageName: $0.stage, round: $0.round) }
            for model in Set(tasks.map(\.model)).sorted() {
                sets += try assemble(model: model, stage: stage.stage, tasks: tasks.filter { $0.model == model },
                                     database: database, folds: folds, trainRows: trainRows)
            }
        }
        return sets
    }

    private static func assemble(model: String, stage: Stage, tasks: [TaskRecord], database: ExperimentDatabase,
                                 folds: Int, trainRows: Int) throws -> [AssembledSet] {
        var bySet: [String: [AssembledSet.Seed]] = [:]
        let bySeed = Dictionary(grouping: tasks, by: \.seed)
        for (seed, seedTasks) in bySeed.sorted(by: { $0.key < $1.key }) {
            let byFold = Dictionary(seedTasks.map { ($0.fold, $0) }, uniquingKeysWith: { first, _ in first })
            guard (0..<folds).allSatisfy({ byFold[$0] != nil }) else { continue }
            var foldsBySet: [String: [FoldPredictions]] = [:]
            for fold in 0..<folds {
                let task = byFold[fold]!
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
                    bySet[set, default: []].append(AssembledSet.Seed(seed: seed, oof: seedResult.oof, test: seedResult.test,
                                                                     foldTests: foldPredictions.map(\.test)))
                } catch {
                    throw AssemblyError(description: "\(stage.label(model: model))/\(set) seed \(seed): \(error)")
                }
            }
        }
        return bySet.sorted(by: { $0.key < $1.key }).map { set, seeds in
            let mean = OOFAssembly.average(seeds.map { ($0.oof, $0.test) })
            return AssembledSet(stage: stage, model: model, set: set, bySeed: seeds, oof: mean.oof, test: mean.test)
        }
    }
}
