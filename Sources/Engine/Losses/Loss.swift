import Foundation

/// What a batch is supposed to predict.
public enum Targets {
    /// One class index per row (single-label classification).
    case classes([Int])
    /// A row of target values per row, shape [N, K]: soft labels for cross-entropy
    /// (rows sum to 1) or 0/1 indicators for multi-label BCE.
    case dense(Tensor)

    public var count: Int {
        switch self {
        case .classes(let c): return c.count
        case .dense(let t): return t.shape[0]
        }
    }

    /// The targets as an [N, K] matrix: class indices become one-hot rows.
    func matrix(rows N: Int, classes K: Int) -> Tensor {
        switch self {
        case .classes(let labels):
            var result = Tensor(zeros: [N, K])
            for (i, label) in labels.enumerated() { result[i * K + label] = 1 }
            return result
        case .dense(let tensor):
            return tensor
        }
    }
}

/// A loss over a batch of logits [N, K]: its mean value and dLoss/dLogits.
public protocol Loss {
    func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor)
}

// Shape letters: N rows (batch), K classes.

/// Checks logits against targets and returns (N, K); mismatches are programming errors.
func batchShape(_ logits: Tensor, _ targets: Targets, _ loss: String) -> (N: Int, K: Int) {
    precondition(logits.rank == 2, "\(loss): logits must be [N, K], got \(logits.shape)")
    let (N, K) = (logits.shape[0], logits.shape[1])
    switch targets {
    case .classes(let labels):
        precondition(labels.count == N, "\(loss): \(labels.count) labels for logits \(logits.shape)")
        for label in labels where !(0..<K).contains(label) {
            preconditionFailure("\(loss): class index \(label) outside 0..<\(K) for logits \(logits.shape)")
        }
    case .dense(let tensor):
        precondition(tensor.shape == logits.shape, "\(loss): targets \(tensor.shape) do not match logits \(logits.shape)")
    }
    return (N, K)
}

/// Σ_ik c_ik·(-log p_ik) / denominator and its gradient (Σ_k c_ik·p_ij - c_ij) / denominator:
/// every cross-entropy variant here is this sum with its own coefficients c.
func weightedCrossEntropy(logits: Tensor, coefficients c: Tensor, denominator: Float) -> (value: Float, dLogits: Tensor) {
    let (N, K) = (logits.shape[0], logits.shape[1])
    let logP = logSoftmax(logits)
    var dLogits = Tensor(uninitialized: logits.shape)
    var total = 0.0
    let scale = 1 / denominator
    for i in 0..<N {
        var rowWeight: Float = 0
        for k in 0..<K {
            total -= Double(c[i * K + k]) * Double(logP[i * K + k])
            rowWeight += c[i * K + k]
        }
        for k in 0..<K {
            dLogits[i * K + k] = (rowWeight * expf(logP[i * K + k]) - c[i * K + k]) * scale
        }
    }
    return (Float(total / Double(denominator)), dLogits)
}

/// torch.nn.CrossEntropyLoss with mean reduction. With class weights the mean is
/// Σ w_y·l / Σ w_y for class targets and a plain mean over rows for soft targets;
/// label smoothing mixes the target with the uniform distribution, weighted the
/// way torch weights it.
public struct CrossEntropyLoss: Loss {
    public let labelSmoothing: Float
    public let classWeights: [Float]?

    public init(labelSmoothing: Float = 0, classWeights: [Float]? = nil) {
        precondition((0...1).contains(labelSmoothing), "CrossEntropyLoss: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
        self.labelSmoothing = labelSmoothing
        self.classWeights = classWeights
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "CrossEntropyLoss")
        let weights = classWeights ?? [Float](repeating: 1, count: K)
        precondition(weights.count == K, "CrossEntropyLoss: \(weights.count) class weights for logits \(logits.shape)")
        let (keep, uniform) = (1 - labelSmoothing, labelSmoothing / Float(K))
        var c = Tensor(zeros: [N, K])
        var denominator: Float = 0
        switch targets {
        case .classes(let labels):
            for (i, label) in labels.enumerated() {
                for k in 0..<K { c[i * K + k] = uniform * weights[k] }
                c[i * K + label] += keep * weights[label]
                denominator += weights[label]
            }
        case .dense(let t):
            for i in 0..<N {
                for k in 0..<K { c[i * K + k] = weights[k] * (keep * t[i * K + k] + uniform) }
            }
            denominator = Float(N)
        }
        return weightedCrossEntropy(logits: logits, coefficients: c, denominator: denominator)
    }
}

/// torch.nn.BCEWithLogitsLoss, mean over all N·K elements, in the stable form
/// (1 - y)·x + (1 + (w - 1)·y)·log(1 + e^-x) with log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|).
/// Class targets become one-hot rows; with a single column a class index is the 0/1 target.
public struct BCEWithLogitsLoss: Loss {
    public let positiveWeight: [Float]?

