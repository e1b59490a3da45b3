import Datasets
import Ensemble
import Foundation

/// A (seed, fold) block: the validation rows of fold `fold` under CV seed `seed`.
public struct Block: Hashable, Sendable, Codable {
    public var seed: Int
    public var fold: Int
    public init(seed: Int, fold: Int) { (self.seed, self.fold) = (seed, fold) }
}

extension ResultCatalog {
    /// The test predictions [test rows, K] of `subject` for one block, made only
    /// by models that never trained on that block's validation labels: a base
    /// set's model that held the block out; for a level-2 result, its learner
    /// fitted on the rows outside the block, applied to those models' test
    /// predictions. A later stage's task for the block learns only from these,
    /// so its OOF rows stay out-of-fold whatever the test set holds.
    public func blockTest(_ subject: Subject, block: Block) throws -> [Float] {
        guard subject.givesProbabilities else {
            throw PipelineError(message: "\(subject.name) gives normalised ranks, not probabilities; it cannot teach or label rows",
                                fix: "name a base set, a probability blend or a stacker (e.g. `blend/mean`, `stack/logistic`)")
        }
        switch subject {
        case .set:
            guard let test = base.first(where: { $0.subject == subject })?.foldTest(seed: block.seed, fold: block.fold) else {
                throw missing(subject, block)
            }
            return test.scalars
        case .level2(let method):
            guard let (sets, inputs) = try Level2Stage.inputs(self) else { throw missing(subject, block) }
            let folds = try directory.folds(seed: block.seed)
            let outside = folds.indices.filter { folds[$0] != block.fold }
            let fitted = try Level2.fit(method, inputs, rows: outside, metric: metric)
            let tests = try sets.map { set in
                guard let test = set.foldTest(seed: block.seed, fold: block.fold) else { throw missing(.set(stage: set.stage, model: set.model, set: set.set), block) }
                return test.scalars
            }
            return try fitted.predict(tests)
        }
    }

    private func missing(_ subject: Subject, _ block: Block) -> PipelineError {
        PipelineError(message: "\(subject.name) has no model for seed \(block.seed) fold \(block.fold)",
                      fix: "let every fold of every seed of its models finish (`foldwise status` shows which failed), then run again")
    }
}
