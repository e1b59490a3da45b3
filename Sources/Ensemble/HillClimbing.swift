import Datasets

// Shape letters: N rows, K classes, S sets.

/// Ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew and
/// Ksikes, ICML 2004): start from the `initial` best sets by score, then
/// `iterations` times add the set (possibly one already in) whose addition
/// gives the best score, and keep the ensemble of the best size reached.
/// Each set's weight is how often it was picked over the ensemble's size.
/// The choices are made on the labels of the rows given, so the score on
/// those rows is optimistic: Level2 scores this blend nested.
public enum HillClimbing {
    /// The counts of the best ensemble reached on `oofs` (one [N, K] matrix
    /// per set) and `labels`, divided by its size.
    public static func selectionWeights(_ oofs: [[Float]], labels: [Int], classes K: Int, metric: Metric,
                                        initial: Int = 3, iterations: Int = 50) -> [Double] {
        precondition(initial >= 1 && iterations >= 0, "HillClimbing: initial \(initial) must be >= 1, iterations \(iterations) >= 0")
        let S = oofs.count
        let wide = oofs.map { $0.map(Double.init) }
        let score = { (sum: [Double], size: Int) in
            metric.score(probabilities: sum.map { Float($0 / Double(size)) }, classes: K, labels: labels)
        }
        // Best first (NaN last); ties keep the sets' order so the selection is deterministic.
        let ranked = metric.bestFirst(oofs.map { metric.score(probabilities: $0, classes: K, labels: labels) })
        var counts = [Int](repeating: 0, count: S)
        var sum = [Double](repeating: 0, count: wide[0].count)
        for set in ranked.prefix(initial) { add(wide[set], to: &sum); counts[set] += 1 }
        var size = counts.reduce(0, +)
        var (bestCounts, bestScore) = (counts, score(sum, size))
        for _ in 0..<iterations {
            var pick: (set: Int, score: Double)?
            for set in 0..<S {
                var candidate = sum
                add(wide[set], to: &candidate)
                let candidateScore = score(candidate, size + 1)
                if pick == nil || metric.isBetter(candidateScore, than: pick!.score) { pick = (set, candidateScore) }
            }
            guard let pick else { break }
            add(wide[pick.set], to: &sum)
            counts[pick.set] += 1
            size += 1
            if metric.isBetter(pick.score, than: bestScore) { (bestCounts, bestScore) = (counts, pick.score) }
        }
        let total = Double(bestCounts.reduce(0, +))
        return bestCounts.map { Double($0) / total }
    }

    private static func add(_ values: [Double], to sum: inout [Double]) {
        for i in sum.indices { sum[i] += values[i] }
    }
}
