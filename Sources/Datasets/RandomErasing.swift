import Engine

/// torchvision's RandomErasing (Zhong et al., 2017; cutout with a random box):
/// with probability `p`, a box covering an `area` fraction of the image with
/// aspect ratio (width / height) log-uniform in `ratio` is set to 0, the mean
/// colour, in every channel. If 10 draws give no box smaller than the image,
/// nothing is erased.
public struct RandomErasing: Sendable, Equatable, Codable {
    public var p: Float
    public var area: ClosedRange<Float>
    public var ratio: ClosedRange<Float>

    public init(p: Float = 0.5, area: ClosedRange<Float> = 0.02...0.33, ratio: ClosedRange<Float> = 0.3...3.3) {
        precondition((0...1).contains(p), "RandomErasing: p must be in [0, 1], got \(p)")
        precondition(area.lowerBound > 0 && area.upperBound < 1, "RandomErasing: area must lie in (0, 1), got \(area)")
        precondition(ratio.lowerBound > 0, "RandomErasing: ratio must be positive, got \(ratio)")
        self.p = p
        self.area = area
        self.ratio = ratio
    }

    /// The box to erase, or nil for none; draws p first, then the box.
    public func region(height H: Int, width W: Int, random: inout SeededRandom) -> PixelRect? {
        guard random.nextFloat() < p else { return nil }
        return randomBox(height: H, width: W, area: area, ratio: ratio, random: &random,
                         fits: { h, w in h < H && w < W })
    }

    public func apply(to image: inout [Float], channels C: Int, height H: Int, width W: Int, random: inout SeededRandom) {
        guard let box = region(height: H, width: W, random: &random) else { return }
        for c in 0..<C {
            for y in box.top..<(box.top + box.height) {
                let row = (c * H + y) * W
                for x in box.left..<(box.left + box.width) { image[row + x] = 0 }
            }
        }
    }
}
