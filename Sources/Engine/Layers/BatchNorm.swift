import Kernels

/// Batch normalisation for [N, C, H, W] (2-d) or [N, C] (1-d) inputs, with an
/// optional fused ReLU. Training mode normalises with batch statistics and
/// updates the running ones (momentum 0.1, unbiased variance, as PyTorch);
/// eval mode uses the running statistics. Without `trainableBias` the bias is
/// a buffer fixed at zero (BNNeck): saved, never trained or decayed.
public final class BatchNorm: Layer {
    public let weight, bias, runningMean, runningVariance: Parameter
    public let relu: Bool
    public let momentum: Float
    public let epsilon: Float
    private var input = Tensor(zeros: [0]), output = Tensor(zeros: [0])
    private var mean: [Float], variance: [Float], invStd: [Float]
    /// oneDNN's record of the fused ReLU (a bit mask), from a training forward on a blocked input.
    private var reluMask: [UInt8] = []
    /// While recomputing statistics: per-channel sums of x and x² and the count, in Double.
    private var accumulated: (sums: [Double], squares: [Double], count: Int)?

    public init(name: String, channels: Int, relu: Bool = false, momentum: Float = 0.1, epsilon: Float = 1e-5,
                trainableBias: Bool = true) {
        weight = Parameter(name: name + ".weight", value: Tensor(repeating: 1, shape: [channels]), decays: false)
        bias = Parameter(name: name + ".bias", value: Tensor(zeros: [channels]), isBuffer: !trainableBias, decays: false)
        runningMean = Parameter(name: name + ".running_mean", value: Tensor(zeros: [channels]), isBuffer: true)
        runningVariance = Parameter(name: name + ".running_var", value: Tensor(repeating: 1, shape: [channels]), isBuffer: true)
        (self.relu, self.momentum, self.epsilon) = (relu, momentum, epsilon)
        mean = [Float](repeating: 0, count: channels)
        variance = mean
        invStd = mean
    }

    private func shape(for x: Tensor) -> NormShape {
        precondition((x.rank == 4 || x.rank == 2) && x.shape[1] == weight.value.count,
                     "BatchNorm \(weight.name): input \(x.shape) needs [N, \(weight.value.count), …]")
        return NormShape(N: x.shape[0], C: x.shape[1], HW: x.rank == 4 ? x.shape[2] * x.shape[3] : 1)
    }

    /// A blocked input (which only oneDNN's convolutions produce) runs through oneDNN's
    /// batch normalisation and stays blocked; an nchw one through the engine's own kernels.
    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let s = shape(for: x)
        var y = x.uninitializedLike()
        let blocked = x.layout != .nchw
        switch (mode, blocked) {
        case (.train, false):
            batchNormTrainForward(input: x.scalars, gamma: weight.value.scalars, beta: bias.value.scalars,
                                  output: &y.scalars, mean: &mean, variance: &variance, invStd: &invStd,
                                  shape: s, epsilon: epsilon, relu: relu)
        case (.train, true):
            dnnlBatchNormTrainForward(input: x.scalars, gamma: weight.value.scalars, beta: bias.value.scalars,
                                      output: &y.scalars, mean: &mean, variance: &variance, workspace: &reluMask,
                                      shape: s, layout: x.layout, epsilon: epsilon, relu: relu)
        case (.eval, false):
            batchNormEvalForward(input: x.scalars, gamma: weight.value.scalars, beta: bias.value.scalars,
                                 runningMean: runningMean.value.scalars, runningVariance: runningVariance.value.scalars,
                                 output: &y.scalars, shape: s, epsilon: epsilon, relu: relu)
        case (.eval, true):
            dnnlBatchNormEvalForward(input: x.scalars, gamma: weight.value.scalars, beta: bias.value.scalars,
                                     runningMean: runningMean.value.scalars, runningVariance: runningVariance.value.scalars,
                                     output: &y.scalars, shape: s, layout: x.layout, epsilon: epsilon, relu: relu)
        }
        if mode == .train {
            updateRunningStatistics(count: s.M)
            input = x
            // Only the engine's fused ReLU needs the output (as its mask; oneDNN keeps its own);
            // holding it otherwise would force a copy when the caller writes into y.
            output = relu && !blocked ? y : Tensor(zeros: [0])
        }
        return y
    }

    public var acceptsBlocked: Bool { true }

    /// From now until `finishRecomputingStatistics`, training-mode forwards
    /// (which still normalise with batch statistics) accumulate the exact mean
    /// and variance of every input they see instead of the momentum update.
    public func beginRecomputingStatistics() {
        accumulated = ([Double](repeating: 0, count: mean.count), [Double](repeating: 0, count: mean.count), 0)
    }

    /// Sets the running statistics to the mean and unbiased variance of
    /// everything seen since `beginRecomputingStatistics`.
    public func finishRecomputingStatistics() {
        guard let (sums, squares, count) = accumulated, count > 0 else { accumulated = nil; return }
        accumulated = nil
        for c in 0..<mean.count {
            let average = sums[c] / Double(count)
            let variance = (squares[c] - Double(count) * average * average) / Double(max(count - 1, 1))
            runningMean.value[c] = Float(average)
            runningVariance.value[c] = Float(max(variance, 0))
        }
    }

    private func updateRunningStatistics(count: Int) {
        if var totals = accumulated {
            // mean and (biased) variance of this batch give its sums of x and x².
            for c in 0..<mean.count {
                let (m, v) = (Double(mean[c]), Double(variance[c]))
                totals.sums[c] += m * Double(count)
                totals.squares[c] += (v + m * m) * Double(count)
            }
            totals.count += count
            accumulated = totals
            return
        }
        let unbiased = Float(count) / Float(max(count - 1, 1))
        for c in 0..<mean.count {
            runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * mean[c]
            runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * variance[c] * unbiased
        }
    }

    /// Backward of the last training-mode forward.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.layout == input.layout, "BatchNorm \(weight.name): dOutput is \(dy.layout), the output was \(input.layout)")
        var dx = input.uninitializedLike()
        func backward(dBeta: inout [Float]) {
            if input.layout == .nchw {
                batchNormBackward(input: input.scalars, reluOutput: relu ? output.scalars : nil, gamma: weight.value.scalars,
                                  mean: mean, invStd: invStd, dOutput: dy.scalars, dInput: &dx.scalars,
                                  dGamma: &weight.grad.scalars, dBeta: &dBeta, shape: shape(for: input))
            } else {
                dnnlBatchNormBackward(input: input.scalars, gamma: weight.value.scalars, mean: mean, variance: variance,
                                      workspace: reluMask, dOutput: dy.scalars, dInput: &dx.scalars,
                                      dGamma: &weight.grad.scalars, dBeta: &dBeta, shape: shape(for: input),
                                      layout: input.layout, epsilon: epsilon, relu: relu)
            }
        }
        if bias.isBuffer {
            // A buffer has no gradient storage: its gradient is computed and dropped.
            var dropped = [Float](repeating: 0, count: mean.count)
            backward(dBeta: &dropped)
        } else {
            backward(dBeta: &bias.grad.scalars)
        }
        return dx
    }

    public var parameters: [Parameter] { [weight, bias, runningMean, runningVariance] }
}