    public init(positiveWeight: [Float]? = nil) {
        self.positiveWeight = positiveWeight
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = binaryShape(logits, targets)
        let y = binaryTargets(targets, N: N, K: K)
        let weights = positiveWeight ?? [Float](repeating: 1, count: K)
        precondition(weights.count == K, "BCEWithLogitsLoss: \(weights.count) positive weights for logits \(logits.shape)")
        var dLogits = Tensor(uninitialized: logits.shape)
        var total = 0.0
        let scale = 1 / Float(N * K)
        for i in 0..<N {
            for k in 0..<K {
                let (x, target) = (logits[i * K + k], y[i * K + k])
                let logWeight = 1 + (weights[k] - 1) * target
                let softplusNegative = max(-x, 0) + log1pf(expf(-abs(x)))
                total += Double((1 - target) * x + logWeight * softplusNegative)
                // d/dx log(1 + e^-x) = -σ(-x), with σ(-x) formed without overflow.
                let e = expf(-abs(x))
                let sigmoidNegative = x >= 0 ? e / (1 + e) : 1 / (1 + e)
                dLogits[i * K + k] = ((1 - target) - logWeight * sigmoidNegative) * scale
            }
        }
        return (Float(total / Double(N * K)), dLogits)
    }

    private func binaryShape(_ logits: Tensor, _ targets: Targets) -> (N: Int, K: Int) {
        precondition(logits.rank == 2, "BCEWithLogitsLoss: logits must be [N, K], got \(logits.shape)")
        if case .classes(let labels) = targets, logits.shape[1] == 1 {
            precondition(labels.count == logits.shape[0], "BCEWithLogitsLoss: \(labels.count) labels for logits \(logits.shape)")
            precondition(labels.allSatisfy { $0 == 0 || $0 == 1 }, "BCEWithLogitsLoss: single-column labels must be 0 or 1")
            return (logits.shape[0], 1)
        }
        return batchShape(logits, targets, "BCEWithLogitsLoss")
    }

    private func binaryTargets(_ targets: Targets, N: Int, K: Int) -> Tensor {
        if case .classes(let labels) = targets, K == 1 {
            return Tensor(shape: [N, 1], scalars: labels.map { Float($0) })
        }
        return targets.matrix(rows: N, classes: K)
    }
}

/// Multiclass softmax focal loss (Lin et al.): -α·Σ_k t_k (1 - p_k)^γ log p_k per row,
/// mean over rows. γ = 0 and α = 1 is cross-entropy. Soft targets are allowed.
public struct FocalLoss: Loss {
    public let gamma: Float
    public let alpha: Float?

    public init(gamma: Float = 2, alpha: Float? = nil) {
        precondition(gamma >= 0, "FocalLoss: gamma must be ≥ 0, got \(gamma)")
        self.gamma = gamma
        self.alpha = alpha
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "FocalLoss")
        let t = targets.matrix(rows: N, classes: K)
        let logP = logSoftmax(logits)
        let scale = (alpha ?? 1) / Float(N)
        var dLogits = Tensor(uninitialized: logits.shape)
        var total = 0.0
        var a = [Float](repeating: 0, count: K)
        for i in 0..<N {
            var sumA: Float = 0
            for k in 0..<K {
                let (target, logPk) = (t[i * K + k], logP[i * K + k])
                let p = expf(logPk)
                let q = max(1 - p, 0)
                let modulation = powf(q, gamma)
                total -= Double(target * modulation * logPk)
                // a_k = p_k · d(row loss)/dp_k: the chain through the softmax is a_j - p_j Σ a_k.
                let slope = gamma > 0 && q > 0 ? gamma * powf(q, gamma - 1) * p * logPk : 0
                a[k] = target * (slope - modulation)
                sumA += a[k]
            }
            for k in 0..<K {
                dLogits[i * K + k] = (a[k] - expf(logP[i * K + k]) * sumA) * scale
            }
        }
        return (Float(total) * scale, dLogits)
    }
}

/// Online hard example mining: per-row cross-entropy, mean of the ⌈keepFraction·N⌉
/// largest; the other rows get no gradient. Ties keep the lower row index.
public struct OHEMLoss: Loss {
    public let keepFraction: Float

    public init(keepFraction: Float) {
        precondition(keepFraction > 0 && keepFraction <= 1, "OHEMLoss: keepFraction must be in (0, 1], got \(keepFraction)")
        self.keepFraction = keepFraction
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "OHEMLoss")
        let t = targets.matrix(rows: N, classes: K)
        let logP = logSoftmax(logits)
        var rowLosses = [Float](repeating: 0, count: N)
        for i in 0..<N {
            for k in 0..<K { rowLosses[i] -= t[i * K + k] * logP[i * K + k] }
        }
        // The tolerance keeps e.g. 0.3·10 at 3 although Float(0.3) is slightly above 0.3.
        let wanted = Int((Double(keepFraction) * Double(N) - 1e-4).rounded(.up))
        let keepCount = min(N, max(1, wanted))
        let order = (0..<N).sorted { rowLosses[$0] > rowLosses[$1] || (rowLosses[$0] == rowLosses[$1] && $0 < $1) }
        var c = Tensor(zeros: [N, K])
        for i in order.prefix(keepCount) {
            for k in 0..<K { c[i * K + k] = t[i * K + k] }
        }
        return weightedCrossEntropy(logits: logits, coefficients: c, denominator: Float(keepCount))
    }
}
