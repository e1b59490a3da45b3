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
    /// Extra input scales (factors of image_size) averaged in at prediction time (nil: none).
    public var ttaScales: [Float]?
    /// Extra prediction sets beside `last` (nil: none; left out of the canonical JSON then).
    public var snapshots: SnapshotSpec?
    public var swa: SWASpec?
    /// Also predict with the weights of the epoch with the best validation score
    /// (set `best`); nil when off, so manifests without it keep their hash.
    public var keepBest: Bool?
    /// Gradient accumulation: batches per optimizer step (nil: 1).
    public var accumulate: Int?
    /// How epochs draw rows (nil: shuffle).
    public var sampler: SamplerKind?
    public var finetune: FineTuneSpec?
    public var meanTeacher: MeanTeacherSpec?

    public init(name: String, arch: ArchSpec, loss: LossSpec = LossSpec(), optimizer: OptimizerSpec = OptimizerSpec(),
                lr: Float, schedule: ScheduleSpec = ScheduleSpec(), epochs: Int, batchSize: Int,
                augment: AugmentSpec = AugmentSpec(), tta: [TTATransform] = [], snapshots: SnapshotSpec? = nil,
                swa: SWASpec? = nil, keepBest: Bool = false, accumulate: Int = 1, sampler: SamplerKind = .shuffle,
                finetune: FineTuneSpec? = nil, meanTeacher: MeanTeacherSpec? = nil, ttaScales: [Float] = []) {
        self.ttaScales = ttaScales.isEmpty ? nil : ttaScales
        self.accumulate = accumulate == 1 ? nil : accumulate
        self.sampler = sampler == .shuffle ? nil : sampler
        (self.finetune, self.meanTeacher) = (finetune, meanTeacher)
        self.snapshots = snapshots
        self.keepBest = keepBest ? true : nil
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

public enum TTATransform: String, Sendable, Equatable, Codable, CaseIterable {
    case hflip, vflip, hvflip
}

extension ModelSpec {
    static let keys = ["name", "arch", "loss", "optimizer", "lr", "schedule", "epochs", "batch_size", "augment", "tta",
                       "snapshots", "swa", "keep_best", "accumulate", "sampler", "finetune", "mean_teacher", "tta_scales"]

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
        let swa = try map.optional("swa").map {
            try SWASpec.read($0, epochs: epochs, schedule: schedule, snapshots: snapshots, model: name)
        }
        return ModelSpec(
            name: name, arch: arch, loss: try LossSpec.read(map.optional("loss")),
            optimizer: try OptimizerSpec.read(map.optional("optimizer")), lr: lr, schedule: schedule,
            epochs: epochs, batchSize: batchSize, augment: try AugmentSpec.read(map.optional("augment")),
            tta: try map.optional("tta").map(readTTA) ?? [], snapshots: snapshots, swa: swa,
            keepBest: try map.optional("keep_best")?.bool() ?? false,
            accumulate: try map.optional("accumulate").map { try positive($0, key: "accumulate", limit: 1024) } ?? 1,
            sampler: try map.optional("sampler")?.choice(SamplerKind.self, what: "sampler") ?? .shuffle,
            finetune: try map.optional("finetune").map { try FineTuneSpec.read($0, epochs: epochs) },
            meanTeacher: try map.optional("mean_teacher").map { try MeanTeacherSpec.read($0, epochs: epochs) },
            ttaScales: try map.optional("tta_scales").map(readTTAScales) ?? [])
    }

    private static func readTTAScales(_ node: ValueNode) throws -> [Float] {
        let items = try node.list()
        try node.require((1...8).contains(items.count), "`tta_scales` lists 1...8 scales, found \(items.count)",
                         fix: "write e.g. tta_scales: [0.875, 1.125] (the identity scale 1 is always included)")
        return try items.map { item in
            let scale = try item.float()
            try item.require(scale >= 0.25 && scale <= 4 && scale != 1, "a TTA scale must be in 0.25...4 and not 1, found \(scale)",
                             fix: "write factors of image_size such as 0.875 or 1.125")
            return scale
        }
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
