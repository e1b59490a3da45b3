import Training

/// One unit of distributed work: a fold task of one stage and round of one manifest.
///
/// Its id is derived from its fields only, so a manifest run again (or a
/// restarted coordinator) finds the tasks it already finished.
public struct ClusterTask: Sendable, Hashable, Codable {
    public var manifestHash: String
    public var stage: String
    public var round: Int
    public var fold: FoldTask

    public init(manifestHash: String, stage: String, round: Int, fold: FoldTask) {
        (self.manifestHash, self.stage, self.round, self.fold) = (manifestHash, stage, round, fold)
    }

    /// 16 lowercase hex digits of FNV-1a (64 bit) over `canonicalString`.
    public var id: String {
        let hash = Self.fnv1a64(Array(canonicalString.utf8))
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Every field length-prefixed, so no choice of model or stage name can
    /// make two different tasks share a string.
    public var canonicalString: String {
        let fields = ["task-v1", manifestHash, stage, String(round), fold.model, String(fold.seed), String(fold.fold)]
        return fields.map { "\($0.utf8.count):\($0)" }.joined(separator: ";")
    }

    public static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    // Flat on the wire: a task header reads as one JSON object of plain fields.
    enum CodingKeys: String, CodingKey { case manifestHash, stage, round, model, seed, fold }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        manifestHash = try container.decode(String.self, forKey: .manifestHash)
        stage = try container.decode(String.self, forKey: .stage)
        round = try container.decode(Int.self, forKey: .round)
        fold = FoldTask(model: try container.decode(String.self, forKey: .model),
                        seed: try container.decode(Int.self, forKey: .seed),
                        fold: try container.decode(Int.self, forKey: .fold))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(manifestHash, forKey: .manifestHash)
        try container.encode(stage, forKey: .stage)
        try container.encode(round, forKey: .round)
        try container.encode(fold.model, forKey: .model)
        try container.encode(fold.seed, forKey: .seed)
        try container.encode(fold.fold, forKey: .fold)
    }
}
