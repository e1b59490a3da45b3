import Foundation
import Engine

/// torchvision's RandomResizedCrop: a random box covering a `scale` fraction
/// of the image's area, with aspect ratio (width / height) log-uniform in
/// `ratio`, resized bilinearly back to the image's size. After 10 boxes that
/// do not fit, the largest centred box within `ratio` is used.
public struct RandomResizedCrop: Sendable, Equatable, Codable {
    public var scale: ClosedRange<Float>
    public var ratio: ClosedRange<Float>

    public init(scale: ClosedRange<Float> = 0.5...1, ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0)) {
        precondition(scale.lowerBound > 0 && scale.upperBound <= 1, "RandomResizedCrop: scale must lie in (0, 1], got \(scale)")
        precondition(ratio.lowerBound > 0, "RandomResizedCrop: ratio must be positive, got \(ratio)")
        self.scale = scale
        self.ratio = ratio
    }

    /// The box to crop (torchvision's `get_params`).
    public func region(height H: Int, width W: Int, random: inout SeededRandom) -> PixelRect {
        if let box = randomBox(height: H, width: W, area: scale, ratio: ratio, random: &random,
                               fits: { h, w in h > 0 && w > 0 && h <= H && w <= W }) {
            return box
        }
        let (h, w): (Int, Int)
        let aspect = Float(W) / Float(H)
        if aspect < ratio.lowerBound {
            (h, w) = (Int((Float(W) / ratio.lowerBound).rounded()), W)
        } else if aspect > ratio.upperBound {
            (h, w) = (H, Int((Float(H) * ratio.upperBound).rounded()))
        } else {
            (h, w) = (H, W)
        }
        return PixelRect(top: (H - h) / 2, left: (W - w) / 2, height: h, width: w)
    }

    public func apply(to image: inout [Float], channels C: Int, height H: Int, width W: Int, random: inout SeededRandom) {
        let box = region(height: H, width: W, random: &random)
        image = Resize.bilinear(planes: image, channels: C, height: H, width: W, region: box, toHeight: H, toWidth: W)
    }
}

/// torchvision's box sampling (RandomResizedCrop, RandomErasing): up to 10
/// tries of an area fraction uniform in `area` and an aspect ratio (width /
/// height) log-uniform in `ratio`, sides rounded; the first box that `fits`
/// gets a uniform position. nil when none fits.
func randomBox(height H: Int, width W: Int, area: ClosedRange<Float>, ratio: ClosedRange<Float>,
               random: inout SeededRandom, fits: (_ height: Int, _ width: Int) -> Bool) -> PixelRect? {
    let logRatio = (logf(ratio.lowerBound), logf(ratio.upperBound))
    for _ in 0..<10 {
        let target = Float(H * W) * random.uniform(area.lowerBound, area.upperBound)
        let aspect = expf(random.uniform(logRatio.0, logRatio.1))
        let w = Int((target * aspect).squareRoot().rounded())
        let h = Int((target / aspect).squareRoot().rounded())
        guard fits(h, w) else { continue }
        let top = random.int(below: H - h + 1)
        let left = random.int(below: W - w + 1)
        return PixelRect(top: top, left: left, height: h, width: w)
    }
    return nil
}
