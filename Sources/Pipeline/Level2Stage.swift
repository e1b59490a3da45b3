import Datasets
import Ensemble
import Foundation
import Storage

/// Level 2: the manifest's blends and stackers over the base sets' OOF matrix,
/// nested in the first CV seed's folds, each stored as a computed result with
/// its OOF and test predictions and scores.
public enum Level2Stage {
    /// The base sets that feed level 2 (the manifest's `sets`, else all) and their stacking inputs.
    public static func inputs(_ catalog: ResultCatalog) throws -> (sets: [AssembledSet], inputs: StackingInputs)? {
        let chosen = chosenSets(catalog)
        guard !chosen.isEmpty, let seed = catalog.manifest.cv.seeds.first else { return nil }
        let inputs = try StackingInputs(
            sets: chosen.map { StackingInputs.BaseSet(name: $0.name, oof: $0.oof.scalars, test: $0.test.scalars) },
            labels: catalog.labels, folds: try catalog.directory.folds(seed: seed), classes: catalog.classes)
        return (chosen, inputs)
    }

    /// The base sets level 2 uses: the manifest's `sets`, else all.
    public static func chosenSets(_ catalog: ResultCatalog) -> [AssembledSet] {
        guard let names = catalog.manifest.ensemble?.sets else { return catalog.base }
        return catalog.base.filter { names.contains($0.name) }
    }

    /// Runs and stores every level-2 method of the manifest; returns the results.
    @discardableResult
    public static func run(_ catalog: ResultCatalog, testLabels: [Int]?) throws -> [EnsembleResult] {
        guard !catalog.methods.isEmpty, let (chosen, inputs) = try inputs(catalog) else { return [] }
        let results = try Level2.run(inputs, metric: catalog.metric, methods: catalog.methods)
        for result in results { try store(result, sets: chosen, inputs: inputs, catalog: catalog, testLabels: testLabels) }
        return results
    }

    private static func store(_ result: EnsembleResult, sets: [AssembledSet], inputs: StackingInputs,
                              catalog: ResultCatalog, testLabels: [Int]?) throws {
        let subject = Subject.level2(result.method)
        let metric = catalog.metric
        var scores: [ScoreSplit: Double] = [
            .oof: result.score,
            .oofFoldMean: Scoring.foldMean(result.oof, labels: inputs.labels, folds: inputs.folds, classes: inputs.classes, metric: metric),
        ]
        scores[.inSample] = result.inSampleScore
        scores[.test] = testLabels.map { metric.score(probabilities: result.test, classes: inputs.classes, labels: $0) }
        let weights = try result.weights.map { weights in
            [try ExperimentDatabase.outputRecord(BlendWeightsOutput(weights: Dictionary(uniqueKeysWithValues: zip(sets.map(\.name), weights))),
                                                 at: .weights(subject), experimentID: catalog.experimentID)]
        } ?? []
        let fittedOn = try ExperimentDatabase.outputRecord(Level2InputsOutput(sets: catalog.inputIdentities(sets)),
                                                           at: .level2Inputs(subject), experimentID: catalog.experimentID)
        let outputs = weights + [fittedOn]
        try catalog.database.storeResult(
            experimentID: catalog.experimentID, subject: subject.name,
            predictions: [PredictionSet(name: subject.name, kind: .oof, shape: [inputs.rows, inputs.classes], values: result.oof),
                          PredictionSet(name: subject.name, kind: .test, shape: [inputs.testRows, inputs.classes], values: result.test)],
            scores: scores.map { ScoreRecord(experimentID: catalog.experimentID, subject: subject.name, metric: ScoreKey($0.key, metric).text, value: $0.value) },
            outputs: outputs)
    }
}

/// The scores the pipeline records for a prediction set.
public enum Scoring {
    /// The mean over folds of the score of each fold's OOF rows (what a
    /// competitor comparing per-fold numbers sees; differs from the pooled
    /// score for rank metrics such as AUC when fold models are calibrated differently).
    public static func foldMean(_ oof: [Float], labels: [Int], folds: [Int], classes K: Int, metric: Metric) -> Double {
        let foldCount = (folds.max() ?? -1) + 1
        guard foldCount > 0 else { return .nan }
        var total = 0.0
        for fold in 0..<foldCount {
            let rows = folds.indices.filter { folds[$0] == fold }
            let probabilities = rows.flatMap { oof[($0 * K)..<(($0 + 1) * K)] }
            total += metric.score(probabilities: probabilities, classes: K, labels: rows.map { labels[$0] })
        }
        return total / Double(foldCount)
    }

    /// Scores every base set (pooled OOF, mean per fold over its seeds, held-out test when labelled) and records them.
    public static func recordBaseScores(_ catalog: ResultCatalog, testLabels: [Int]?) throws -> [(set: AssembledSet, oof: Double, test: Double?)] {
        let metric = catalog.metric, K = catalog.classes
        return try catalog.base.map { set in
            let oof = metric.score(probabilities: set.oof.scalars, classes: K, labels: catalog.labels)
            let foldMeans = try set.bySeed.map { seed in
                foldMean(seed.oof.scalars, labels: catalog.labels, folds: try catalog.directory.folds(seed: seed.seed), classes: K, metric: metric)
            }
            let test = testLabels.map { metric.score(probabilities: set.test.scalars, classes: K, labels: $0) }
            var scores: [ScoreSplit: Double] = [.oof: oof, .oofFoldMean: foldMeans.reduce(0, +) / Double(foldMeans.count)]
            scores[.test] = test
            for (split, value) in scores {
                try catalog.database.recordScore(ScoreRecord(experimentID: catalog.experimentID, subject: set.name,
                                                             metric: ScoreKey(split, metric).text, value: value))
            }
            return (set, oof, test)
        }
    }
}
