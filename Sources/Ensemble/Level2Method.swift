/// Every level-2 method Foldwise runs over the base sets' OOF matrix: the one
/// vocabulary of the pipeline's `ensemble` section and of `foldwise stack`.
/// The raw value is the name a user writes (`hillclimb`); `subject` is the
/// name results are stored and ranked under (`blend/hillclimb`).
public enum Level2Method: String, Sendable, Codable, CaseIterable, Hashable {
    case mean, rank, weights, hillclimb, logistic, mlp, xgboost

    /// Blends combine the sets' probabilities column for column; stackers
    /// learn a new model on them. Blends sort before stackers.
    public enum Kind: Int, Sendable, Codable, Comparable {
        case blend = 1, stacker = 2

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public var kind: Kind {
        switch self {
        case .mean, .rank, .weights, .hillclimb: .blend
        case .logistic, .mlp, .xgboost: .stacker
        }
    }

    /// `blend/<name>` or `stack/<name>`: the result's name in the catalog and on the leaderboard.
    public var subject: String {
        switch kind {
        case .blend: "blend/\(rawValue)"
        case .stacker: "stack/\(rawValue)"
        }
    }

    /// Whether the method learns anything from the train labels. A fitted
    /// method's score on the rows it was fitted on is optimistic, so Level2
    /// scores it nested (each fold predicted by a fit on the other folds).
    public var isFitted: Bool {
        switch self {
        case .mean, .rank: false
        case .weights, .hillclimb, .logistic, .mlp, .xgboost: true
        }
    }

    /// Whether the output rows are class probabilities. A rank blend's rows
    /// are renormalised average ranks: their argmax and column order are
    /// meaningful, their values as probabilities (log-loss, pseudo-label
    /// confidence thresholds, distillation targets) are not.
    public var givesProbabilities: Bool { self != .rank }

    /// The method whose `subject` is `subject`; nil for any other string.
    public init?(subject: String) {
        guard let method = Self.allCases.first(where: { $0.subject == subject }) else { return nil }
        self = method
    }

    /// The names a user can write, comma-separated, for error messages and help.
    public static var namesList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
