import Foundation

/// Training-time augmentation, applied per image with the task's seeded stream
/// (and, for mixup, cutmix and multi-scale, per batch). The options added after
/// the first release are nil when off, so manifests without them keep their hash.
public struct AugmentSpec: Sendable, Equatable, Codable {
    public var hflip: Bool
    public var vflip: Bool
    /// Pad by this many pixels of zeros (the mean colour) and crop back to size at a random offset.
    public var cropPadding: Int
    public var randomResizedCrop: RandomResizedCropSpec?
    public var randomErasing: RandomErasingSpec?
    public var randAugment: RandAugmentSpec?
    public var mixup: MixSpec?
    public var cutmix: MixSpec?
    /// Heights a batch is resized to, one drawn per batch (the width keeps the aspect ratio).
    public var multiScale: [Int]?

    public init(hflip: Bool = false, vflip: Bool = false, cropPadding: Int = 0,
                randomResizedCrop: RandomResizedCropSpec? = nil, randomErasing: RandomErasingSpec? = nil,
                randAugment: RandAugmentSpec? = nil, mixup: MixSpec? = nil, cutmix: MixSpec? = nil,
                multiScale: [Int]? = nil) {
        self.hflip = hflip
        self.vflip = vflip
        self.cropPadding = cropPadding
        self.randomResizedCrop = randomResizedCrop
        self.randomErasing = randomErasing
        self.randAugment = randAugment
        self.mixup = mixup
        self.cutmix = cutmix
        self.multiScale = multiScale
    }
}

/// torchvision's RandomResizedCrop: area fraction `scale`, aspect ratio (width / height) `ratio`.
public struct RandomResizedCropSpec: Sendable, Equatable, Codable {
    public var scale: ClosedRange<Float>
    public var ratio: ClosedRange<Float>

    public init(scale: ClosedRange<Float> = 0.5...1, ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0)) {
        self.scale = scale
        self.ratio = ratio
    }
}

/// torchvision's RandomErasing: probability `p`, area fraction `area`, aspect ratio (width / height) `ratio`.
public struct RandomErasingSpec: Sendable, Equatable, Codable {
    public var p: Float
    public var area: ClosedRange<Float>
    public var ratio: ClosedRange<Float>

    public init(p: Float = 0.5, area: ClosedRange<Float> = 0.02...0.33, ratio: ClosedRange<Float> = 0.3...3.3) {
        self.p = p
        self.area = area
        self.ratio = ratio
    }
}

/// RandAugment: `n` operations per image at `magnitude` on torchvision's 0–30 scale.
public struct RandAugmentSpec: Sendable, Equatable, Codable {
    public var n: Int
    public var magnitude: Float

    public init(n: Int = 2, magnitude: Float = 9) {
        self.n = n
        self.magnitude = magnitude
    }
}

/// Mixup or CutMix: λ ~ Beta(alpha, alpha), applied to a batch with probability `p`.
public struct MixSpec: Sendable, Equatable, Codable {
    public var alpha: Float
    public var p: Float

    public init(alpha: Float, p: Float) {
        self.alpha = alpha
        self.p = p
    }

    public static let mixupDefault = MixSpec(alpha: 0.2, p: 1)
    public static let cutmixDefault = MixSpec(alpha: 1, p: 0.5)
}

extension AugmentSpec {
    static let keys = ["hflip", "vflip", "crop_padding", "random_resized_crop", "random_erasing", "randaugment",
                       "mixup", "cutmix", "multi_scale"]

