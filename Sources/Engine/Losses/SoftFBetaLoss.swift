import Foundation

// Shape letters: N rows (batch), K classes.

/// 1 − soft F-beta, macro-averaged over the K classes: the metric computed on
/// probabilities instead of hard predictions, so it can be trained directly
/// when the competition scores F-beta. Per class over the batch's rows,
/// tp = Σ p·t, and F = (1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp), whose
/// denominator simplifies to β²·Σ t + Σ p; `epsilon` keeps it away from 0.
/// A class absent from the batch scores 0 and gets no gradient.
public struct SoftFBetaLoss: Loss {
    /// How logits become probabilities.
    public enum Activation: String, Sendable {
        /// One class per row (single-label; soft targets from mixup stay single-label).
        case softmax
        /// Independent per class (multi-label, or one-vs-rest on class indices).
        case sigmoid
    }

    public let beta: Float
    public let activation: Activation
    public let epsilon: Float

    public init(beta: Float = 1, activation: Activation = .softmax, epsilon: Float = 1e-7) {
        precondition(beta > 0 && beta.isFinite, "SoftFBetaLoss: beta must be > 0, got \(beta)")
        precondition(epsilon > 0, "SoftFBetaLoss: epsilon must be > 0, got \(epsilon)")
        self.beta = beta
        self.activation = activation
        self.epsilon = epsilon
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "SoftFBetaLoss")
        let t = targets.matrix(rows: N, classes: K)
        let softmaxLayer = SoftmaxLayer()
        let p: Tensor
        switch activation {
        case .softmax: p = softmaxLayer.forward(logits, mode: .train)
        case .sigmoid: p = Tensor(shape: logits.shape, scalars: logits.scalars.map { 1 / (1 + expf(-$0)) })
        }
        let (b2, scale) = (beta * beta, 1 / Float(K))
        var dP = Tensor(zeros: logits.shape)
        var fSum: Float = 0
        for k in 0..<K {
            var (tp, positives, predicted): (Float, Float, Float) = (0, 0, 0)
            for i in 0..<N {
                tp += p[i * K + k] * t[i * K + k]
                positives += t[i * K + k]
                predicted += p[i * K + k]
            }
            let denominator = b2 * positives + predicted + epsilon
            fSum += (1 + b2) * tp / denominator
            // dF/dp_i = (1 + β²)·(t_i·D − tp) / D², and the loss is 1 − mean F.
            let factor = -(1 + b2) * scale / (denominator * denominator)
            for i in 0..<N { dP[i * K + k] = factor * (t[i * K + k] * denominator - tp) }
        }
        switch activation {
        case .softmax:
            return (1 - fSum * scale, softmaxLayer.backward(dP))
        case .sigmoid:
            for i in 0..<dP.count { dP[i] *= p[i] * (1 - p[i]) }
            return (1 - fSum * scale, dP)
        }
    }
}
