import Datasets

// Shape letters: N rows, D features (sets × classes), K classes, S sets.

/// A level-2 learner on the base sets' probabilities. `features` is [N, D]
/// row-major; predictions are [N, K] class probabilities.
public protocol Stacker {
    mutating func fit(features: [Float], featureCount: Int, labels: [Int], classes: Int) throws
    func predictProbabilities(features: [Float]) -> [Float]
}

/// What a blend or a stacker produced: its OOF and test probabilities and its
/// OOF score, on the same rows and folds as its inputs.
public struct EnsembleResult: Sendable {
    public var method: Level2Method
    /// `method.subject`: `blend/<method>` or `stack/<learner>`.
    public var name: String { method.subject }
    /// [rows, classes], row-major.
    public var oof: [Float]
    /// [test rows, classes], row-major.
    public var test: [Float]
    public var metric: Metric
    /// The OOF score: nested for a fitted method (each fold predicted by a fit
    /// on the other folds), plain for `mean` and `rank`. The score to rank by.
    public var score: Double
    /// Display only, never for ranking: a fitted blend's score when fitted on
    /// every train row and scored on those same rows (optimistic, as it has
    /// seen their labels). Nil for `mean`, `rank` and the stackers.
    public var inSampleScore: Double?
    /// One weight per input set for weighted blends (summing to 1; for a fitted
    /// blend the mean of its fold fits' weights); nil for `rank` and stackers.
    public var weights: [Double]?

    public init(method: Level2Method, oof: [Float], test: [Float], metric: Metric, score: Double,
                inSampleScore: Double? = nil, weights: [Double]? = nil) {
        (self.method, self.oof, self.test, self.metric, self.score) = (method, oof, test, metric, score)
        (self.inSampleScore, self.weights) = (inSampleScore, weights)
    }
}

extension StackingInputs {
    /// Every set's OOF probabilities side by side: row i is set 0's K values, then set 1's, …
    public var oofFeatures: [Float] { Self.concatenate(sets.map(\.oof), rows: rows, classes: classes) }
    /// The same for the test predictions.
    public var testFeatures: [Float] { Self.concatenate(sets.map(\.test), rows: testRows, classes: classes) }
    public var featureCount: Int { sets.count * classes }

    /// `oofFeatures` of `rows` only, in that order, read in one pass.
    func oofFeatures(rows: [Int]) -> [Float] {
        let (S, K) = (sets.count, classes)
        var result = [Float](repeating: 0, count: rows.count * S * K)
        for (s, set) in sets.enumerated() {
            let oof = set.oof
            for (position, row) in rows.enumerated() {
                for k in 0..<K { result[(position * S + s) * K + k] = oof[row * K + k] }
            }
        }
        return result
    }

    /// Each set's OOF score under `metric`, in the sets' order.
    public func baseScores(_ metric: Metric) -> [Double] {
        sets.map { metric.score(probabilities: $0.oof, classes: classes, labels: labels) }
    }

    static func concatenate(_ matrices: [[Float]], rows N: Int, classes K: Int) -> [Float] {
        let S = matrices.count
        var result = [Float](repeating: 0, count: N * K * S)
        for (s, matrix) in matrices.enumerated() {
            for row in 0..<N {
                for k in 0..<K { result[(row * S + s) * K + k] = matrix[row * K + k] }
            }
        }
        return result
    }
}

/// The nested CV score of a fitted level-2 method: for each fold f, a fresh
/// fit on the other folds' rows predicts fold f's rows (so no OOF value comes
/// from a fit that saw its row's label) and the test rows. The test
/// prediction is the mean of the fold fits' test predictions, and a blend's
/// weights the mean of their weights (the weights of that mean prediction).
enum NestedStacking {
    static func run(_ inputs: StackingInputs, metric: Metric, method: Level2Method,
                    fit: (_ rows: [Int]) throws -> FittedLevel2) throws -> EnsembleResult {
        let K = inputs.classes
        let testSets = inputs.sets.map(\.test)
        var oof = [Float](repeating: 0, count: inputs.rows * K)
        var test = [Double](repeating: 0, count: inputs.testRows * K)
        var weightSums: [Double]?
        for fold in 0..<inputs.foldCount {
            let trainRows = inputs.folds.indices.filter { inputs.folds[$0] != fold }
            let validationRows = inputs.folds.indices.filter { inputs.folds[$0] == fold }
            let fitted = try fit(trainRows)
            let predicted = try fitted.predict(inputs.sets.map { gather($0.oof, rows: validationRows, width: K) })
            for (position, row) in validationRows.enumerated() {
                for k in 0..<K { oof[row * K + k] = predicted[position * K + k] }
            }
            if inputs.testRows > 0 {
                for (i, value) in try fitted.predict(testSets).enumerated() { test[i] += Double(value) }
            }
            if let weights = fitted.weights {
                weightSums = zip(weightSums ?? [Double](repeating: 0, count: weights.count), weights).map(+)
            }
        }
        let folds = Double(inputs.foldCount)
        return EnsembleResult(method: method, oof: oof, test: test.map { Float($0 / folds) }, metric: metric,
                              score: metric.score(probabilities: oof, classes: K, labels: inputs.labels),
                              weights: weightSums?.map { $0 / folds })
    }

    /// The rows `rows` of a row-major matrix `width` wide.
    static func gather(_ matrix: [Float], rows: [Int], width: Int) -> [Float] {
        var result = [Float](repeating: 0, count: rows.count * width)
        for (position, row) in rows.enumerated() {
            for j in 0..<width { result[position * width + j] = matrix[row * width + j] }
        }
        return result
    }
}

extension Metric {
    /// The indices of `scores`, best first under this metric; NaN scores
    /// last; equal scores (NaN among them) keep their order.
    func bestFirst(_ scores: [Double]) -> [Int] {
        scores.indices.sorted { a, b in ranks(scores[a], before: scores[b]) ?? (a < b) }
    }
}
