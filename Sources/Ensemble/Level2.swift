import Datasets

// Shape letters: N rows, T test rows, K classes, S sets.

/// The level-2 stage over the base sets' OOF matrix: each requested blend and
/// stacker with an honest OOF score. A method that learns from the labels
/// (`Level2Method.isFitted`) is scored nested in the base folds: each fold is
/// predicted by a fit on the other folds only, so no OOF value comes from a
/// fit that saw its row's label. `mean` and `rank` learn nothing, so their
/// plain OOF score is already honest.
public enum Level2 {
    /// One result per method, in the order asked, each named `method.subject`.
    public static func run(_ inputs: StackingInputs, metric: Metric, methods: [Level2Method],
                           seed: UInt64 = 0) throws -> [EnsembleResult] {
        try methods.map { method in
            guard method.isFitted else { return try plain(method, inputs, metric: metric, seed: seed) }
            var result = try NestedStacking.run(inputs, metric: metric, method: method) { rows in
                try fit(method, inputs, rows: rows, metric: metric, seed: seed)
            }
            // Blends are cheap to fit once more; a stacker's in-sample score would cost a sixth fit for display only.
            if method.kind == .blend { result.inSampleScore = try inSampleScore(method, inputs, metric: metric, seed: seed) }
            return result
        }
    }

    /// The score of `method` fitted on every train row, on those same rows:
    /// optimistic for a fitted method (what blends reported before they were
    /// scored nested), kept for display beside the nested score.
    public static func inSampleScore(_ method: Level2Method, _ inputs: StackingInputs, metric: Metric,
                                     seed: UInt64 = 0) throws -> Double {
        let fitted = try fit(method, inputs, rows: Array(0..<inputs.rows), metric: metric, seed: seed)
        return metric.score(probabilities: try fitted.predict(inputs.sets.map(\.oof)), classes: inputs.classes,
                            labels: inputs.labels)
    }

    /// `method` fitted on `rows` of `inputs` only (their labels and OOF features), to apply to other predictions of the same sets.
    public static func fit(_ method: Level2Method, _ inputs: StackingInputs, rows: [Int], metric: Metric,
                           seed: UInt64 = 0) throws -> FittedLevel2 {
        guard !rows.isEmpty else {
            throw StackingInputError("\(method.subject) was asked to fit on no rows; give it at least one train row")
        }
        if let bad = rows.first(where: { !(0..<inputs.rows).contains($0) }) {
            throw StackingInputError("\(method.subject) was asked to fit on row \(bad), outside the \(inputs.rows) train rows 0..<\(inputs.rows)")
        }
        let (K, S) = (inputs.classes, inputs.sets.count)
        let oofs = { inputs.sets.map { NestedStacking.gather($0.oof, rows: rows, width: K) } }
        let labels = rows.map { inputs.labels[$0] }
        let weighted = { (weights: [Double]) in
            FittedLevel2(method: method, classes: K, setCount: S, weights: weights, model: .weighted(weights))
        }
        switch method {
        case .mean: return weighted([Double](repeating: 1 / Double(S), count: S))
        case .rank: return FittedLevel2(method: method, classes: K, setCount: S, weights: nil, model: .rank)
        case .weights: return weighted(Blend.optimisedWeights(oofs(), labels: labels, classes: K, metric: metric))
        case .hillclimb: return weighted(HillClimbing.selectionWeights(oofs(), labels: labels, classes: K, metric: metric))
        case .logistic, .mlp, .xgboost:
            var stacker = makeStacker(method, seed: seed)
            let D = inputs.featureCount
            try stacker.fit(features: inputs.oofFeatures(rows: rows), featureCount: D, labels: labels, classes: K)
            return FittedLevel2(method: method, classes: K, setCount: S, weights: nil, model: .stacker(stacker))
        }
    }

    /// A fresh, unfitted learner for a stacker method.
    static func makeStacker(_ method: Level2Method, seed: UInt64) -> any Stacker {
        switch method {
        case .logistic: LogisticRegression()
        case .mlp: MLPStacker(seed: seed)
        case .xgboost: XGBoostStacker(seed: Int(seed % UInt64(Int32.max)))
        case .mean, .rank, .weights, .hillclimb: preconditionFailure("Level2.makeStacker: \(method.subject) is a blend, not a stacker")
        }
    }

    /// A method that learns nothing from labels, applied to every OOF row and
    /// every test row; its OOF score is plain.
    static func plain(_ method: Level2Method, _ inputs: StackingInputs, metric: Metric, seed: UInt64) throws -> EnsembleResult {
        let fitted = try fit(method, inputs, rows: Array(0..<inputs.rows), metric: metric, seed: seed)
        let oof = try fitted.predict(inputs.sets.map(\.oof))
        let test = inputs.testRows > 0 ? try fitted.predict(inputs.sets.map(\.test)) : []
        return EnsembleResult(method: method, oof: oof, test: test, metric: metric,
                              score: metric.score(probabilities: oof, classes: inputs.classes, labels: inputs.labels),
                              weights: fitted.weights)
    }
}
