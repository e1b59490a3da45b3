import Datasets
import Manifests
import Training

/// What the coordinator knows that a worker's result must agree with: its
/// train labels, the fold of every train row per CV seed, the test rows, the
/// classes and the metric. A result passes only if its OOF rows are exactly
/// its task's validation rows, its arrays fit the data and keep the task
/// type's `PredictionRule`, and the score it claims is the one its OOF rows
/// earn against these labels; that recomputed score is the one stored.
public struct ResultReference: Sendable {
    public var shape: DataShape
    public var labels: [Int]
    /// Seed → the fold of every train row (`ExperimentData.folds`).
    public var foldsBySeed: [Int: [Int]]
    public var metric: Metric
    public var rule: PredictionRule
    /// How far a claimed score may stray from the recomputed one (relative, at least absolute).
    public var scoreTolerance = 1e-6

    public init(shape: DataShape, labels: [Int], foldsBySeed: [Int: [Int]], metric: Metric,
                rule: PredictionRule = .multiclass) {
        (self.shape, self.labels, self.foldsBySeed, self.metric, self.rule) = (shape, labels, foldsBySeed, metric, rule)
    }

    /// The reference of a manifest's data (every task type is multiclass today).
    public init(manifest: Manifest, data: ExperimentData) {
        let folds = Dictionary(uniqueKeysWithValues: manifest.cv.seeds.map { ($0, data.folds(manifest.cv, seed: $0)) })
        self.init(shape: DataShape(data), labels: data.train.labels, foldsBySeed: folds, metric: Metric(manifest.metric))
    }

    /// The validation rows of fold `fold` under CV seed `seed`, ascending (the
    /// order `TrainingSet` predicts them in); nil for a seed the CV does not have.
    public func validationRows(seed: Int, fold: Int) -> [Int]? {
        foldsBySeed[seed].map { folds in folds.indices.filter { folds[$0] == fold } }
    }

    /// Checks `result` against `task` and this data; returns the score its
    /// OOF rows earn (the set `last`, as a worker scores it).
    public func check(_ result: TaskResult, task: ClusterTask) throws(ProtocolError) -> Double {
        let refuse = { (reason: String) in ProtocolError.invalidResult(taskID: result.taskID, attempt: result.attempt, reason: reason) }
        try result.check(against: shape)
        let predictions = result.predictions
        try checkRows(predictions.validationRows, task: task.fold, refuse)
        if let violation = predictions.violation(of: rule) { throw refuse(violation) }
        guard let scored = predictions.sets.first(where: { $0.name == TaskPredictions.lastSet }) else {
            throw refuse("it has no set \(TaskPredictions.lastSet), the one a task is scored on")
        }
        let score = metric.score(probabilities: scored.oof, classes: predictions.classes,
                                 labels: predictions.validationRows.map { labels[$0] })
        guard agrees(claimed: result.score, recomputed: score) else {
            throw refuse("it claims \(metric.rawValue) \(result.score), but its OOF rows score \(score) against the coordinator's labels; the worker lies or loaded other labels")
        }
        return score
    }

    private func checkRows(_ rows: [Int], task: FoldTask, _ refuse: (String) -> ProtocolError) throws(ProtocolError) {
        guard let expected = validationRows(seed: task.seed, fold: task.fold) else {
            throw refuse("its task names CV seed \(task.seed), which the coordinator's manifest does not have")
        }
        guard rows != expected else { return }
        if rows.count != expected.count {
            throw refuse("it has \(rows.count) validation rows, fold \(task.fold) of seed \(task.seed) has \(expected.count); the worker split the data otherwise")
        }
        let index = rows.indices.first { rows[$0] != expected[$0] } ?? 0
        throw refuse("validation row \(index) is train row \(rows[index]), fold \(task.fold) of seed \(task.seed) has train row \(expected[index]) there; the worker split the data otherwise")
    }

    private func agrees(claimed: Double, recomputed: Double) -> Bool {
        if claimed.isNaN || recomputed.isNaN { return claimed.isNaN && recomputed.isNaN }
        return abs(claimed - recomputed) <= scoreTolerance * max(1, abs(recomputed))
    }
}
