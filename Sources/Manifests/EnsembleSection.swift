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
    public var pseudoLabel: PseudoLabelSpec?
    public var distill: DistillSpec?

    public init(blends: [BlendMethod] = BlendMethod.allCases, stackers: [StackerName] = [.logistic], sets: [String]? = nil,
                pseudoLabel: PseudoLabelSpec? = nil, distill: DistillSpec? = nil) {
        (self.blends, self.stackers, self.sets, self.pseudoLabel, self.distill) = (blends, stackers, sets, pseudoLabel, distill)
    }
}

/// Recursive pseudo-labelling: each round selects the test rows whose top
/// probability under the current best result clears `threshold` (clamped to
/// `minFraction`…`maxFraction` of the test rows) and trains `models` again on
/// every fold with those rows added to training (never to a validation fold).
public struct PseudoLabelSpec: Sendable, Equatable, Codable {
    public var rounds: Int
    public var threshold: Float
    public var minFraction: Double
    public var maxFraction: Double
    public var models: [String]
    public init(rounds: Int = 1, threshold: Float = 0.95, minFraction: Double = 0, maxFraction: Double = 1, models: [String]) {
        (self.rounds, self.threshold, self.minFraction, self.maxFraction, self.models) = (rounds, threshold, minFraction, maxFraction, models)
    }
}

/// Knowledge distillation: `student` (a model of the manifest) trains on every
/// fold on hard labels plus the teacher's probabilities tempered by
/// `temperature`, weighted `alpha` (soft) against 1 − alpha (hard), the soft
/// term scaled by T². On train rows the teacher's probabilities are its OOF
/// predictions; on pseudo rows (after pseudo-labelling) its test predictions.
public struct DistillSpec: Sendable, Equatable, Codable {
    /// `best` (the best result by OOF score when the stage starts) or a result's name, e.g. `blend/hillclimb`.
    public var teacher: String
    public var student: String
    public var temperature: Float
    public var alpha: Float
    public init(teacher: String = "best", student: String, temperature: Float = 4, alpha: Float = 0.5) {
        (self.teacher, self.student, self.temperature, self.alpha) = (teacher, student, temperature, alpha)
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
    static let keys = ["blends", "stackers", "sets", "pseudo_label", "distill"]

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
                let model = parts.count == 2 ? models.first { $0.name == parts[0] } : nil
                guard let model else {
                    throw item.error("`\(name)` is not `<model>/<set>` with a model of this manifest",
                                     fix: "write e.g. \(models[0].name)/last (models: \(models.map(\.name).joined(separator: ", ")))")
                }
                try item.require(model.predictionSets.contains(String(parts[1])),
                                 "model \(model.name) has no prediction set `\(parts[1])`",
                                 fix: "use one of \(model.predictionSets.map { "\(model.name)/\($0)" }.joined(separator: ", "))")
            }
            try node.require(!names.isEmpty, "`sets` is an empty list", fix: "leave `sets` out to use every set")
            section.sets = names
        }
        section.pseudoLabel = try map.optional("pseudo_label").map { try PseudoLabelSpec.read($0, models: models) }
        section.distill = try map.optional("distill").map { try DistillSpec.read($0, models: models) }
        return section
    }
}

extension PseudoLabelSpec {
    static func read(_ value: ValueNode, models: [ModelSpec]) throws -> PseudoLabelSpec {
        let map = try value.mapping()
        try map.checkKeys(["rounds", "threshold", "min_fraction", "max_fraction", "models"], section: "`pseudo_label`")
        let modelsNode = try map.required("models", example: "pseudo_label: {rounds: 1, threshold: 0.95, models: [\(models[0].name)]}")
        let names = try modelsNode.list().map { try $0.string() }
        try modelsNode.require(!names.isEmpty, "`models` is an empty list", fix: "list the models to retrain with pseudo-labels")
        for (index, name) in names.enumerated() {
            try modelsNode.list()[index].require(models.contains { $0.name == name }, "`\(name)` is not a model of this manifest",
                                                 fix: "pick from: \(models.map(\.name).joined(separator: ", "))")
        }
        var spec = PseudoLabelSpec(models: names)
        if let node = map.optional("rounds") {
            spec.rounds = try node.int()
            try node.require((1...10).contains(spec.rounds), "`rounds` must be 1...10, found \(spec.rounds)", fix: "write e.g. rounds: 1")
        }
        if let node = map.optional("threshold") {
            spec.threshold = try node.float()
            try node.require(spec.threshold > 0 && spec.threshold <= 1, "`threshold` must be in 0<..1, found \(spec.threshold)",
                             fix: "write the top-class probability a test row needs, e.g. threshold: 0.95")
        }
        for (key, keyPath) in [("min_fraction", \PseudoLabelSpec.minFraction), ("max_fraction", \PseudoLabelSpec.maxFraction)] {
            guard let node = map.optional(key) else { continue }
            let fraction = try node.double()
            try node.require((0...1).contains(fraction), "`\(key)` must be in 0...1, found \(fraction)", fix: "write a fraction of the test rows, e.g. 0.5")
            spec[keyPath: keyPath] = fraction
        }
        try value.require(spec.minFraction <= spec.maxFraction, "`min_fraction` \(spec.minFraction) is above `max_fraction` \(spec.maxFraction)",
                          fix: "keep min_fraction <= max_fraction")
        return spec
    }
}

extension DistillSpec {
    static func read(_ value: ValueNode, models: [ModelSpec]) throws -> DistillSpec {
        let map = try value.mapping()
        try map.checkKeys(["teacher", "student", "temperature", "alpha"], section: "`distill`")
        let studentNode = try map.required("student", example: "distill: {teacher: best, student: \(models[0].name)}")
        let student = try studentNode.string()
        try studentNode.require(models.contains { $0.name == student }, "`\(student)` is not a model of this manifest",
                                fix: "the student is trained like a model of `models`; pick from: \(models.map(\.name).joined(separator: ", "))")
        var spec = DistillSpec(student: student)
        if let node = map.optional("teacher") {
            spec.teacher = try node.string()
            let parts = spec.teacher.split(separator: "/")
            try node.require(spec.teacher == "best" || (parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty),
                             "`teacher` is `\(spec.teacher)`", fix: "write best, or a result such as blend/hillclimb or \(models[0].name)/last")
        }
        if let node = map.optional("temperature") {
            spec.temperature = try node.float()
            try node.require(spec.temperature >= 1 && spec.temperature <= 100, "`temperature` must be 1...100, found \(spec.temperature)",
                             fix: "write e.g. temperature: 4")
        }
        if let node = map.optional("alpha") {
            spec.alpha = try node.float()
            try node.require(spec.alpha >= 0 && spec.alpha <= 1, "`alpha` must be in 0...1, found \(spec.alpha)",
                             fix: "write the weight of the soft term, e.g. alpha: 0.5")
        }
        return spec
    }
}
