import Foundation
import Manifests

/// A training stage of the pipeline, in the order they run: the base models,
/// each pseudo-label round, the distilled student. Level 2 is not a training
/// stage (the coordinator computes it) and has no tasks.
public enum Stage: Hashable, Sendable, Codable, Comparable {
    case base
    case pseudoLabel(round: Int)
    case distillation

    /// The round number tasks of this stage carry (0 outside pseudo-labelling).
    public var round: Int {
        if case .pseudoLabel(let round) = self { return round }
        return 0
    }

    /// The name a model of this stage goes by in subjects: `resnet`, `resnet+pl2`, `resnet+kd`.
    public func label(model: String) -> String {
        switch self {
        case .base: model
        case .pseudoLabel(let round): "\(model)+pl\(round)"
        case .distillation: "\(model)+kd"
        }
    }
}

/// A stage run under particular settings. Its storage name (the task table's
/// `stage` column) carries a hash of exactly the settings that decide what its
/// tasks learn, so a result is only ever reused under the settings that made it.
public struct KeyedStage: Hashable, Sendable, Codable {
    public var stage: Stage
    /// 8 hex digits; empty for the base stage, whose tasks the manifest hash already keys.
    public var key: String

    public init(_ stage: Stage, key: String) { (self.stage, self.key) = (stage, key) }

    public static let base = KeyedStage(.base, key: "")

    /// `base`, `pseudo-<key>`, `distill-<key>`: the task table's stage column
    /// (every round of one pseudo-label setting shares it; the round column tells them apart).
    public var storageName: String {
        switch stage {
        case .base: "base"
        case .pseudoLabel: "pseudo-\(key)"
        case .distillation: "distill-\(key)"
        }
    }

    /// Whether a task record with this stage column and round belongs to this stage.
    public func owns(storageName name: String, round: Int) -> Bool {
        name == storageName && round == stage.round
    }
}
