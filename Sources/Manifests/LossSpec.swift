import Foundation

/// The training loss and its options.
public struct LossSpec: Sendable, Equatable, Codable {
    public var name: LossName
    /// Mixes (1 - s) of the one-hot target with s spread over all classes; 0..<1.
    public var labelSmoothing: Float
    /// One positive weight per class, or nil for equal weights.
    public var classWeights: [Float]?
    /// Focal loss focusing parameter (`focal` only).
    public var gamma: Float
    /// Fraction of the batch's hardest examples kept (`ohem` only), 0<..1.
    public var keepFraction: Float

    public init(name: LossName = .crossEntropy, labelSmoothing: Float = 0, classWeights: [Float]? = nil,
                gamma: Float = 2, keepFraction: Float = 0.7) {
        self.name = name
        self.labelSmoothing = labelSmoothing
        self.classWeights = classWeights
        self.gamma = gamma
        self.keepFraction = keepFraction
    }
}

public enum LossName: String, Sendable, Equatable, Codable, CaseIterable {
    case crossEntropy = "cross_entropy"
    case bce
    case focal
    /// Online hard example mining: cross-entropy averaged over the hardest examples only.
    case ohem
}

extension LossSpec {
    static let commonKeys = ["name", "label_smoothing", "class_weights"]
    static let variantKeys: [(key: String, users: [String])] = [("gamma", ["focal"]), ("keep_fraction", ["ohem"])]

    static func read(_ value: ValueNode?) throws -> LossSpec {
        guard let value else { return LossSpec() }
        let section = try NamedSection(value, allowed: LossName.allCases.map(\.rawValue), what: "loss")
        var loss = LossSpec(name: LossName(rawValue: section.name)!)
        guard let map = section.map else { return loss }
        try map.checkKeys(common: commonKeys, variantKeys: variantKeys, name: section.name,
                          kind: "loss", section: "`loss`")
        if let node = map.optional("label_smoothing") {
            loss.labelSmoothing = try node.float()
            try node.require(loss.labelSmoothing >= 0 && loss.labelSmoothing < 1,
                             "`label_smoothing` must be in 0..<1, found \(loss.labelSmoothing)",
                             fix: "write e.g. label_smoothing: 0.1")
        }
        loss.classWeights = try map.optional("class_weights").map(readClassWeights)
        if let node = map.optional("gamma") {
            loss.gamma = try node.float()
            try node.require(loss.gamma >= 0, "`gamma` must be >= 0, found \(loss.gamma)",
                             fix: "write e.g. gamma: 2 (0 is plain cross-entropy)")
        }
        if let node = map.optional("keep_fraction") {
            loss.keepFraction = try node.float()
            try node.require(loss.keepFraction > 0 && loss.keepFraction <= 1,
                             "`keep_fraction` must be in 0<..1, found \(loss.keepFraction)",
                             fix: "write e.g. keep_fraction: 0.7")
        }
        return loss
    }

    private static func readClassWeights(_ node: ValueNode) throws -> [Float] {
        let items = try node.list()
        try node.require(items.count >= 2, "`class_weights` needs one weight per class, found \(items.count)",
                         fix: "write e.g. class_weights: [1, 2.5]")
        return try items.map { item in
            let weight = try item.float()
            try item.require(weight > 0, "a class weight must be > 0, found \(weight)", fix: "write a positive number")
            return weight
        }
    }
}
