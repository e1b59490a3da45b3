import Foundation

/// One base model: trained once per (seed, fold) of the manifest's CV.
public struct ModelSpec: Sendable, Equatable, Codable {
    /// Unique within the manifest; letters, digits, `_` and `-`.
    public var name: String
    public var arch: ArchSpec
    public var loss: LossSpec
    public var optimizer: OptimizerSpec
    /// Peak learning rate (onecycle's maximum, the warm-up's target).
    public var lr: Float
    public var schedule: ScheduleSpec
    public var epochs: Int
    public var batchSize: Int
    public var augment: AugmentSpec
    /// Extra views averaged with the identity at prediction time.
    public var tta: [TTATransform]
    /// Extra prediction sets beside `last` (nil: none; left out of the canonical JSON then).
    public var snapshots: SnapshotSpec?
    public var swa: SWASpec?

    public init(name: String, arch: ArchSpec, loss: LossSpec = LossSpec(), optimizer: OptimizerSpec = OptimizerSpec(),
                lr: Float, schedule: ScheduleSpec = ScheduleSpec(), epochs: Int, batchSize: Int,
                augment: AugmentSpec = AugmentSpec(), tta: [TTATransform] = [], snapshots: SnapshotSpec? = nil,
                swa: SWASpec? = nil) {
        self.snapshots = snapshots
        self.swa = swa
        self.name = name
        self.arch = arch
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.schedule = schedule
        self.epochs = epochs
        self.batchSize = batchSize
        self.augment = augment
        self.tta = tta
    }
}

/// Training-time augmentation, applied per image with the task's seeded stream.
public struct AugmentSpec: Sendable, Equatable, Codable {
    public var hflip: Bool
    public var vflip: Bool
    /// Pad by this many pixels (edge-reflect) and crop back to size at a random offset.
    public var cropPadding: Int

    public init(hflip: Bool = false, vflip: Bool = false, cropPadding: Int = 0) {
        self.hflip = hflip
        self.vflip = vflip
        self.cropPadding = cropPadding
    }
}

public enum TTATransform: String, Sendable, Equatable, Codable, CaseIterable {
    case hflip, vflip, hvflip
}

extension ModelSpec {
    static let keys = ["name", "arch", "loss", "optimizer", "lr", "schedule", "epochs", "batch_size", "augment", "tta",
                       "snapshots", "swa"]

    static func read(_ value: ValueNode) throws -> ModelSpec {
        let map = try value.mapping()
        try map.checkKeys(keys, section: "a model")
        let name = try readName(map.required("name", example: "name: resnet"))
        let arch = try ArchSpec.read(map.required("arch", example: "arch: resnet_ref"))
        let lrNode = try map.required("lr", example: "lr: 1e-3")
        let lr = try lrNode.float()
        try lrNode.require(lr > 0 && lr < 10, "`lr` must be in 0<..<10, found \(lr)", fix: "write e.g. lr: 1e-3")
        let epochs = try positive(map.required("epochs", example: "epochs: 10"), key: "epochs", limit: 10_000)
        let batchSize = try positive(map.required("batch_size", example: "batch_size: 64"), key: "batch_size",
                                     limit: 65_536)
        var schedule = try ScheduleSpec.read(map.optional("schedule"), epochs: epochs)
        let snapshots = try map.optional("snapshots").map { try SnapshotSpec.read($0, epochs: epochs, schedule: &schedule) }
        let swa = try map.optional("swa").map { try SWASpec.read($0, epochs: epochs, schedule: schedule) }
        return ModelSpec(
            name: name, arch: arch, loss: try LossSpec.read(map.optional("loss")),
            optimizer: try OptimizerSpec.read(map.optional("optimizer")), lr: lr, schedule: schedule,
            epochs: epochs, batchSize: batchSize, augment: try AugmentSpec.read(map.optional("augment")),
            tta: try map.optional("tta").map(readTTA) ?? [], snapshots: snapshots, swa: swa)
    }

    private static func readName(_ node: ValueNode) throws -> String {
        let name = try node.string()
        try node.require(!name.isEmpty && name.allSatisfy(allowedCharacter), "model name `\(name)` may use only letters, digits, `_` and `-`",
                         fix: "rename it, e.g. `\(name.isEmpty ? "resnet" : String(name.map { allowedCharacter($0) ? $0 : "_" }))`")
        return name
    }

    private static func allowedCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-")
    }

    private static func positive(_ node: ValueNode, key: String, limit: Int) throws -> Int {
        let number = try node.int()
        try node.require((1...limit).contains(number), "`\(key)` must be 1...\(limit), found \(number)",
                         fix: "write a positive whole number")
        return number
    }

    private static func readTTA(_ node: ValueNode) throws -> [TTATransform] {
        let transforms = try node.list().map { try $0.choice(TTATransform.self, what: "test-time augmentation") }
        try node.require(Set(transforms).count == transforms.count, "`tta` repeats a transform",
                         fix: "list each of hflip, vflip, hvflip at most once")
        return transforms
    }
}

extension AugmentSpec {
    static func read(_ value: ValueNode?) throws -> AugmentSpec {
        guard let value else { return AugmentSpec() }
        let map = try value.mapping()
        try map.checkKeys(["hflip", "vflip", "crop_padding"], section: "`augment`")
        var augment = AugmentSpec()
        augment.hflip = try map.optional("hflip")?.bool() ?? false
        augment.vflip = try map.optional("vflip")?.bool() ?? false
        if let node = map.optional("crop_padding") {
            augment.cropPadding = try node.int()
            try node.require((0...64).contains(augment.cropPadding), "`crop_padding` must be 0...64, found \(augment.cropPadding)",
                             fix: "write a few pixels, e.g. crop_padding: 2")
        }
        return augment
    }
}
