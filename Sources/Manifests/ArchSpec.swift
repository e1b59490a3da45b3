import Foundation

/// The network: a registry name, the stages of a custom one, and the head.
/// Keys added after the first release are optional and nil when absent, so
/// the canonical JSON (and hash) of a manifest without them is unchanged.
public struct ArchSpec: Sendable, Equatable, Codable {
    /// `resnet_ref`, `resnet18`, `resnet34`, `se_resnext` and `efficientnet_b0` have fixed stages;
    /// `resnet` and `resnext` take `widths` and `blocks`.
    public static let names = ["resnet_ref", "resnet18", "resnet34", "resnet", "resnext", "se_resnext", "efficientnet_b0"]
    /// ResNeXt's classic 32×4d.
    public static let defaultCardinality = 32, defaultBaseWidth = 4

    public var name: String
    /// Channels per stage (custom `resnet` and `resnext` only; a ResNeXt stage outputs 4× its width).
    public var widths: [Int]?
    /// Residual blocks per stage, same length as `widths` (custom `resnet` and `resnext` only).
    public var blocks: [Int]?
    public var stem: StemKind
    public var squeezeExcitation: Bool
    /// Dropout before the classifier, 0..<1.
    public var dropout: Float
    /// Global pooling of the head; nil: average.
    public var pool: PoolKind?
    /// nil: no neck.
    public var neck: NeckKind?
    /// IBN-a blocks in all stages but the last (residual networks only); nil: off.
    public var ibn: Bool?
    /// Groups of the 3×3 convolution (`resnext` only); nil: `defaultCardinality`.
    public var cardinality: Int?
    /// Channels per group at width 64 (`resnext` only); nil: `defaultBaseWidth`.
    public var baseWidth: Int?
    /// Channel multiplier (`efficientnet_b0` only); nil: 1.
    public var widthMult: Float?
    /// Depth multiplier (`efficientnet_b0` only); nil: 1.
    public var depthMult: Float?
    /// Each residual block's last batch norm starts with γ = 0, so every block
    /// begins as its shortcut (residual networks only); nil: off.
    public var zeroInitResidual: Bool?

    public init(name: String, widths: [Int]? = nil, blocks: [Int]? = nil, stem: StemKind = .conv3,
                squeezeExcitation: Bool = false, dropout: Float = 0, pool: PoolKind? = nil, neck: NeckKind? = nil,
                ibn: Bool? = nil, cardinality: Int? = nil, baseWidth: Int? = nil, widthMult: Float? = nil,
                depthMult: Float? = nil, zeroInitResidual: Bool? = nil) {
        self.name = name
        self.widths = widths
        self.blocks = blocks
        self.stem = stem
        self.squeezeExcitation = squeezeExcitation
        self.dropout = dropout
        self.pool = pool
        self.neck = neck
        self.ibn = ibn
        self.cardinality = cardinality
        self.baseWidth = baseWidth
        self.widthMult = widthMult
        self.depthMult = depthMult
        self.zeroInitResidual = zeroInitResidual
    }
}

/// The first layers: one 3×3 convolution (small images), or 7×7 stride 2 plus max-pooling (ImageNet style).
public enum StemKind: String, Sendable, Equatable, Codable, CaseIterable {
    case conv3
    case conv7Pool = "conv7_pool"
}

/// Global pooling before the classifier: average, max, generalized mean with a
/// learnable exponent, or average and max concatenated and reduced back.
public enum PoolKind: String, Sendable, Equatable, Codable, CaseIterable {
    case avg, max, gem, dual
}

/// A layer between the pooled features and the classifier: BNNeck (batch norm with a frozen zero bias).
public enum NeckKind: String, Sendable, Equatable, Codable, CaseIterable {
    case bnneck
}

extension ArchSpec {
    static let residualNames = ["resnet_ref", "resnet18", "resnet34", "resnet", "resnext", "se_resnext"]
    static let customNames = ["resnet", "resnext"]

    static let commonKeys = ["name", "dropout", "pool", "neck"]
    static let variantKeys: [(key: String, users: [String])] = [
        ("widths", customNames), ("blocks", customNames), ("stem", customNames),
        ("se", residualNames.filter { $0 != "se_resnext" }), ("ibn", residualNames),
        ("zero_init_residual", residualNames),
        ("cardinality", ["resnext"]), ("base_width", ["resnext"]),
        ("width_mult", ["efficientnet_b0"]), ("depth_mult", ["efficientnet_b0"]),
    ]

