import Datasets

// Shape letters: N rows, K classes, S sets.

/// Blends of the base sets' probabilities: the pieces `Level2` combines.
/// `mean` and `rank` learn nothing from labels. `optimisedWeights` (and
/// `HillClimbing`) choose weights on the labels of the rows they are given,
/// so their score on those rows is optimistic: Level2 scores them nested.
public enum Blend {
    /// Non-negative weights summing to one that optimise `metric` on the
    /// given OOF matrices (one per set, [N, K] each) and labels, by
    /// coordinate search on the simplex: start from uniform weights and
    /// repeatedly move a step of mass from one set to another whenever that
    /// strictly improves the score; when no move does, halve the step, down
    /// to `smallestStep`. The metric itself is optimised (accuracy and F1 are
    /// step functions a gradient cannot follow), the search is fully
    /// deterministic, and it never scores worse than the uniform mean on these rows.
    public static func optimisedWeights(_ oofs: [[Float]], labels: [Int], classes K: Int, metric: Metric,
                                        smallestStep: Double = 1.0 / 512) -> [Double] {
        let S = oofs.count
        let wide = oofs.map { $0.map(Double.init) }
        var weights = [Double](repeating: 1 / Double(S), count: S)
        var blend = weightedSum(wide, weights)
        var best = metric.score(probabilities: blend.map { Float($0) }, classes: K, labels: labels)
        var step = 1 / Double(S)
        while S > 1 && step >= smallestStep {
            var improved = false
            for to in 0..<S {
                for from in 0..<S where from != to && weights[from] > 0 {
                    // Moving mass m from `from` to `to` changes the blend by m·(to − from): one pass, not S.
                    let moved = min(step, weights[from])
                    let (into, out) = (wide[to], wide[from])
                    let candidate = blend.indices.map { Float(blend[$0] + moved * (into[$0] - out[$0])) }
                    let candidateScore = metric.score(probabilities: candidate, classes: K, labels: labels)
                    if metric.isBetter(candidateScore, than: best) {
                        for i in blend.indices { blend[i] += moved * (into[i] - out[i]) }
                        (best, improved) = (candidateScore, true)
                        weights[from] -= moved
                        weights[to] += moved
                    }
                }
            }
            if !improved { step /= 2 }
        }
        return weights
    }

    /// Σ_s weight_s · matrix_s, elementwise.
    static func weightedSum(_ matrices: [[Float]], _ weights: [Double]) -> [Float] {
        weightedSum(matrices.map { $0.map(Double.init) }, weights).map { Float($0) }
    }

    static func weightedSum(_ matrices: [[Double]], _ weights: [Double]) -> [Double] {
        precondition(matrices.count == weights.count, "Blend: \(weights.count) weights for \(matrices.count) sets")
        var total = [Double](repeating: 0, count: matrices.first?.count ?? 0)
        for (matrix, weight) in zip(matrices, weights) where weight != 0 {
            for i in total.indices { total[i] += weight * matrix[i] }
        }
        return total
    }

    /// Rank average: within each class column, each set's values are replaced
    /// by their rank over the rows (ties share their average rank) divided by
    /// the row count, the sets' ranks are averaged, and each row is then
    /// divided by its sum. Ranks alone are not probabilities; renormalising
    /// rows lets every metric read them (the argmax and each column's order
    /// are what accuracy, F1 and AUC see; log-loss of a rank blend is only
    /// indicative). Rows are ranked among the rows given (test rows among the test rows).
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
