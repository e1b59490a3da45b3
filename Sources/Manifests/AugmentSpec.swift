import Foundation

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
