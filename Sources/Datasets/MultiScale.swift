import Engine

/// Multi-scale training: each batch is resized to a height drawn uniformly
/// from `sizes`, the width following the images' aspect ratio. The size is
/// drawn from the batch's own stream, so it depends on the seed alone.
public struct MultiScale: Sendable, Equatable {
    public var sizes: [Int]

    public init(sizes: [Int]) {
        precondition(!sizes.isEmpty && sizes.allSatisfy { $0 > 0 }, "MultiScale: needs positive sizes, got \(sizes)")
        self.sizes = sizes
    }

    /// The size for a batch of height × width images (one draw).
    public func drawSize(height: Int, width: Int, random: inout SeededRandom) -> (height: Int, width: Int) {
        let size = sizes[random.int(below: sizes.count)]
        return (size, max(1, Int((Float(size * width) / Float(height)).rounded())))
    }

    /// The batch resized to a drawn size.
    public func apply(_ images: Tensor, random: inout SeededRandom) -> Tensor {
        precondition(images.rank == 4, "MultiScale: expects [N, C, H, W], got \(images.shape)")
        let size = drawSize(height: images.shape[2], width: images.shape[3], random: &random)
        return resizeBatch(images, height: size.height, width: size.width)
    }
}
