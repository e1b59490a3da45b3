import Foundation

// Row-wise over the last dimension: a tensor [..., K] is N = count / K rows of K.

/// exp(x - max) / Σ exp(x - max) per row; subtracting the row maximum keeps
/// exp from overflowing.
public func softmax(_ logits: Tensor) -> Tensor {
    var output = Tensor(uninitialized: logits.shape)
    let K = rowLength(logits)
    for row in 0..<(K == 0 ? 0 : logits.count / K) {
        let base = row * K
        var largest = -Float.infinity
        for k in 0..<K { largest = max(largest, logits.scalars[base + k]) }
        var sum: Float = 0
        for k in 0..<K {
            let e = expf(logits.scalars[base + k] - largest)
            output.scalars[base + k] = e
            sum += e
        }
        let inverse = 1 / sum
        for k in 0..<K { output.scalars[base + k] *= inverse }
    }
    return output
}

/// x - max - log Σ exp(x - max) per row, without forming the probabilities.
public func logSoftmax(_ logits: Tensor) -> Tensor {
    var output = Tensor(uninitialized: logits.shape)
    let K = rowLength(logits)
    for row in 0..<(K == 0 ? 0 : logits.count / K) {
        let base = row * K
        var largest = -Float.infinity
        for k in 0..<K { largest = max(largest, logits.scalars[base + k]) }
        var sum: Float = 0
        for k in 0..<K { sum += expf(logits.scalars[base + k] - largest) }
        let shift = largest + logf(sum)
        for k in 0..<K { output.scalars[base + k] = logits.scalars[base + k] - shift }
    }
    return output
}

private func rowLength(_ tensor: Tensor) -> Int {
    precondition(tensor.rank >= 1, "softmax: needs a tensor of rank ≥ 1, got shape \(tensor.shape)")
    return tensor.shape[tensor.rank - 1]
}

/// Softmax over the last dimension as a layer (e.g. to output probabilities).
public final class SoftmaxLayer: Layer {
    private var output = Tensor(zeros: [0])
    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let y = softmax(input)
        if mode == .train { output = y }
        return y
    }

    /// dx_k = y_k (dy_k - Σ_j dy_j y_j)
    public func backward(_ dOutput: Tensor) -> Tensor {
        precondition(dOutput.shape == output.shape,
                     "SoftmaxLayer.backward: dOutput \(dOutput.shape) does not match output \(output.shape)")
        var dInput = Tensor(uninitialized: dOutput.shape)
        let K = rowLength(output)
        for row in 0..<(K == 0 ? 0 : output.count / K) {
            let base = row * K
            var dot: Float = 0
            for k in 0..<K { dot += dOutput.scalars[base + k] * output.scalars[base + k] }
            for k in 0..<K {
                dInput.scalars[base + k] = output.scalars[base + k] * (dOutput.scalars[base + k] - dot)
            }
        }
        return dInput
    }

    public var parameters: [Parameter] { [] }
}

/// Log-softmax over the last dimension as a layer.
public final class LogSoftmaxLayer: Layer {
    private var output = Tensor(zeros: [0])
    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let y = logSoftmax(input)
        if mode == .train { output = y }
        return y
    }

    /// dx_k = dy_k - exp(y_k) Σ_j dy_j
    public func backward(_ dOutput: Tensor) -> Tensor {
        precondition(dOutput.shape == output.shape,
                     "LogSoftmaxLayer.backward: dOutput \(dOutput.shape) does not match output \(output.shape)")
        var dInput = Tensor(uninitialized: dOutput.shape)
        let K = rowLength(output)
        for row in 0..<(K == 0 ? 0 : output.count / K) {
            let base = row * K
            var sum: Float = 0
            for k in 0..<K { sum += dOutput.scalars[base + k] }
            for k in 0..<K {
                dInput.scalars[base + k] = dOutput.scalars[base + k] - expf(output.scalars[base + k]) * sum
            }
        }
        return dInput
    }

    public var parameters: [Parameter] { [] }
}
