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
    public var name: String
    /// [rows, classes], row-major.
    public var oof: [Float]
    /// [test rows, classes], row-major.
    public var test: [Float]
    public var metric: Metric
    public var score: Double
    /// One weight per input set for weighted blends (summing to 1); nil for stackers.
    public var weights: [Double]?

    public init(name: String, oof: [Float], test: [Float], metric: Metric, score: Double, weights: [Double]? = nil) {
        (self.name, self.oof, self.test, self.metric, self.score, self.weights) = (name, oof, test, metric, score, weights)
    }
}

extension StackingInputs {
    /// Every set's OOF probabilities side by side: row i is set 0's K values, then set 1's, …
    public var oofFeatures: [Float] { Self.concatenate(sets.map(\.oof), rows: rows, classes: classes) }
    /// The same for the test predictions.
    public var testFeatures: [Float] { Self.concatenate(sets.map(\.test), rows: testRows, classes: classes) }
    public var featureCount: Int { sets.count * classes }

    /// Each set's OOF score under `metric`, in the sets' order.
    public func baseScores(_ metric: Metric) -> [Double] {
        sets.map { metric.score(probabilities: $0.oof, classes: classes, labels: labels) }
    }

    static func concatenate(_ matrices: [[Float]], rows N: Int, classes K: Int) -> [Float] {
        var result = [Float]()
        result.reserveCapacity(N * K * matrices.count)
        for row in 0..<N {
            for matrix in matrices { result.append(contentsOf: matrix[(row * K)..<((row + 1) * K)]) }
        }
        return result
    }
}

/// Level-2 stacking with a nested CV score: for each fold f, a fresh stacker
/// fits on the other folds' rows and predicts fold f's rows (so every OOF
/// value comes from a stacker that never saw that row's label) and the test
/// rows; the test prediction is the mean of the fold stackers' predictions.
public enum NestedStacking {
    public static func run(_ inputs: StackingInputs, metric: Metric, name: String,
                           makeStacker: () -> any Stacker) throws -> EnsembleResult {
        let (K, D) = (inputs.classes, inputs.featureCount)
        let features = inputs.oofFeatures
        let testFeatures = inputs.testFeatures
        var oof = [Float](repeating: 0, count: inputs.rows * K)
        var test = [Double](repeating: 0, count: inputs.testRows * K)
        for fold in 0..<inputs.foldCount {
            let trainRows = inputs.folds.indices.filter { inputs.folds[$0] != fold }
            let validationRows = inputs.folds.indices.filter { inputs.folds[$0] == fold }
            var stacker = makeStacker()
            try stacker.fit(features: gather(features, rows: trainRows, width: D), featureCount: D,
                            labels: trainRows.map { inputs.labels[$0] }, classes: K)
            let predicted = stacker.predictProbabilities(features: gather(features, rows: validationRows, width: D))
            for (position, row) in validationRows.enumerated() {
                for k in 0..<K { oof[row * K + k] = predicted[position * K + k] }
            }
            if inputs.testRows > 0 {
                let testPredicted = stacker.predictProbabilities(features: testFeatures)
                for i in test.indices { test[i] += Double(testPredicted[i]) }
            }
        }
        let folds = Double(inputs.foldCount)
        return EnsembleResult(name: name, oof: oof, test: test.map { Float($0 / folds) }, metric: metric,
                              score: metric.score(probabilities: oof, classes: K, labels: inputs.labels))
    }

    /// The rows `rows` of a row-major matrix `width` wide.
    static func gather(_ matrix: [Float], rows: [Int], width: Int) -> [Float] {
        var result = [Float]()
        result.reserveCapacity(rows.count * width)
        for row in rows { result.append(contentsOf: matrix[(row * width)..<((row + 1) * width)]) }
        return result
    }
}

extension Metric {
    /// Whether score `a` beats score `b` under this metric; NaN never beats anything.
    func isBetter(_ a: Double, than b: Double) -> Bool {
        if a.isNaN { return false }
        if b.isNaN { return true }
        return higherIsBetter ? a > b : a < b
    }
}