    static func read(_ value: ValueNode?) throws -> AugmentSpec {
        guard let value else { return AugmentSpec() }
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`augment`")
        var augment = AugmentSpec()
        augment.hflip = try map.optional("hflip")?.bool() ?? false
        augment.vflip = try map.optional("vflip")?.bool() ?? false
        if let node = map.optional("crop_padding") {
            augment.cropPadding = try node.int()
            try node.require((0...64).contains(augment.cropPadding), "`crop_padding` must be 0...64, found \(augment.cropPadding)",
                             fix: "write a few pixels, e.g. crop_padding: 2")
        }
        augment.randomResizedCrop = try option(map, "random_resized_crop", keys: ["scale", "ratio"],
                                               example: "{scale: [0.5, 1], ratio: [0.75, 1.333]}") { options in
            var crop = RandomResizedCropSpec()
            if let node = options?.optional("scale") {
                crop.scale = try range(node, example: "[0.5, 1]", bounds: "0<..1") { $0 > 0 && $0 <= 1 }
            }
            if let node = options?.optional("ratio") { crop.ratio = try aspectRatio(node, example: "[0.75, 1.333]") }
            return crop
        }
        augment.randomErasing = try option(map, "random_erasing", keys: ["p", "area", "ratio"],
                                           example: "{p: 0.5, area: [0.02, 0.33], ratio: [0.3, 3.3]}") { options in
            var erasing = RandomErasingSpec()
            if let node = options?.optional("p") { erasing.p = try probability(node) }
            if let node = options?.optional("area") {
                erasing.area = try range(node, example: "[0.02, 0.33]", bounds: "0<..<1") { $0 > 0 && $0 < 1 }
            }
            if let node = options?.optional("ratio") { erasing.ratio = try aspectRatio(node, example: "[0.3, 3.3]") }
            return erasing
        }
        augment.randAugment = try option(map, "randaugment", keys: ["n", "magnitude"],
                                         example: "{n: 2, magnitude: 9}") { options in
            var policy = RandAugmentSpec()
            if let node = options?.optional("n") {
                policy.n = try node.int()
                try node.require((1...10).contains(policy.n), "`n` must be 1...10 operations per image, found \(policy.n)",
                                 fix: "write e.g. n: 2")
            }
            if let node = options?.optional("magnitude") {
                policy.magnitude = try node.float()
                try node.require((0...30).contains(policy.magnitude),
                                 "`magnitude` must be in 0...30 (torchvision's scale), found \(policy.magnitude)",
                                 fix: "write e.g. magnitude: 9")
            }
            return policy
        }
        augment.mixup = try option(map, "mixup", keys: ["alpha", "p"], example: "{alpha: 0.2, p: 1}") {
            try mix($0, default: .mixupDefault)
        }
        augment.cutmix = try option(map, "cutmix", keys: ["alpha", "p"], example: "{alpha: 1, p: 0.5}") {
            try mix($0, default: .cutmixDefault)
        }
        augment.multiScale = try map.optional("multi_scale").map(readMultiScale)
        return augment
    }

    /// An option written as a map of its settings, or as `true` (all defaults) or `false` (off).
    private static func option<Value>(_ map: MappingReader, _ key: String, keys: [String], example: String,
                                      read: (MappingReader?) throws -> Value) throws -> Value? {
        guard let node = map.optional(key) else { return nil }
        if node.isMapping {
            let options = try node.mapping()
            try options.checkKeys(keys, section: "`\(key)`")
            return try read(options)
        }
        try node.require(node.node.tagName == .bool, "`\(key)` must be true, false or a map of its settings, found \(node.found)",
                         fix: "write \(key): true for the defaults, or e.g. \(key): \(example)")
        return try node.bool() ? try read(nil) : nil
    }

    /// `[low, high]` with both bounds `valid` and low <= high.
    private static func range(_ node: ValueNode, example: String, bounds: String,
                              valid: (Float) -> Bool) throws -> ClosedRange<Float> {
        let key = node.path.components(separatedBy: ".").last ?? node.path
        let items = try node.list()
        try node.require(items.count == 2, "`\(key)` must be [low, high], found \(items.count) values",
                         fix: "write e.g. \(key): \(example)")
        let bounds = try items.map { item in
            let value = try item.float()
            try item.require(valid(value), "a bound of `\(key)` must be in \(bounds), found \(value)",
                             fix: "write e.g. \(key): \(example)")
            return value
        }
        try node.require(bounds[0] <= bounds[1], "`\(key)` must be [low, high] with low <= high, found [\(bounds[0]), \(bounds[1])]",
                         fix: "swap the two numbers")
        return bounds[0]...bounds[1]
    }

    private static func aspectRatio(_ node: ValueNode, example: String) throws -> ClosedRange<Float> {
        try range(node, example: example, bounds: "0<..100") { $0 > 0 && $0 <= 100 }
    }

    private static func probability(_ node: ValueNode) throws -> Float {
        let p = try node.float()
        try node.require((0...1).contains(p), "`p` must be in 0...1, found \(p)", fix: "write e.g. p: 0.5")
        return p
    }

    private static func mix(_ options: MappingReader?, default spec: MixSpec) throws -> MixSpec {
        var mix = spec
        if let node = options?.optional("alpha") {
            mix.alpha = try node.float()
            try node.require(mix.alpha >= 0.05 && mix.alpha <= 100, "`alpha` must be in 0.05...100, found \(mix.alpha)",
                             fix: "write e.g. alpha: 0.2 (small keeps λ near 0 or 1; 1 is uniform)")
        }
        if let node = options?.optional("p") { mix.p = try probability(node) }
        return mix
    }

    private static func readMultiScale(_ node: ValueNode) throws -> [Int] {
        let sizes = try node.list().map { item in
            let size = try item.int()
            try item.require((1...8192).contains(size), "a multi-scale size must be 1...8192 pixels, found \(size)",
                             fix: "write image heights, e.g. multi_scale: [24, 28, 32]")
            return size
        }
        try node.require(!sizes.isEmpty, "`multi_scale` is an empty list",
                         fix: "list the heights to draw from, e.g. multi_scale: [24, 28, 32], or remove the key")
        return sizes
    }
}
