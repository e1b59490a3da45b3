import Datasets
import Ensemble
import Foundation

/// Anything the leaderboard scores: a base prediction set of one stage's
/// model (`resnet/swa`, `resnet+pl1/last`) or a level-2 result (`blend/mean`,
/// `stack/logistic`).
public enum Subject: Hashable, Sendable {
    case set(stage: Stage, model: String, set: String)
    case level2(Level2Method)

    /// Base sets before blends before stackers: on equal scores the simpler result wins.
    public enum Kind: Int, Sendable, Comparable, Codable, CaseIterable {
        case base, blend, stacker
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
        public var name: String {
            switch self {
            case .base: "base"
            case .blend: "blend"
            case .stacker: "stacker"
            }
        }
    }

    public var name: String {
        switch self {
        case .set(let stage, let model, let set): "\(stage.label(model: model))/\(set)"
        case .level2(let method): method.subject
        }
    }

    public var kind: Kind {
        switch self {
        case .set: .base
        case .level2(let method):
            switch method.kind {
            case .blend: .blend
            case .stacker: .stacker
            }
        }
    }

    /// Whether its predictions are class probabilities a later stage may learn
    /// from or a probability submission may carry (a rank average's are not).
    public var givesProbabilities: Bool {
        switch self {
        case .set: true
        case .level2(let method): method.givesProbabilities
        }
    }
}

/// Where a score comes from: the OOF predictions (pooled over every row), the
/// mean of the per-fold OOF scores, the held-out test labels, or the in-sample
/// fit of a fitted blend (shown, never used to choose).
public enum ScoreSplit: String, Sendable, Codable, CaseIterable {
    case oof
    case oofFoldMean = "oof_fold_mean"
    case test
    case inSample = "in_sample"
}

/// The key of a subject's score in the database: the one place its text is built.
public struct ScoreKey: Hashable, Sendable {
    public var split: ScoreSplit
    public var metric: Metric

    public init(_ split: ScoreSplit, _ metric: Metric) { (self.split, self.metric) = (split, metric) }

    public var text: String { "\(split.rawValue):\(metric.rawValue)" }

    public init?(text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let split = ScoreSplit(rawValue: parts[0]), let metric = Metric(rawValue: parts[1]) else { return nil }
        self.init(split, metric)
    }
}

