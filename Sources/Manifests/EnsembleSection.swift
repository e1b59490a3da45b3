import Foundation

/// The level-2 stage, run by the coordinator once the base models are done:
/// blends and stackers over the base prediction sets' OOF matrix, each with
/// its own OOF score; the best of everything by OOF score becomes the submission.
/// Like `cluster` it is left out of the manifest's hash: changing it re-runs
/// only this cheap stage, never the base models.
public struct EnsembleSection: Sendable, Equatable, Codable {
    public var blends: [BlendMethod]
    public var stackers: [StackerName]
    /// The base sets that feed level 2 (`<model>/<set>`); nil means every set.
    public var sets: [String]?

    public init(blends: [BlendMethod] = BlendMethod.allCases, stackers: [StackerName] = [.logistic], sets: [String]? = nil) {
        (self.blends, self.stackers, self.sets) = (blends, stackers, sets)
    }
}

public enum BlendMethod: String, Sendable, Equatable, Codable, CaseIterable {
    /// Mean of the probabilities; rank average; non-negative weights summing to one
    /// optimised for the metric; Caruana's hill climbing with replacement.
    case mean, rank, weights, hillclimb
}

public enum StackerName: String, Sendable, Equatable, Codable, CaseIterable {
    case logistic, mlp, xgboost
}

extension EnsembleSection {
    static let keys = ["blends", "stackers", "sets"]

    static func read(_ value: ValueNode, models: [ModelSpec]) throws -> EnsembleSection {
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`ensemble`")
        var section = EnsembleSection()
        if let node = map.optional("blends") {
            section.blends = try node.list().map { try $0.choice(BlendMethod.self, what: "blend") }
            try node.require(Set(section.blends).count == section.blends.count, "`blends` repeats a method",
                             fix: "list each of \(BlendMethod.allCases.map(\.rawValue).joined(separator: ", ")) at most once")
        }
        if let node = map.optional("stackers") {
            section.stackers = try node.list().map { try $0.choice(StackerName.self, what: "stacker") }
            try node.require(Set(section.stackers).count == section.stackers.count, "`stackers` repeats a learner",
                             fix: "list each of \(StackerName.allCases.map(\.rawValue).joined(separator: ", ")) at most once")
        }
        if let node = map.optional("sets") {
            let names = try node.list().map { try $0.string() }
            for (index, name) in names.enumerated() {
                let parts = name.split(separator: "/", omittingEmptySubsequences: false)
                let item = try node.list()[index]
                try item.require(parts.count == 2 && models.contains { $0.name == parts[0] } && !parts[1].isEmpty,
                                 "`\(name)` is not `<model>/<set>` with a model of this manifest",
                                 fix: "write e.g. \(models[0].name)/last (sets: last, snapshot-K, snapshots, swa)")
            }
            try node.require(!names.isEmpty, "`sets` is an empty list", fix: "leave `sets` out to use every set")
            section.sets = names
        }
        return section
    }
}
