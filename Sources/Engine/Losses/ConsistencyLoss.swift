import Foundation

/// The mean teacher's consistency cost (Tarvainen & Valpola, 2017): the mean
/// squared difference between the student's softmax and the teacher's
/// probabilities (the `.dense` targets), Σ (p_s − p_t)² / (N·K), scaled by
/// `weight`. The teacher's side is a constant: no gradient flows into it.
public struct ConsistencyLoss: Loss {
    public var weight: Float
    public init(weight: Float = 1) { self.weight = weight }

    public func evaluate(logits: Tensor, targets: Targets) -> (value: Float, dLogits: Tensor) {
        let (N, K) = batchShape(logits, targets, "ConsistencyLoss")
        guard case .dense(let teacher) = targets else {
            preconditionFailure("ConsistencyLoss: targets are the teacher's probabilities, pass .dense")
        }
        let p = softmax(logits)
        let scale = weight / Float(N * K)
        var total = 0.0
        var dLogits = Tensor(uninitialized: logits.shape)
        for i in 0..<N {
            // dL/dp_k = 2·scale·(p_k − t_k); through the softmax: dz_j = p_j·(g_j − Σ_k g_k p_k).
            var dot: Float = 0
            for k in 0..<K {
                let difference = p[i * K + k] - teacher[i * K + k]
                total += Double(difference * difference)
                dot += 2 * scale * difference * p[i * K + k]
            }
            for j in 0..<K {
                let g = 2 * scale * (p[i * K + j] - teacher[i * K + j])
                dLogits[i * K + j] = p[i * K + j] * (g - dot)
            }
        }
        return (Float(total) * scale, dLogits)
    }
}
