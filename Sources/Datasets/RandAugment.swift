import Foundation
import Engine

/// RandAugment (Cubuk et al., 2020) as torchvision runs it: `n` operations,
/// each chosen uniformly from `RandAugment.Operation`, each at the same
/// `magnitude` on torchvision's 0–30 scale (31 bins; 9 is its default) with a
/// random sign. Geometric operations sample bilinearly and fill with 0, the
/// mean colour; magnitude 0 is the identity.
public struct RandAugment: Sendable, Equatable, Codable {
    public enum Operation: String, Sendable, CaseIterable {
        case rotate, shearX, shearY, translateX, translateY, brightness, contrast

        /// The amount at magnitude 30 (torchvision's largest bin): degrees for
        /// rotate, shear factors, a fraction of the side for translations, and
        /// the change of the enhancement factor for brightness and contrast.
        var largest: Double {
            switch self {
            case .rotate: return 30
            case .shearX, .shearY: return 0.3
            case .translateX, .translateY: return 150.0 / 331.0
            case .brightness, .contrast: return 0.9
            }
        }
    }

    public static let largestMagnitude: Float = 30

    public var n: Int
    public var magnitude: Float

    public init(n: Int = 2, magnitude: Float = 9) {
        precondition(n >= 0, "RandAugment: n must be ≥ 0, got \(n)")
        precondition((0...Self.largestMagnitude).contains(magnitude), "RandAugment: magnitude must be in 0...30, got \(magnitude)")
        self.n = n
        self.magnitude = magnitude
    }

    /// Draws the operation, then its sign, `n` times.
    public func apply(to image: inout [Float], channels C: Int, height H: Int, width W: Int, random: inout SeededRandom) {
        let operations = Operation.allCases
        for _ in 0..<n {
            let operation = operations[random.int(below: operations.count)]
            let sign: Double = random.nextFloat() < 0.5 ? -1 : 1
            let amount = sign * operation.largest * Double(magnitude / Self.largestMagnitude)
            Self.apply(operation, amount: amount, to: &image, channels: C, height: H, width: W)
        }
    }

    /// One operation at a signed amount (see `Operation.largest` for its unit).
    /// Brightness and contrast act on normalised values, where raw pixels are
    /// unknown: brightness adds the amount (in standard deviations), contrast
    /// scales each channel's deviation from its mean by 1 + amount. Values are
    /// not clamped.
    public static func apply(_ operation: Operation, amount: Double, to image: inout [Float],
                             channels C: Int, height H: Int, width W: Int) {
        switch operation {
        case .brightness:
            let shift = Float(amount)
            for i in image.indices { image[i] += shift }
        case .contrast:
            let change = Float(amount)
            for c in 0..<C {
                let plane = (c * H * W)..<((c + 1) * H * W)
                let mean = image[plane].reduce(0, +) / Float(H * W)
                for i in plane { image[i] += change * (image[i] - mean) }
            }
        default:
            image = AffineMap(operation, amount: amount, height: H, width: W)
                .warp(image, channels: C, height: H, width: W)
        }
    }
}

/// Where each output pixel (x, y) samples the input, in pixel-index coordinates:
/// (a·x + b·y + c, d·x + e·y + f).
struct AffineMap {
    var a = 1.0, b = 0.0, c = 0.0
    var d = 0.0, e = 1.0, f = 0.0

    /// Rotation is counter-clockwise by `amount` degrees about the image centre
    /// (torchvision); shears are about the top-left corner (PIL and torchvision's
    /// RandAugment); translations move the content right / down by amount·side.
    init(_ operation: RandAugment.Operation, amount: Double, height H: Int, width W: Int) {
        switch operation {
        case .rotate:
            let radians = amount * .pi / 180
            let (cosine, sine) = (cos(radians), sin(radians))
            let (cx, cy) = (Double(W - 1) / 2, Double(H - 1) / 2)
            (a, b, c) = (cosine, -sine, cx - cosine * cx + sine * cy)
            (d, e, f) = (sine, cosine, cy - sine * cx - cosine * cy)
        case .shearX: (b, c) = (amount, amount / 2)
        case .shearY: (d, f) = (amount, amount / 2)
        case .translateX: c = -amount * Double(W)
        case .translateY: f = -amount * Double(H)
        case .brightness, .contrast: preconditionFailure("AffineMap: \(operation) is not geometric")
        }
    }

    /// The C×H×W image resampled bilinearly through the map; neighbours outside the image count as 0.
    func warp(_ image: [Float], channels C: Int, height H: Int, width W: Int) -> [Float] {
        var output = [Float](repeating: 0, count: image.count)
        for y in 0..<H {
            for x in 0..<W {
                let sx = a * Double(x) + b * Double(y) + c
                let sy = d * Double(x) + e * Double(y) + f
                let (x0, y0) = (Int(sx.rounded(.down)), Int(sy.rounded(.down)))
                let (wx, wy) = (Float(sx - Double(x0)), Float(sy - Double(y0)))
                for (ty, rowWeight) in [(y0, 1 - wy), (y0 + 1, wy)] where rowWeight != 0 && (0..<H).contains(ty) {
                    for (tx, columnWeight) in [(x0, 1 - wx), (x0 + 1, wx)] where columnWeight != 0 && (0..<W).contains(tx) {
                        for channel in 0..<C {
                            output[(channel * H + y) * W + x] += rowWeight * columnWeight * image[(channel * H + ty) * W + tx]
                        }
                    }
                }
            }
        }
        return output
    }
}
