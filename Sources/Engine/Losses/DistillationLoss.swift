import Foundation

// Shape letters: N rows (batch), K classes.

/// Knowledge distillation (Hinton et al., 2015), mean over rows:
/// (1 − α)·CE(z, y) + α·T²·CE(q, softmax(z / T)), where y is each row's hard
/// label and q the teacher's probabilities p at temperature T:
/// q ∝ p^(1/T), i.e. softmax(log p / T). The soft term's gradient shrinks as
/// 1/T, and T² keeps it on the hard term's scale whatever the temperature.
///
/// Its targets carry both parts; build them with `DistillationLoss.targets(labels:teacher:)`.
public struct DistillationLoss: Loss {
    public let temperature: Float
    public let alpha: Float

    public init(temperature: Float, alpha: Float) {
        precondition(temperature > 0 && temperature.isFinite, "DistillationLoss: temperature must be positive, got \(temperature)")
        precondition((0...1).contains(alpha), "DistillationLoss: alpha must be in [0, 1], got \(alpha)")
        (self.temperature, self.alpha) = (temperature, alpha)
    }

    /// A batch's targets: the hard labels as one-hot rows stacked on the
    /// teacher's probabilities [N, K], as one dense [2, N, K] tensor.
    public static func targets(labels: [Int], teacher: Tensor) -> Targets {
        precondition(teacher.rank == 2 && teacher.shape[0] == labels.count,
                     "DistillationLoss: teacher probabilities \(teacher.shape) for \(labels.count) labels")
        let (N, K) = (teacher.shape[0], teacher.shape[1])
        var stacked = [Float](repeating: 0, count: N * K)
        for (i, label) in labels.enumerated() {
            precondition((0..<K).contains(label), "DistillationLoss: class index \(label) outside 0..<\(K)")
            stacked[i * K + label] = 1
        }
        return .dense(Tensor(shape: [2, N, K], scalars: stacked + teacher.scalars))
    }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (hard, teacher) = split(targets, logits: logits)
        let N = Float(logits.shape[0])
        let hardPart = weightedCrossEntropy(logits: logits, coefficients: scaled(hard, by: 1 - alpha), denominator: N)
        let T = temperature
        let softPart = weightedCrossEntropy(logits: scaled(logits, by: 1 / T),
                                            coefficients: scaled(tempered(teacher), by: alpha * T * T), denominator: N)
        // The soft term differentiates through z / T, hence the extra 1 / T.
        var dLogits = hardPart.dLogits
        for i in 0..<dLogits.count { dLogits[i] += softPart.dLogits[i] / T }
        return (hardPart.value + softPart.value, dLogits)
    }

    /// The teacher's probabilities at the loss's temperature, p^(1/T) renormalised
    /// per row, computed relative to the row's largest p so small T cannot underflow.
    public func tempered(_ teacher: Tensor) -> Tensor {
        let K = teacher.shape[1]
        var result = Tensor(zeros: teacher.shape)
        for row in 0..<teacher.shape[0] {
            let base = row * K
            var largest: Float = 0
            for k in 0..<K { largest = max(largest, teacher[base + k]) }
            precondition(largest > 0, "DistillationLoss: teacher row \(row) has no positive probability")
            var sum: Float = 0
            for k in 0..<K where teacher[base + k] > 0 {
                let value = expf((logf(teacher[base + k]) - logf(largest)) / temperature)
                result[base + k] = value
                sum += value
            }
            for k in 0..<K { result[base + k] /= sum }
        }
        return result
    }

    private func split(_ targets: Targets, logits: Tensor) -> (hard: Tensor, teacher: Tensor) {
        precondition(logits.rank == 2, "DistillationLoss: logits must be [N, K], got \(logits.shape)")
        guard case .dense(let stacked) = targets, stacked.shape == [2] + logits.shape else {
            preconditionFailure("DistillationLoss: targets must be DistillationLoss.targets(labels:teacher:) of shape [2, N, K] for logits \(logits.shape)")
        }
        let half = logits.count
        for value in stacked.scalars[half...] {
            precondition(value >= 0 && value.isFinite, "DistillationLoss: teacher probability \(value) is not a probability")
        }
        return (Tensor(shape: logits.shape, scalars: Array(stacked.scalars[..<half])),
                Tensor(shape: logits.shape, scalars: Array(stacked.scalars[half...])))
    }

    private func scaled(_ tensor: Tensor, by factor: Float) -> Tensor {
        Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * factor })
    }
}
