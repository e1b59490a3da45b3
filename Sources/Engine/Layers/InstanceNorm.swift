import Kernels

/// Instance normalisation (Ulyanov et al. 2016) of [N, C, H, W]: each sample's
/// channel normalised by its own mean and variance, then scaled and shifted
/// per channel (PyTorch's InstanceNorm2d with affine, no running statistics,
/// so training and evaluation compute the same). Optionally fused with ReLU.
/// It is batch normalisation of the [1, N·C, H, W] view with γ and β repeated
/// per sample, which is how the batch-norm kernels compute it.
public final class InstanceNorm: Layer {
    public let weight, bias: Parameter
    public let relu: Bool
    public let epsilon: Float
    private var input = Tensor(zeros: [0]), output = Tensor(zeros: [0])
    private var mean: [Float] = [], invStd: [Float] = []

    public init(name: String, channels: Int, relu: Bool = false, epsilon: Float = 1e-5) {
        weight = Parameter(name: name + ".weight", value: Tensor(repeating: 1, shape: [channels]), decays: false)
        bias = Parameter(name: name + ".bias", value: Tensor(zeros: [channels]), decays: false)
        (self.relu, self.epsilon) = (relu, epsilon)
    }

    private func shape(for x: Tensor) -> NormShape {
        precondition(x.rank == 4 && x.shape[1] == weight.value.count,
                     "InstanceNorm \(weight.name): input \(x.shape) needs [N, \(weight.value.count), H, W]")
        return NormShape(N: 1, C: x.shape[0] * x.shape[1], HW: x.shape[2] * x.shape[3])
    }

    /// γ or β once per sample: [N·C].
    private func perSample(_ values: Tensor, samples: Int) -> [Float] {
        Array([[Float]](repeating: values.scalars, count: samples).joined())
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let s = shape(for: x), N = x.shape[0]
        var y = Tensor(uninitialized: x.shape)
        var mean = [Float](repeating: 0, count: s.C), variance = mean, invStd = mean
        batchNormTrainForward(input: x.scalars, gamma: perSample(weight.value, samples: N),
                              beta: perSample(bias.value, samples: N), output: &y.scalars, mean: &mean,
                              variance: &variance, invStd: &invStd, shape: s, epsilon: epsilon, relu: relu)
        if mode == .train {
            (input, self.mean, self.invStd) = (x, mean, invStd)
            output = relu ? y : Tensor(zeros: [0])
        }
        return y
    }

    /// Backward of the last training-mode forward.
    public func backward(_ dy: Tensor) -> Tensor {
        let s = shape(for: input), (N, C) = (input.shape[0], input.shape[1])
        var dx = Tensor(uninitialized: input.shape)
        var dGamma = [Float](repeating: 0, count: s.C), dBeta = dGamma
        batchNormBackward(input: input.scalars, reluOutput: relu ? output.scalars : nil,
                          gamma: perSample(weight.value, samples: N), mean: mean, invStd: invStd, dOutput: dy.scalars,
                          dInput: &dx.scalars, dGamma: &dGamma, dBeta: &dBeta, shape: s)
        for n in 0..<N {
            for c in 0..<C {
                weight.grad[c] += dGamma[n * C + c]
                bias.grad[c] += dBeta[n * C + c]
            }
        }
        return dx
    }

    public var parameters: [Parameter] { [weight, bias] }
}

/// IBN-a (Pan et al. 2018, "Two at Once"): instance normalisation on the first
/// half of the channels, batch normalisation on the rest, so a block keeps
/// style-invariant and content features side by side. Names follow IBN-Net's
/// and timm's (`IN`, `BN`); the optional ReLU applies to both halves.
public final class IBN: Layer {
    public let instanceNorm: InstanceNorm
    public let batchNorm: BatchNorm
    /// Channels under instance normalisation: the first ⌊C/2⌋.
    public let half: Int

    public init(name: String, channels: Int, relu: Bool = false) {
        precondition(channels >= 2, "IBN \(name): needs at least 2 channels to split, got \(channels)")
        half = channels / 2
        instanceNorm = InstanceNorm(name: name + ".IN", channels: half, relu: relu)
        batchNorm = BatchNorm(name: name + ".BN", channels: channels - half, relu: relu)
    }

    private var channels: Int { half + batchNorm.weight.value.count }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == channels, "IBN: input \(x.shape) needs [N, \(channels), H, W]")
        return Tensor(concatenatingChannels: [instanceNorm.forward(x.channels(0..<half), mode: mode),
                                              batchNorm.forward(x.channels(half..<channels), mode: mode)])
    }

    public func backward(_ dy: Tensor) -> Tensor {
        Tensor(concatenatingChannels: [instanceNorm.backward(dy.channels(0..<half)),
                                       batchNorm.backward(dy.channels(half..<channels))])
    }

    public var parameters: [Parameter] { instanceNorm.parameters + batchNorm.parameters }
    public var sublayers: [any Layer] { [instanceNorm, batchNorm] }
}
