import Foundation

/// The training loss and its options. Options added after the first release are
/// optional and nil for the losses that do not use them, so a manifest that does
/// not name those losses keeps its canonical JSON and hash.
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
    /// The logits' scale s (`arcface`, `cosface`); nil for the other losses.
    public var scale: Float?
    /// The margin m (`arcface`: angular, in radians; `cosface`: on the cosine).
    public var margin: Float?
    /// F-beta's β (`soft_fbeta`): recall weighs β times as much as precision.
    public var beta: Float?
    /// How `soft_fbeta` turns logits into probabilities.
    public var activation: LossActivation?
    /// Which classes `lovasz_softmax` averages over.
    public var classes: LovaszClasses?

    /// nil options of the named loss take its defaults; the other losses' options stay nil.
    public init(name: LossName = .crossEntropy, labelSmoothing: Float = 0, classWeights: [Float]? = nil,
                gamma: Float = 2, keepFraction: Float = 0.7, scale: Float? = nil, margin: Float? = nil,
                beta: Float? = nil, activation: LossActivation? = nil, classes: LovaszClasses? = nil) {
        let defaults = LossSpec.defaults(for: name)
        precondition((scale == nil || defaults.scale != nil) && (margin == nil || defaults.margin != nil)
                     && (beta == nil || defaults.beta != nil) && (activation == nil || defaults.activation != nil)
                     && (classes == nil || defaults.classes != nil),
                     "LossSpec: an option that the `\(name.rawValue)` loss does not use was given")
        self.name = name
        self.labelSmoothing = labelSmoothing
        self.classWeights = classWeights
        self.gamma = gamma
        self.keepFraction = keepFraction
        self.scale = scale ?? defaults.scale
        self.margin = margin ?? defaults.margin
        self.beta = beta ?? defaults.beta
        self.activation = activation ?? defaults.activation
        self.classes = classes ?? defaults.classes
    }

    /// The scale of the cosine classifier the model needs (s·cosθ logits), or nil
    /// when the loss takes ordinary logits.
    public var cosineScale: Float? { name == .arcface || name == .cosface ? scale : nil }

    private static func defaults(for name: LossName)
        -> (scale: Float?, margin: Float?, beta: Float?, activation: LossActivation?, classes: LovaszClasses?) {
        switch name {
        case .arcface: return (30, 0.5, nil, nil, nil)
        case .cosface: return (30, 0.35, nil, nil, nil)
        case .softFBeta: return (nil, nil, 1, .softmax, nil)
        case .lovaszSoftmax: return (nil, nil, nil, nil, .present)
        case .crossEntropy, .bce, .focal, .ohem, .lovaszHinge: return (nil, nil, nil, nil, nil)
        }
    }
}

public enum LossName: String, Sendable, Equatable, Codable, CaseIterable {
    case crossEntropy = "cross_entropy"
    case bce
    case focal
    /// Online hard example mining: cross-entropy averaged over the hardest examples only.
    case ohem
    /// Additive angular margin on a cosine classifier's logits.
    case arcface
    /// Additive cosine margin (AM-softmax) on a cosine classifier's logits.
    case cosface
    /// The Lovász extension of the Jaccard loss on softmax probabilities.
    case lovaszSoftmax = "lovasz_softmax"
    /// The Lovász extension of the Jaccard loss on per-class hinge errors (multi-label).
    case lovaszHinge = "lovasz_hinge"
    /// 1 − a differentiable F-beta.
    case softFBeta = "soft_fbeta"
}

public enum LossActivation: String, Sendable, Equatable, Codable, CaseIterable {
    case softmax, sigmoid
}

public enum LovaszClasses: String, Sendable, Equatable, Codable, CaseIterable {
    case present, all
}

extension LossSpec {
    static let commonKeys = ["name"]
    static let variantKeys: [(key: String, users: [String])] = [
        // Only cross-entropy implements these; the other losses refuse them rather than ignore them.
        ("label_smoothing", ["cross_entropy"]),
        ("class_weights", ["cross_entropy"]),
        ("gamma", ["focal"]), ("keep_fraction", ["ohem"]),
        ("scale", ["arcface", "cosface"]), ("margin", ["arcface", "cosface"]),
        ("beta", ["soft_fbeta"]), ("activation", ["soft_fbeta"]), ("classes", ["lovasz_softmax"]),
    ]

    static func read(_ value: ValueNode?) throws -> LossSpec {
        guard let value else { return LossSpec() }
        let section = try NamedSection(value, allowed: LossName.allCases.map(\.rawValue), what: "loss")
        let name = LossName(rawValue: section.name)!
        guard let map = section.map else { return LossSpec(name: name) }
        try map.checkKeys(common: commonKeys, variantKeys: variantKeys, name: section.name,
                          kind: "loss", section: "`loss`")
        var loss = LossSpec(name: name, scale: try map.optional("scale").map(readScale),
                            margin: try map.optional("margin").map(readMargin),
                            beta: try map.optional("beta").map(readBeta),
                            activation: try map.optional("activation")?.choice(LossActivation.self, what: "activation"),
                            classes: try map.optional("classes")?.choice(LovaszClasses.self, what: "class selection"))
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

    private static func readScale(_ node: ValueNode) throws -> Float {
        let scale = try node.float()
        try node.require(scale >= 1 && scale <= 256, "`scale` must be in 1...256, found \(scale)",
                         fix: "write e.g. scale: 30 (larger for many classes, e.g. 64)")
        return scale
    }

    private static func readMargin(_ node: ValueNode) throws -> Float {
        let margin = try node.float()
        try node.require(margin >= 0 && margin <= 1, "`margin` must be in 0...1, found \(margin)",
                         fix: "write e.g. margin: 0.5 for arcface (radians) or margin: 0.35 for cosface")
        return margin
    }

    private static func readBeta(_ node: ValueNode) throws -> Float {
        let beta = try node.float()
        try node.require(beta > 0 && beta <= 100, "`beta` must be in 0<..100, found \(beta)",
                         fix: "write e.g. beta: 1 (F1) or beta: 2 (recall counts twice)")
        return beta
    }
}
