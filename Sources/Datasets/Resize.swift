import Engine

/// A rectangle of pixels: rows top..<top + height, columns left..<left + width.
public struct PixelRect: Sendable, Equatable {
    public var top: Int
    public var left: Int
    public var height: Int
    public var width: Int

    public init(top: Int, left: Int, height: Int, width: Int) {
        (self.top, self.left, self.height, self.width) = (top, left, height, width)
    }

    public var area: Int { height * width }
}

/// Bilinear resizing with pixel centres aligned (OpenCV's INTER_LINEAR and
/// PyTorch's align_corners=False): output pixel x samples the input at
/// (x + 0.5) * inWidth / outWidth - 0.5, clamped to the image.
public enum Resize {
    /// HWC bytes to CHW floats in 0...255 of size outHeight × outWidth.
    public static func bilinear(_ image: DecodedImage, height outHeight: Int, width outWidth: Int) -> [Float] {
        let (H, W, C) = (image.height, image.width, image.components)
        return resample(channels: C, xTaps: taps(input: W, output: outWidth), yTaps: taps(input: H, output: outHeight)) {
            Float(image.pixels[($1 * W + $2) * C + $0])
        }
    }

    /// The `region` of a C×H×W float image (all of it by default) resized to
    /// outHeight × outWidth; samples are clamped to the region, as when the
    /// region is cropped first (torchvision's resized_crop).
    public static func bilinear(planes image: [Float], channels C: Int, height H: Int, width W: Int,
                                region: PixelRect? = nil, toHeight outHeight: Int, toWidth outWidth: Int) -> [Float] {
        precondition(image.count == C * H * W, "Resize: \(image.count) values for a \(C)×\(H)×\(W) image")
        let region = region ?? PixelRect(top: 0, left: 0, height: H, width: W)
        precondition(region.top >= 0 && region.left >= 0 && region.height > 0 && region.width > 0
                     && region.top + region.height <= H && region.left + region.width <= W,
                     "Resize: region \(region) outside a \(H)×\(W) image")
        let xTaps = taps(input: region.width, output: outWidth).map { ($0 + region.left, $1 + region.left, $2) }
        let yTaps = taps(input: region.height, output: outHeight).map { ($0 + region.top, $1 + region.top, $2) }
        return resample(channels: C, xTaps: xTaps, yTaps: yTaps) { image[($0 * H + $1) * W + $2] }
    }

    /// For each output coordinate: the two input neighbours and the weight of the second.
    static func taps(input: Int, output: Int) -> [(Int, Int, Float)] {
        let scale = Double(input) / Double(output)
        return (0..<output).map { position in
            let source = min(max((Double(position) + 0.5) * scale - 0.5, 0), Double(input - 1))
            let lower = Int(source)
            return (lower, min(lower + 1, input - 1), Float(source - Double(lower)))
        }
    }

    /// CHW output interpolated from `value(channel, y, x)` at the given taps.
    private static func resample(channels C: Int, xTaps: [(Int, Int, Float)], yTaps: [(Int, Int, Float)],
                                 value: (Int, Int, Int) -> Float) -> [Float] {
        let (outHeight, outWidth) = (yTaps.count, xTaps.count)
        var output = [Float](repeating: 0, count: C * outHeight * outWidth)
        for c in 0..<C {
            for y in 0..<outHeight {
                let (y0, y1, wy) = yTaps[y]
                for x in 0..<outWidth {
                    let (x0, x1, wx) = xTaps[x]
                    let top = lerp(value(c, y0, x0), value(c, y0, x1), wx)
                    let bottom = lerp(value(c, y1, x0), value(c, y1, x1), wx)
                    output[(c * outHeight + y) * outWidth + x] = lerp(top, bottom, wy)
                }
            }
        }
        return output
    }

    private static func lerp(_ a: Float, _ b: Float, _ t: Float) -> Float {
        a + (b - a) * t
    }
}

/// Every image of an [N, C, H, W] batch resized bilinearly to height × width:
/// multi-scale training draws the size per batch (see `MultiScale`).
public func resizeBatch(_ images: Tensor, height: Int, width: Int) -> Tensor {
    precondition(images.rank == 4, "resizeBatch: expects [N, C, H, W], got \(images.shape)")
    precondition(height > 0 && width > 0, "resizeBatch: size must be positive, got \(height)×\(width)")
    let (N, C, H, W) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    if H == height && W == width { return images }
    var scalars: [Float] = []
    scalars.reserveCapacity(N * C * height * width)
    for n in 0..<N {
        let image = Array(images.scalars[(n * C * H * W)..<((n + 1) * C * H * W)])
        scalars += Resize.bilinear(planes: image, channels: C, height: H, width: W, toHeight: height, toWidth: width)
    }
    return Tensor(shape: [N, C, height, width], scalars: scalars)
}

/// The batch resized by `factor` in both directions (each side rounded, at least
/// one pixel): test-time augmentation at several scales predicts on these.
public func resizeBatch(_ images: Tensor, scale factor: Float) -> Tensor {
    precondition(images.rank == 4, "resizeBatch: expects [N, C, H, W], got \(images.shape)")
    precondition(factor > 0 && factor.isFinite, "resizeBatch: scale must be positive, got \(factor)")
    let size = { (side: Int) in max(1, Int((Float(side) * factor).rounded())) }
    return resizeBatch(images, height: size(images.shape[2]), width: size(images.shape[3]))
}
