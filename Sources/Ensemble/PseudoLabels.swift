import Foundation

/// Chooses the test rows a pseudo-label round trains on.
public enum PseudoLabels {
    /// The test rows whose top probability is at least `threshold`, clamped to
    /// between ⌈minFraction·T⌉ and ⌊maxFraction·T⌋ of the T test rows by taking
    /// the most confident (ties: the lower row first). Each row's label is its
    /// most probable class (ties: the lower class). Rows come out ascending.
    public static func select(testProbabilities: [Float], classes: Int, threshold: Float,
                              minFraction: Double, maxFraction: Double) -> (rows: [Int], labels: [Int]) {
        precondition(classes > 0 && testProbabilities.count % classes == 0,
                     "PseudoLabels: \(testProbabilities.count) probabilities are not whole rows of \(classes) classes")
        precondition(0 <= minFraction && minFraction <= maxFraction && maxFraction <= 1,
                     "PseudoLabels: need 0 ≤ minFraction ≤ maxFraction ≤ 1, got \(minFraction) and \(maxFraction)")
        let T = testProbabilities.count / classes
        let top = (0..<T).map { row in topClass(testProbabilities[(row * classes)..<((row + 1) * classes)]) }
        let byConfidence = (0..<T).sorted { top[$0].probability > top[$1].probability
            || (top[$0].probability == top[$1].probability && $0 < $1) }
        // The tolerance keeps e.g. 0.3·10 at 3 although 0.3 is not exact in binary.
        let fewest = Int((minFraction * Double(T) - 1e-9).rounded(.up))
        let most = Int((maxFraction * Double(T) + 1e-9).rounded(.down))
        let clearing = byConfidence.prefix { top[$0].probability >= threshold }.count
        let rows = byConfidence.prefix(min(max(clearing, fewest), most)).sorted()
        return (rows, rows.map { top[$0].label })
    }

    private static func topClass(_ row: ArraySlice<Float>) -> (label: Int, probability: Float) {
        var best = (label: 0, probability: row[row.startIndex])
        for (k, p) in row.enumerated() where p > best.probability { best = (k, p) }
        return best
    }
}
