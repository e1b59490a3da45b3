import Foundation

// Shape letters: N rows (batch), K classes.

/// ArcFace (Deng et al., 2019): additive angular margin. The logits are s·cosθ
/// from a cosine classifier with the same scale s; the target class's logit
/// becomes s·cos(θ + m) before cross-entropy, so a class must win by an angle m.
/// Where θ + m would pass π (cosθ ≤ cos(π − m)) cos(θ + m) stops decreasing, so
/// the target logit is s·(cosθ − m·sin m) there instead, as insightface and timm do.
public struct ArcFaceLoss: Loss {
    public let scale: Float
    public let margin: Float

    public init(scale: Float = 30, margin: Float = 0.5) {
        precondition(scale > 0, "ArcFaceLoss: scale must be > 0, got \(scale)")
        precondition(margin >= 0 && margin < .pi, "ArcFaceLoss: margin must be in [0, π), got \(margin)")
        self.scale = scale
        self.margin = margin
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (cosM, sinM) = (cos(margin), sin(margin))
        let threshold = -cosM
        // Keeps sinθ away from 0, where d cos(θ + m)/d cosθ = cos m + sin m·cosθ/sinθ is unbounded.
        let limit: Float = 1 - 1e-6
        return marginCrossEntropy(logits: logits, targets: targets, scale: scale, loss: "ArcFaceLoss") { cosine in
            guard cosine > threshold else { return (cosine - margin * sinM, 1) }
            guard cosine < limit else { return (limit * cosM - (1 - limit * limit).squareRoot() * sinM, 0) }
            let sine = (1 - cosine * cosine).squareRoot()
            return (cosine * cosM - sine * sinM, cosM + sinM * cosine / sine)
        }
    }
}

/// CosFace / AM-softmax (Wang et al., 2018): additive cosine margin. The logits
/// are s·cosθ from a cosine classifier with the same scale s; the target class's
/// logit becomes s·(cosθ − m) before cross-entropy.
public struct CosFaceLoss: Loss {
    public let scale: Float
    public let margin: Float

    public init(scale: Float = 30, margin: Float = 0.35) {
        precondition(scale > 0, "CosFaceLoss: scale must be > 0, got \(scale)")
        precondition(margin >= 0, "CosFaceLoss: margin must be ≥ 0, got \(margin)")
        self.scale = scale
        self.margin = margin
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        marginCrossEntropy(logits: logits, targets: targets, scale: scale, loss: "CosFaceLoss") { cosine in
            (cosine - margin, 1)
        }
    }
}

/// Mean cross-entropy of s·cosθ logits in which the target class's cosine is
/// replaced by `margined(cosθ)` (its value and its slope d/dcosθ).
///
/// Soft targets t (e.g. from mixup or cutmix) mix the per-class losses:
/// Σ_k t_k·CE(logits with the margin on class k, k), so mixed targets train
/// exactly λ·loss(y_a) + (1 − λ)·loss(y_b), each with its own margin. Every row
/// is expanded into one row per nonzero target entry for that.
func marginCrossEntropy(logits: Tensor, targets: Targets, scale s: Float, loss: String,
                        margined: (Float) -> (value: Float, slope: Float)) -> (value: Float, dLogits: Tensor) {
    let (N, K) = batchShape(logits, targets, loss)
    var entries: [(row: Int, label: Int, weight: Float)] = []
    switch targets {
    case .classes(let labels):
        entries = labels.enumerated().map { ($0.offset, $0.element, 1) }
    case .dense(let t):
        for i in 0..<N {
            for k in 0..<K where t[i * K + k] != 0 { entries.append((i, k, t[i * K + k])) }
        }
    }
    var expanded = Tensor(uninitialized: [entries.count, K])
    var coefficients = Tensor(zeros: [entries.count, K])
    var slopes = [Float](repeating: 0, count: entries.count)
    for (p, entry) in entries.enumerated() {
        for k in 0..<K { expanded[p * K + k] = logits[entry.row * K + k] }
        let (value, slope) = margined(logits[entry.row * K + entry.label] / s)
        expanded[p * K + entry.label] = s * value
        slopes[p] = slope
        coefficients[p * K + entry.label] = entry.weight
    }
    let (value, dExpanded) = weightedCrossEntropy(logits: expanded, coefficients: coefficients, denominator: Float(N))
    // d(s·φ(z/s))/dz = φ'(z/s) on the margined entry; the others pass through.
    var dLogits = Tensor(zeros: logits.shape)
    for (p, entry) in entries.enumerated() {
        for k in 0..<K {
            dLogits[entry.row * K + k] += dExpanded[p * K + k] * (k == entry.label ? slopes[p] : 1)
        }
    }
    return (value, dLogits)
}
