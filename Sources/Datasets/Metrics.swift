import Foundation

/// Competition metrics on class probabilities ([N·K] row-major) and labels.
/// Definitions follow scikit-learn's so a CV score here matches one there.
public enum Metric: String, Sendable, CaseIterable, Codable {
    case accuracy
    case logLoss = "log_loss"
    case macroF1 = "macro_f1"
    case rocAUC = "roc_auc"

    public var higherIsBetter: Bool { self != .logLoss }

    /// Whether the metric reads the probabilities themselves (roc_auc, log_loss)
    /// rather than only the predicted class (accuracy, macro_f1): a submission
    /// for it should carry probabilities, since hard labels lose the ranking.
    public var scoresProbabilities: Bool {
        switch self {
        case .rocAUC, .logLoss: true
        case .accuracy, .macroF1: false
        }
    }

    public func score(probabilities: [Float], classes: Int, labels: [Int]) -> Double {
        precondition(classes >= 1 && probabilities.count == labels.count * classes,
                     "Metric.\(rawValue): \(probabilities.count) probabilities for \(labels.count) rows of \(classes) classes")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "Metric.\(rawValue): a label is outside 0..<\(classes)")
        switch self {
        case .accuracy: return accuracyScore(probabilities, classes, labels)
        case .logLoss: return logLossScore(probabilities, classes, labels)
        case .macroF1: return macroF1Score(probabilities, classes, labels)
        case .rocAUC: return rocAUCScore(probabilities, classes, labels)
        }
    }
}

/// The most probable class of each row (the first one on ties, like argmax).
public func predictedClasses(_ probabilities: [Float], classes: Int) -> [Int] {
    stride(from: 0, to: probabilities.count, by: classes).map { start in
        var best = 0
        for k in 1..<max(classes, 1) where probabilities[start + k] > probabilities[start + best] { best = k }
        return best
    }
}

private func accuracyScore(_ probabilities: [Float], _ classes: Int, _ labels: [Int]) -> Double {
    guard !labels.isEmpty else { return .nan }
    let predicted = predictedClasses(probabilities, classes: classes)
    return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
}

/// Mean negative log probability of the true class, clipped to
/// [1e-15, 1 - 1e-15] as sklearn does so one confident miss stays finite.
private func logLossScore(_ probabilities: [Float], _ classes: Int, _ labels: [Int]) -> Double {
    guard !labels.isEmpty else { return .nan }
    let epsilon = 1e-15
    var total = 0.0
    for (row, label) in labels.enumerated() {
        let p = min(max(Double(probabilities[row * classes + label]), epsilon), 1 - epsilon)
        total -= log(p)
    }
    return total / Double(labels.count)
}

/// Unweighted mean of per-class F1 over the classes that occur in the labels
/// or the predictions (sklearn's average="macro"); 0 for a class never right.
private func macroF1Score(_ probabilities: [Float], _ classes: Int, _ labels: [Int]) -> Double {
    guard !labels.isEmpty else { return .nan }
    let predicted = predictedClasses(probabilities, classes: classes)
    var truePositive = [Int](repeating: 0, count: classes)
    var predictedCount = [Int](repeating: 0, count: classes)
    var actualCount = [Int](repeating: 0, count: classes)
    for (guess, label) in zip(predicted, labels) {
        predictedCount[guess] += 1
        actualCount[label] += 1
        if guess == label { truePositive[label] += 1 }
    }
    let present = (0..<classes).filter { predictedCount[$0] + actualCount[$0] > 0 }
    let scores = present.map { 2 * Double(truePositive[$0]) / Double(predictedCount[$0] + actualCount[$0]) }
    return scores.reduce(0, +) / Double(present.count)
}

/// Binary AUC of the class-1 column for two classes; for more, the mean of
/// one-vs-rest AUCs over classes that have both positives and negatives.
/// NaN when no class has both.
private func rocAUCScore(_ probabilities: [Float], _ classes: Int, _ labels: [Int]) -> Double {
    let columns = classes == 2 ? [1] : Array(0..<classes)
    let scores = columns.compactMap { k -> Double? in
        let column = labels.indices.map { Double(probabilities[$0 * classes + k]) }
        return binaryAUC(scores: column, positive: labels.map { $0 == k })
    }
    return scores.isEmpty ? .nan : scores.reduce(0, +) / Double(scores.count)
}

/// Mann–Whitney AUC with tied scores given their average rank (a tie between
/// a positive and a negative counts one half).
public func binaryAUC(scores: [Double], positive: [Bool]) -> Double? {
    let positives = positive.filter { $0 }.count
    let negatives = positive.count - positives
    guard positives > 0 && negatives > 0 else { return nil }
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
        let averageRank = Double(start + end) / 2 + 1
        for position in start...end where positive[order[position]] { rankSum += averageRank }
        start = end + 1
    }
    let p = Double(positives)
    return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
}

/// The one ordering of scores: best first in the metric's direction, NaN (a
/// metric undefined on these labels, a diverged model) last; nil for a tie
/// (equal scores, or both NaN), which the caller breaks its own way.
extension Metric {
    public func ranks(_ a: Double, before b: Double) -> Bool? { Self.ranks(a, before: b, higherIsBetter: higherIsBetter) }

    /// The same for a direction alone (a report keeps only that).
    public static func ranks(_ a: Double, before b: Double, higherIsBetter: Bool) -> Bool? {
        if a.isNaN != b.isNaN { return b.isNaN }
        if a.isNaN || a == b { return nil }
        return higherIsBetter ? a > b : a < b
    }

    /// Whether score `a` beats score `b`; NaN never beats anything.
    public func isBetter(_ a: Double, than b: Double) -> Bool { ranks(a, before: b) == true }
}
