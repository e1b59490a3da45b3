import Foundation

/// Fine-tuning: start from a checkpoint's weights, and freeze or slow down the
/// backbone (stem and stages) while the head learns.
public struct FineTuneSpec: Sendable, Equatable, Codable {
    /// A `.ckpt` written by `foldwise train` (kept as written; resolved like data paths).
    /// Parameters whose name and shape match are loaded; the rest keep their initialisation.
    public var checkpoint: String?
    /// Re-initialise the classifier even when the checkpoint's has the same shape
    /// (a classifier for another class count is always replaced).
    public var newHead: Bool
    /// The backbone is frozen for this many epochs, then trained with the rest.
    public var freezeBackboneEpochs: Int
    /// The stem and the first this many stages stay frozen for the whole run.
    public var freezeStages: Int
    /// Learning-rate multiplier of the whole backbone (discriminative learning rates).
    public var backboneLR: Float?
    /// Per-stage decay: the last stage trains at this multiplier, the one before at
    /// its square, and so on down to the stem (layer-wise learning-rate decay).
    public var stageLRDecay: Float?

    public init(checkpoint: String? = nil, newHead: Bool = false, freezeBackboneEpochs: Int = 0, freezeStages: Int = 0,
                backboneLR: Float? = nil, stageLRDecay: Float? = nil) {
        (self.checkpoint, self.newHead, self.freezeBackboneEpochs) = (checkpoint, newHead, freezeBackboneEpochs)
        (self.freezeStages, self.backboneLR, self.stageLRDecay) = (freezeStages, backboneLR, stageLRDecay)
    }
}

/// Mean teacher (Tarvainen & Valpola, 2017): an exponential moving average of the
/// model's weights is the teacher; the student also minimises the squared
/// distance between its softmax and the teacher's on unlabelled test images,
/// weighted by `weight`, ramped up over the first `rampupEpochs` (sigmoid ramp).
/// The teacher predicts the set `ema`.
public struct MeanTeacherSpec: Sendable, Equatable, Codable {
    public var decay: Float
    public var weight: Float
    public var rampupEpochs: Int
    public init(decay: Float = 0.99, weight: Float = 1, rampupEpochs: Int = 0) {
        (self.decay, self.weight, self.rampupEpochs) = (decay, weight, rampupEpochs)
    }
}

/// How a training epoch draws its rows.
public enum SamplerKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// Every training row once, shuffled.
    case shuffle
    /// As many rows as the fold has, drawn with replacement with each class equally likely.
    case balanced
}

extension FineTuneSpec {
    static let keys = ["checkpoint", "new_head", "freeze_backbone_epochs", "freeze_stages", "backbone_lr", "stage_lr_decay"]

    static func read(_ value: ValueNode, epochs: Int) throws -> FineTuneSpec {
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`finetune`")
        var spec = FineTuneSpec()
        spec.checkpoint = try map.optional("checkpoint")?.nonEmptyString()
        spec.newHead = try map.optional("new_head")?.bool() ?? false
        if let node = map.optional("freeze_backbone_epochs") {
            spec.freezeBackboneEpochs = try node.int()
            try node.require((0..<epochs).contains(spec.freezeBackboneEpochs),
                             "`freeze_backbone_epochs` must be 0...\(epochs - 1) (fewer than the model's epochs), found \(spec.freezeBackboneEpochs)",
                             fix: "train the head alone for a few epochs, e.g. freeze_backbone_epochs: 1")
        }
        if let node = map.optional("freeze_stages") {
            spec.freezeStages = try node.int()
            try node.require((0...16).contains(spec.freezeStages), "`freeze_stages` must be 0...16, found \(spec.freezeStages)",
                             fix: "freeze the stem and the first stage with freeze_stages: 1")
        }
        for (key, name) in [("backbone_lr", \FineTuneSpec.backboneLR), ("stage_lr_decay", \FineTuneSpec.stageLRDecay)] {
            guard let node = map.optional(key) else { continue }
            let multiplier = try node.float()
            try node.require(multiplier > 0 && multiplier <= 1, "`\(key)` must be in 0<..1, found \(multiplier)",
                             fix: "write a learning-rate multiplier, e.g. \(key): 0.1")
            spec[keyPath: name] = multiplier
        }
        try value.require(spec.backboneLR == nil || spec.stageLRDecay == nil,
                          "`backbone_lr` and `stage_lr_decay` both set the backbone's learning rate",
                          fix: "keep one: backbone_lr for one multiplier, stage_lr_decay for one per stage")
        return spec
    }
}

extension MeanTeacherSpec {
    static func read(_ value: ValueNode, epochs: Int) throws -> MeanTeacherSpec {
        let map = try value.mapping()
        try map.checkKeys(["decay", "weight", "rampup_epochs"], section: "`mean_teacher`")
        var spec = MeanTeacherSpec()
        if let node = map.optional("decay") {
            spec.decay = try node.float()
            try node.require(spec.decay > 0 && spec.decay < 1, "`decay` must be in 0<..<1, found \(spec.decay)",
                             fix: "write e.g. decay: 0.99")
        }
        if let node = map.optional("weight") {
            spec.weight = try node.float()
            try node.require(spec.weight >= 0 && spec.weight <= 1000, "`weight` must be 0...1000, found \(spec.weight)",
                             fix: "write e.g. weight: 1")
        }
        if let node = map.optional("rampup_epochs") {
            spec.rampupEpochs = try node.int()
            try node.require((0...epochs).contains(spec.rampupEpochs),
                             "`rampup_epochs` must be 0...\(epochs) (the model's epochs), found \(spec.rampupEpochs)",
                             fix: "ramp the consistency weight up over the first epochs, e.g. rampup_epochs: \(max(1, epochs / 4))")
        }
        return spec
    }
}
