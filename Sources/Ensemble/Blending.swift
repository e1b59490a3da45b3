import Datasets

// Shape letters: N rows, K classes, S sets.

/// Blends of the base sets' probabilities. None of them learns from a row's
/// own label except through the choice of weights, which (like Kaggle's
/// practice) is made on the whole OOF matrix; the reported score is that OOF score.
public enum Blend {
    /// The plain mean of every set's probabilities.
    public static func mean(_ inputs: StackingInputs, metric: Metric) -> EnsembleResult {
        let uniform = [Double](repeating: 1 / Double(inputs.sets.count), count: inputs.sets.count)
        return weighted(inputs, weights: uniform, metric: metric, name: "mean")
    }

    /// The sets' probabilities averaged with `weights` (one per set).
    public static func weighted(_ inputs: StackingInputs, weights: [Double], metric: Metric, name: String) -> EnsembleResult {
        let oof = weightedSum(inputs.sets.map(\.oof), weights)
        return EnsembleResult(name: name, oof: oof, test: weightedSum(inputs.sets.map(\.test), weights), metric: metric,
                              score: metric.score(probabilities: oof, classes: inputs.classes, labels: inputs.labels),
                              weights: weights)
    }

    /// Rank average: within each class column, each set's values are replaced
    /// by their rank over the rows (ties share their average rank) divided by
    /// the row count, the sets' ranks are averaged, and each row is then
    /// divided by its sum. Ranks alone are not probabilities; renormalising
    /// rows lets every metric read them (the argmax and each column's order
    /// are what accuracy, F1 and AUC see; log-loss of a rank blend is only
    /// indicative). Test rows are ranked among the test rows.
    public static func rank(_ inputs: StackingInputs, metric: Metric) -> EnsembleResult {
        let K = inputs.classes
        let oof = rankAverage(inputs.sets.map(\.oof), rows: inputs.rows, classes: K)
        let test = rankAverage(inputs.sets.map(\.test), rows: inputs.testRows, classes: K)
        return EnsembleResult(name: "rank", oof: oof, test: test, metric: metric,
                              score: metric.score(probabilities: oof, classes: K, labels: inputs.labels))
    }

    /// Non-negative weights summing to one that optimise `metric` on the OOF
    /// matrix, by coordinate search on the simplex: start from uniform weights
    /// and repeatedly move a step of mass from one set to another whenever
    /// that strictly improves the score; when no move does, halve the step,
    /// down to `smallestStep`. The metric itself is optimised (accuracy and F1
    /// are step functions a gradient cannot follow), the search is fully
    /// deterministic, and it never scores worse than the uniform mean.
    public static func optimisedWeights(_ inputs: StackingInputs, metric: Metric,
                                        smallestStep: Double = 1.0 / 512) -> EnsembleResult {
        let S = inputs.sets.count
        let oofs = inputs.sets.map(\.oof)
        let score = { (weights: [Double]) in
            metric.score(probabilities: weightedSum(oofs, weights), classes: inputs.classes, labels: inputs.labels)
        }
        var weights = [Double](repeating: 1 / Double(S), count: S)
        var best = score(weights)
        var step = 1 / Double(S)
        while S > 1 && step >= smallestStep {
            var improved = false
            for to in 0..<S {
                for from in 0..<S where from != to && weights[from] > 0 {
                    var candidate = weights
                    let moved = min(step, weights[from])
                    candidate[from] -= moved
                    candidate[to] += moved
                    let candidateScore = score(candidate)
                    if metric.isBetter(candidateScore, than: best) {
                        (weights, best, improved) = (candidate, candidateScore, true)
                    }
                }
            }
            if !improved { step /= 2 }
        }
        return weighted(inputs, weights: weights, metric: metric, name: "weights")
    }

    /// Σ_s weight_s · matrix_s, elementwise.
    static func weightedSum(_ matrices: [[Float]], _ weights: [Double]) -> [Float] {
        precondition(matrices.count == weights.count, "Blend: \(weights.count) weights for \(matrices.count) sets")
        var total = [Double](repeating: 0, count: matrices.first?.count ?? 0)
        for (matrix, weight) in zip(matrices, weights) where weight != 0 {
            for i in total.indices { total[i] += weight * Double(matrix[i]) }
        }
        return total.map { Float($0) }
    }

    static func rankAverage(_ matrices: [[Float]], rows N: Int, classes K: Int) -> [Float] {
        var total = [Double](repeating: 0, count: N * K)
        for matrix in matrices {
            for k in 0..<K {
                let ranks = averageRanks((0..<N).map { matrix[$0 * K + k] })
                for row in 0..<N { total[row * K + k] += ranks[row] / Double(N) }
            }
        }
        var result = [Float](repeating: 0, count: N * K)
        for row in 0..<N {
            let sum = total[(row * K)..<((row + 1) * K)].reduce(0, +)
            for k in 0..<K { result[row * K + k] = Float(total[row * K + k] / sum) }
        }
        return result
    }

    /// 1-based ranks with tied values sharing the mean of their ranks (scipy's rankdata "average").
    static func averageRanks(_ values: [Float]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            for position in start...end { ranks[order[position]] = Double(start + end) / 2 + 1 }
            start = end + 1
        }
        return ranks
    }
}
