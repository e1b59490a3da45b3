import Engine

/// Training-time augmentation of one CHW image: random horizontal and
/// vertical flips (each with probability ½) and a random crop of the image
/// padded by `cropPadding` zeros on each side (zero is the mean colour, since
/// images are already normalised); then, when set, a random resized crop,
/// RandAugment and random erasing, in that order (torchvision's order).
public struct Augmentation: Sendable, Equatable, Codable {
    public var hflip: Bool
    public var vflip: Bool
    public var cropPadding: Int
    public var randomResizedCrop: RandomResizedCrop?
    public var randAugment: RandAugment?
    public var randomErasing: RandomErasing?

    public init(hflip: Bool = false, vflip: Bool = false, cropPadding: Int = 0,
                randomResizedCrop: RandomResizedCrop? = nil, randAugment: RandAugment? = nil,
                randomErasing: RandomErasing? = nil) {
        precondition(cropPadding >= 0, "Augmentation: cropPadding must be >= 0, got \(cropPadding)")
        self.hflip = hflip
        self.vflip = vflip
        self.cropPadding = cropPadding
        self.randomResizedCrop = randomResizedCrop
        self.randAugment = randAugment
        self.randomErasing = randomErasing
    }

    /// Augments the C×H×W image at `buffer[offset...]` in place. Draws from
    /// `random` in a fixed order (hflip, vflip, crop x, crop y, then the
    /// resized crop's, RandAugment's and erasing's draws), and only for the
    /// enabled parts, so results depend on the seed alone.
    public func apply(to buffer: inout [Float], at offset: Int, channels C: Int, height H: Int, width W: Int,
                      random: inout SeededRandom) {
        flipAndShift(&buffer, at: offset, channels: C, height: H, width: W, random: &random)
        if randomResizedCrop == nil && randAugment == nil && randomErasing == nil { return }
        let range = offset..<(offset + C * H * W)
        var image = Array(buffer[range])
        randomResizedCrop?.apply(to: &image, channels: C, height: H, width: W, random: &random)
        randAugment?.apply(to: &image, channels: C, height: H, width: W, random: &random)
        randomErasing?.apply(to: &image, channels: C, height: H, width: W, random: &random)
        buffer.replaceSubrange(range, with: image)
    }

    private func flipAndShift(_ buffer: inout [Float], at offset: Int, channels C: Int, height H: Int, width W: Int,
                              random: inout SeededRandom) {
        let flipX = hflip && random.nextFloat() < 0.5
        let flipY = vflip && random.nextFloat() < 0.5
        var shiftX = 0, shiftY = 0
        if cropPadding > 0 {
            shiftX = random.int(below: 2 * cropPadding + 1) - cropPadding
            shiftY = random.int(below: 2 * cropPadding + 1) - cropPadding
        }
        if !flipX && !flipY && shiftX == 0 && shiftY == 0 { return }
        let source = Array(buffer[offset..<(offset + C * H * W)])
        for c in 0..<C {
            for y in 0..<H {
                let fromY = (flipY ? H - 1 - y : y) + shiftY
                for x in 0..<W {
                    let fromX = (flipX ? W - 1 - x : x) + shiftX
                    let inside = fromY >= 0 && fromY < H && fromX >= 0 && fromX < W
                    buffer[offset + (c * H + y) * W + x] = inside ? source[(c * H + fromY) * W + fromX] : 0
                }
            }
        }
    }
}

/// The images of an [N, C, H, W] tensor mirrored left–right and/or
/// top–bottom, for test-time augmentation.
public func flipped(_ images: Tensor, horizontal: Bool, vertical: Bool) -> Tensor {
    precondition(images.rank == 4, "flipped: expects [N, C, H, W], got \(images.shape)")
    if !horizontal && !vertical { return images }
    let (N, C, H, W) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    var output = Tensor(uninitialized: images.shape)
    for plane in 0..<(N * C) {
        let base = plane * H * W
        for y in 0..<H {
            let fromY = vertical ? H - 1 - y : y
            for x in 0..<W {
                let fromX = horizontal ? W - 1 - x : x
                output.scalars[base + y * W + x] = images.scalars[base + fromY * W + fromX]
            }
        }
    }
    return output
}
