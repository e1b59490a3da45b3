import Foundation
import Engine

/// Mixup (Zhang et al., 2018) and CutMix (Yun et al., 2019) on a whole batch:
/// each row is paired with a row of a random permutation of the batch, and
/// both its image and its target become λ·own + (1 − λ)·partner, λ ~ Beta(α, α).
/// Mixup blends the images; CutMix pastes the partner's image into a random
/// box and corrects λ to the area actually kept. With cross-entropy on the
/// mixed dense targets the loss is exactly λ·loss(y_a) + (1 − λ)·loss(y_b).
///
/// When both are set, each batch picks one with probability ½ (timm's
/// switch_prob 0.5), which then happens with its own probability `p`.
public struct BatchMixing: Sendable, Equatable {
    public struct Method: Sendable, Equatable {
        /// Beta(α, α) concentration: small α keeps λ near 0 or 1.
        public var alpha: Float
        /// Probability that a batch is mixed at all.
        public var p: Float

        public init(alpha: Float, p: Float) {
            precondition(alpha > 0 && alpha.isFinite, "BatchMixing: alpha must be > 0, got \(alpha)")
            precondition((0...1).contains(p), "BatchMixing: p must be in [0, 1], got \(p)")
            self.alpha = alpha
            self.p = p
        }
    }

    /// What one batch gets.
    public struct Draw: Sendable, Equatable {
        /// The weight of each row's own image and target.
        public var lambda: Float
        /// Row i is mixed with row partners[i] (a permutation of the batch).
        public var partners: [Int]
        /// CutMix's pasted box; nil for mixup.
        public var box: PixelRect?
    }

    public var mixup: Method?
    public var cutmix: Method?

    public init(mixup: Method? = nil, cutmix: Method? = nil) {
        self.mixup = mixup
        self.cutmix = cutmix
    }

    /// Mixes the batch in place and returns its targets as dense [N, classes]
    /// rows (λ·y_a + (1 − λ)·y_b), or the targets unchanged when the batch is
    /// not mixed. Derive `random` from the task, epoch and batch.
    public func apply(images: inout Tensor, targets: Targets, classes K: Int, random: inout SeededRandom) -> Targets {
        precondition(images.rank == 4, "BatchMixing: images must be [N, C, H, W], got \(images.shape)")
        guard let draw = draw(batch: images.shape[0], height: images.shape[2], width: images.shape[3], random: &random)
        else { return targets }
        return Self.mix(draw, images: &images, targets: targets, classes: K)
    }

    /// The batch's draw, or nil when it stays unmixed. The stream is read in a
    /// fixed order: the method (only when both are set), whether to mix, λ, the
    /// permutation, then CutMix's box centre (y, x).
    public func draw(batch N: Int, height H: Int, width W: Int, random: inout SeededRandom) -> Draw? {
        let useCutmix: Bool
        switch (mixup, cutmix) {
        case (nil, nil): return nil
        case (_?, nil): useCutmix = false
        case (nil, _?): useCutmix = true
        case (_?, _?): useCutmix = random.nextFloat() < 0.5
        }
        guard let method = useCutmix ? cutmix : mixup, random.nextFloat() < method.p else { return nil }
        let lambda = random.beta(method.alpha, method.alpha)
        let partners = seededPermutation(N, seed: random.next())
        guard useCutmix else { return Draw(lambda: lambda, partners: partners, box: nil) }
        let box = Self.cutmixBox(height: H, width: W, lambda: lambda, random: &random)
        return Draw(lambda: 1 - Float(box.area) / Float(H * W), partners: partners, box: box)
    }

    /// timm's rand_bbox: sides √(1 − λ) of the image's, centred at a uniform
    /// pixel and clipped to the image (so the kept area can exceed λ).
    static func cutmixBox(height H: Int, width W: Int, lambda: Float, random: inout SeededRandom) -> PixelRect {
        let cut = (1 - lambda).squareRoot()
        let (cutH, cutW) = (Int(Float(H) * cut), Int(Float(W) * cut))
        let (cy, cx) = (random.int(below: H), random.int(below: W))
        let (top, bottom) = (min(max(cy - cutH / 2, 0), H), min(max(cy + cutH / 2, 0), H))
        let (left, right) = (min(max(cx - cutW / 2, 0), W), min(max(cx + cutW / 2, 0), W))
        return PixelRect(top: top, left: left, height: bottom - top, width: right - left)
    }

    /// Applies a draw: the images in place, the targets as mixed dense rows.
    public static func mix(_ draw: Draw, images: inout Tensor, targets: Targets, classes K: Int) -> Targets {
        let (N, C, H, W) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(draw.partners.count == N && targets.count == N,
                     "BatchMixing: \(draw.partners.count) partners and \(targets.count) targets for \(N) images")
        let source = images
        let lambda = draw.lambda
        let imageSize = C * H * W
        for (i, j) in draw.partners.enumerated() {
            if let box = draw.box {
                for c in 0..<C {
                    for y in box.top..<(box.top + box.height) {
                        let row = i * imageSize + (c * H + y) * W
                        let partnerRow = j * imageSize + (c * H + y) * W
                        for x in box.left..<(box.left + box.width) { images[row + x] = source[partnerRow + x] }
                    }
                }
            } else {
                for v in 0..<imageSize {
                    images[i * imageSize + v] = lambda * source[i * imageSize + v] + (1 - lambda) * source[j * imageSize + v]
                }
            }
        }
        let rows = denseRows(targets, classes: K)
        var mixed = Tensor(zeros: [N, K])
        for (i, j) in draw.partners.enumerated() {
            for k in 0..<K { mixed[i * K + k] = lambda * rows[i * K + k] + (1 - lambda) * rows[j * K + k] }
        }
        return .dense(mixed)
    }

    private static func denseRows(_ targets: Targets, classes K: Int) -> Tensor {
        switch targets {
        case .classes(let labels):
            var rows = Tensor(zeros: [labels.count, K])
            for (i, label) in labels.enumerated() {
                precondition((0..<K).contains(label), "BatchMixing: class index \(label) outside 0..<\(K)")
                rows[i * K + label] = 1
            }
            return rows
        case .dense(let rows):
            precondition(rows.shape == [targets.count, K], "BatchMixing: dense targets \(rows.shape), expected [N, \(K)]")
            return rows
        }
    }
}

extension SeededRandom {
    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). Both can
    /// underflow to 0 only for a and b below about 0.05; that gives ½.
    mutating func beta(_ a: Float, _ b: Float) -> Float {
        let x = gamma(Double(a))
        let y = gamma(Double(b))
        return x + y > 0 ? Float(x / (x + y)) : 0.5
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang (2000); shapes below 1 use
    /// Gamma(shape + 1)·U^(1/shape).
    mutating func gamma(_ shape: Double) -> Double {
        if shape < 1 {
            let u = Double(max(nextFloat(), 1e-7))
            return gamma(shape + 1) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = Double(normal())
            let v = pow(1 + c * x, 3)
            guard v > 0 else { continue }
            let u = Double(max(nextFloat(), 1e-7))
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
