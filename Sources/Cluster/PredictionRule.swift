/// What the values of one prediction array must satisfy, by task type. Every
/// rule refuses non-finite values; a task type whose predictions are not class
/// probabilities (multilabel, regression) adds its case here and says which
/// rule its result header carries.
public enum PredictionRule: Sendable, Hashable {
    /// Multiclass: every row non-negative and summing to 1 within `tolerance`
    /// (Float32 softmax, TTA and snapshot means stray by far less than 1e-3).
    case classProbabilities(tolerance: Double)

    public static let multiclass = PredictionRule.classProbabilities(tolerance: 1e-3)

    /// The first row of `values` ([rows, columns], row-major) that breaks the
    /// rule, with why; nil when every row keeps it.
    public func violation(in values: [Float], columns: Int) -> (row: Int, reason: String)? {
        guard columns > 0 else { return nil }
        for row in 0..<(values.count / columns) {
            let slice = values[(row * columns)..<((row + 1) * columns)]
            if let value = slice.first(where: { !$0.isFinite }) {
                return (row, "holds \(value): the model diverged; lower its learning rate or check the data")
            }
            if let reason = rowViolation(slice) { return (row, reason) }
        }
        return nil
    }

    private func rowViolation(_ row: ArraySlice<Float>) -> String? {
        switch self {
        case .classProbabilities(let tolerance):
            if let value = row.first(where: { $0 < 0 || $0 > 1 }) {
                return value < 0 ? "holds the negative value \(value): these are not class probabilities"
                                 : "holds \(value), above 1: these are not class probabilities"
            }
            let sum = row.reduce(0.0) { $0 + Double($1) }
            return abs(sum - 1) <= tolerance ? nil : "sums to \(sum), not 1 (±\(tolerance)): these are not class probabilities"
        }
    }
}

extension TaskPredictions {
    /// The first array row of any set that breaks `rule`, described; nil when none does.
    public func violation(of rule: PredictionRule) -> String? {
        for set in sets {
            for (kind, values) in [("OOF", set.oof), ("test", set.test)] {
                if let violation = rule.violation(in: values, columns: classes) {
                    return "set \(set.name) \(kind) row \(violation.row) \(violation.reason)"
                }
            }
        }
        return nil
    }
}
