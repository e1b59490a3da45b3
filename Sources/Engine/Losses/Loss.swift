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
}

/// A loss over a batch of logits [N, K]: its mean value and dLoss/dLogits.
public protocol Loss {
    func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor)
}
