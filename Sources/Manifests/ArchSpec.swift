import Foundation

/// The network: a registry name, and for the custom `resnet` its stage widths and depths.
public struct ArchSpec: Sendable, Equatable, Codable {
    /// `resnet_ref`, `resnet18` and `resnet34` have fixed stages; `resnet` takes `widths` and `blocks`.
    public static let names = ["resnet_ref", "resnet18", "resnet34", "resnet"]

    public var name: String
    /// Channels per stage (custom `resnet` only).
    public var widths: [Int]?
    /// Residual blocks per stage, same length as `widths` (custom `resnet` only).
    public var blocks: [Int]?
    public var stem: StemKind
    public var squeezeExcitation: Bool
    /// Dropout before the classifier, 0..<1.
    public var dropout: Float

    public init(name: String, widths: [Int]? = nil, blocks: [Int]? = nil, stem: StemKind = .conv3,
                squeezeExcitation: Bool = false, dropout: Float = 0) {
        self.name = name
        self.widths = widths
        self.blocks = blocks
        self.stem = stem
        self.squeezeExcitation = squeezeExcitation
        self.dropout = dropout
    }
}

/// The first layers: one 3×3 convolution (small images), or 7×7 stride 2 plus max-pooling (ImageNet style).
public enum StemKind: String, Sendable, Equatable, Codable, CaseIterable {
    case conv3
    case conv7Pool = "conv7_pool"
}

extension ArchSpec {
    static let keys = ["name", "widths", "blocks", "stem", "se", "dropout"]

    static func read(_ value: ValueNode) throws -> ArchSpec {
        let section = try NamedSection(value, allowed: names, what: "architecture")
        var arch = ArchSpec(name: section.name)
        if let map = section.map {
            try map.checkKeys(keys, section: "`arch`")
            arch.stem = try map.optional("stem")?.choice(StemKind.self, what: "stem") ?? .conv3
            arch.squeezeExcitation = try map.optional("se")?.bool() ?? false
            if let node = map.optional("dropout") {
                arch.dropout = try node.float()
                try node.require(arch.dropout >= 0 && arch.dropout < 1, "`dropout` must be in 0..<1, found \(arch.dropout)",
                                 fix: "write e.g. dropout: 0.2")
            }
            arch.widths = try map.optional("widths").map { try readStages($0, what: "width", limit: 4096) }
            arch.blocks = try map.optional("blocks").map { try readStages($0, what: "block count", limit: 64) }
            try checkStages(arch, map: map)
        } else if arch.name == "resnet" {
            throw value.error("the custom `resnet` needs `widths` and `blocks`",
                              fix: "write arch: {name: resnet, widths: [32, 64, 128], blocks: [2, 2, 2]}, or use resnet_ref")
        }
        return arch
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

    private static func checkStages(_ arch: ArchSpec, map: MappingReader) throws {
        let stageKeys = ["widths", "blocks"].filter { map.optional($0) != nil }
        if arch.name != "resnet" {
            if let key = stageKeys.first, let node = map.optional(key) {
                throw node.error("`\(arch.name)` has fixed stages, so `\(key)` does not apply",
                                 fix: "remove `\(key)`, or set `name: resnet` to choose widths and blocks")
            }
            return
        }
        guard let widths = arch.widths, let blocks = arch.blocks else {
            let missing = arch.widths == nil ? "widths" : "blocks"
            _ = try map.required(missing, example: missing == "widths" ? "widths: [32, 64, 128]" : "blocks: [2, 2, 2]")
            return
        }
        if widths.count != blocks.count, let node = map.optional("blocks") {
            throw node.error("`blocks` has \(blocks.count) stages but `widths` has \(widths.count)",
                             fix: "give one block count per width")
        }
    }
}
