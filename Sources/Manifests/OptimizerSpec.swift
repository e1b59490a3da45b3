import Foundation

/// How parameters are updated from their gradients.
public struct OptimizerSpec: Sendable, Equatable, Codable {
    public var name: OptimizerName
    /// SGD only.
    public var momentum: Float
    /// SGD only.
    public var nesterov: Bool
    /// L2 penalty for SGD and Adam; decoupled decay for AdamW (default 0.01 there, 0 otherwise).
    public var weightDecay: Float
    /// Adam and AdamW only.
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    public init(name: OptimizerName = .adam, momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float? = nil,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.name = name
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay ?? (name == .adamw ? 0.01 : 0)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }
}

public enum OptimizerName: String, Sendable, Equatable, Codable, CaseIterable {
    case sgd
    case adam
    case adamw
}

extension OptimizerSpec {
    static let commonKeys = ["name", "weight_decay"]
    static let variantKeys: [(key: String, users: [String])] = [
        ("momentum", ["sgd"]), ("nesterov", ["sgd"]),
        ("beta1", ["adam", "adamw"]), ("beta2", ["adam", "adamw"]), ("epsilon", ["adam", "adamw"]),
    ]

    static func read(_ value: ValueNode?) throws -> OptimizerSpec {
        guard let value else { return OptimizerSpec() }
        let section = try NamedSection(value, allowed: OptimizerName.allCases.map(\.rawValue), what: "optimizer")
        var optimizer = OptimizerSpec(name: OptimizerName(rawValue: section.name)!)
        guard let map = section.map else { return optimizer }
        try map.checkKeys(common: commonKeys, variantKeys: variantKeys, name: section.name,
                          kind: "optimizer", section: "`optimizer`")
        if let node = map.optional("weight_decay") {
            optimizer.weightDecay = try node.float()
            try node.require(optimizer.weightDecay >= 0 && optimizer.weightDecay < 1,
                             "`weight_decay` must be in 0..<1, found \(optimizer.weightDecay)",
                             fix: "write e.g. weight_decay: 1e-4")
        }
        optimizer.momentum = try fraction(map, "momentum", example: "0.9") ?? optimizer.momentum
        optimizer.beta1 = try fraction(map, "beta1", example: "0.9") ?? optimizer.beta1
        optimizer.beta2 = try fraction(map, "beta2", example: "0.999") ?? optimizer.beta2
        if let node = map.optional("epsilon") {
            optimizer.epsilon = try node.float()
            try node.require(optimizer.epsilon > 0 && optimizer.epsilon < 1,
                             "`epsilon` must be in 0<..<1, found \(optimizer.epsilon)", fix: "write e.g. epsilon: 1e-8")
        }
        if let node = map.optional("nesterov") {
            optimizer.nesterov = try node.bool()
            try node.require(!optimizer.nesterov || optimizer.momentum > 0, "Nesterov momentum needs `momentum` > 0",
                             fix: "set momentum: 0.9, or remove `nesterov`")
        }
        return optimizer
    }

    /// A coefficient in 0..<1 (momentum and Adam's betas: 1 would never forget).
    private static func fraction(_ map: MappingReader, _ key: String, example: String) throws -> Float? {
        guard let node = map.optional(key) else { return nil }
        let value = try node.float()
        try node.require(value >= 0 && value < 1, "`\(key)` must be in 0..<1, found \(value)",
                         fix: "write e.g. \(key): \(example)")
        return value
    }
}