    static func read(_ value: ValueNode) throws -> ArchSpec {
        let section = try NamedSection(value, allowed: names, what: "architecture")
        var arch = ArchSpec(name: section.name)
        guard let map = section.map else {
            if customNames.contains(arch.name) {
                throw value.error("the custom `\(arch.name)` needs `widths` and `blocks`",
                                  fix: "write arch: {name: \(arch.name), widths: [32, 64, 128], blocks: [2, 2, 2]}, or use \(arch.name == "resnet" ? "resnet_ref" : "se_resnext")")
            }
            return arch
        }
        try map.checkKeys(common: commonKeys, variantKeys: variantKeys, name: arch.name, kind: "architecture",
                          section: "`arch`")
        arch.stem = try map.optional("stem")?.choice(StemKind.self, what: "stem") ?? .conv3
        arch.squeezeExcitation = try map.optional("se")?.bool() ?? false
        if let node = map.optional("dropout") {
            arch.dropout = try node.float()
            try node.require(arch.dropout >= 0 && arch.dropout < 1, "`dropout` must be in 0..<1, found \(arch.dropout)",
                             fix: "write e.g. dropout: 0.2")
        }
        arch.pool = try map.optional("pool")?.choice(PoolKind.self, what: "pooling")
        arch.neck = try map.optional("neck")?.choice(NeckKind.self, what: "neck")
        arch.ibn = try map.optional("ibn")?.bool()
        arch.zeroInitResidual = try map.optional("zero_init_residual")?.bool()
        arch.cardinality = try map.optional("cardinality").map { try readInt($0, key: "cardinality", limit: 64) }
        arch.baseWidth = try map.optional("base_width").map { try readInt($0, key: "base_width", limit: 256) }
        arch.widthMult = try map.optional("width_mult").map { try readMultiplier($0, key: "width_mult") }
        arch.depthMult = try map.optional("depth_mult").map { try readMultiplier($0, key: "depth_mult") }
        arch.widths = try map.optional("widths").map { try readStages($0, what: "width", limit: 4096) }
        arch.blocks = try map.optional("blocks").map { try readStages($0, what: "block count", limit: 64) }
        try checkStages(arch, map: map)
        try checkIBN(arch, map: map)
        return arch
    }

    private static func readInt(_ node: ValueNode, key: String, limit: Int) throws -> Int {
        let number = try node.int()
        try node.require((1...limit).contains(number), "`\(key)` must be 1...\(limit), found \(number)",
                         fix: "write e.g. \(key): \(key == "cardinality" ? defaultCardinality : defaultBaseWidth)")
        return number
    }

    private static func readMultiplier(_ node: ValueNode, key: String) throws -> Float {
        let number = try node.float()
        try node.require(number >= 0.1 && number <= 4, "`\(key)` must be in 0.1...4, found \(number)",
                         fix: "write e.g. \(key): 0.5 for a smaller network, 1 for B0 itself")
        return number
    }

    private static func readStages(_ node: ValueNode, what: String, limit: Int) throws -> [Int] {
        let items = try node.list()
        try node.require((1...8).contains(items.count), "expected 1...8 stages, found \(items.count)",
                         fix: "write one \(what) per stage, e.g. [2, 2, 2]")
        return try items.map { item in
            let number = try item.int()
            try item.require((1...limit).contains(number), "a \(what) must be 1...\(limit), found \(number)",
                             fix: "write a positive \(what)")
            return number
        }
    }

    /// A custom network needs both `widths` and `blocks`, of the same length; a
    /// ResNeXt width must leave each group at least one channel.
    private static func checkStages(_ arch: ArchSpec, map: MappingReader) throws {
        guard customNames.contains(arch.name) else { return }
        guard let widths = arch.widths, let blocks = arch.blocks else {
            let missing = arch.widths == nil ? "widths" : "blocks"
            _ = try map.required(missing, example: missing == "widths" ? "widths: [32, 64, 128]" : "blocks: [2, 2, 2]")
            return
        }
        if widths.count != blocks.count, let node = map.optional("blocks") {
            throw node.error("`blocks` has \(blocks.count) stages but `widths` has \(widths.count)",
                             fix: "give one block count per width")
        }
        guard arch.name == "resnext", let list = try map.optional("widths")?.list() else { return }
        let baseWidth = arch.baseWidth ?? defaultBaseWidth
        for (width, node) in zip(widths, list) where width * baseWidth < 64 {
            throw node.error("a ResNeXt width of \(width) with base_width \(baseWidth) leaves ⌊\(width)·\(baseWidth)/64⌋ = 0 channels per group",
                             fix: "use widths of at least \((64 + baseWidth - 1) / baseWidth), or raise base_width")
        }
    }

    /// IBN-a leaves the last stage plain, so it needs a network of two stages or
    /// more, and splits the channels after each block's first convolution in two
    /// halves, so those must be 2 or more in every other stage.
    private static func checkIBN(_ arch: ArchSpec, map: MappingReader) throws {
        guard arch.ibn == true, let widths = arch.widths, let node = map.optional("ibn") else { return }
        if widths.count < 2 {
            throw node.error("IBN-a changes every stage but the last, and this network has a single stage",
                             fix: "give `widths` and `blocks` two stages or more, or remove `ibn`")
        }
        let (baseWidth, cardinality) = (arch.baseWidth ?? defaultBaseWidth, arch.cardinality ?? defaultCardinality)
        for (stage, width) in widths.dropLast().enumerated() {
            let channels = arch.name == "resnext" ? width * baseWidth / 64 * cardinality : width
            if channels < 2 {
                throw node.error("IBN-a splits the \(channels) channel\(channels == 1 ? "" : "s") after the first convolution of stage \(stage + 1) into instance and batch norm halves, which needs 2 or more",
                                 fix: "widen stage \(stage + 1), or remove `ibn`")
            }
        }
    }
}
