import Kernels

/// Max pooling over K×K windows of an NCHW tensor; padding never wins.
/// Stride defaults to the kernel size, as in torch.
public final class MaxPool2d: Layer {
    public let kernel, stride, padding: Int
    private var shape: PoolShape?
    private var argmax: [Int32] = []

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
        validatePoolSettings("MaxPool2d", kernel: kernel, stride: self.stride, padding: padding)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let s = poolShape("MaxPool2d", input, kernel: kernel, stride: stride, padding: padding)
        var output = Tensor(uninitialized: [s.N, s.C, s.outH, s.outW])
        if argmax.count != s.outputCount { argmax = [Int32](repeating: 0, count: s.outputCount) }
        maxPoolForward(input: input.scalars, output: &output.scalars, argmax: &argmax, shape: s)
        shape = s
        return output
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        let s = savedShape("MaxPool2d", shape, dOutput)
        var dInput = Tensor(uninitialized: [s.N, s.C, s.H, s.W])
        maxPoolBackward(dOutput: dOutput.scalars, argmax: argmax, dInput: &dInput.scalars, shape: s)
        return dInput
    }

    public var parameters: [Parameter] { [] }
}

/// Average pooling over K×K windows; padded zeros count in the divisor
/// (torch's default count_include_pad = true). Stride defaults to the kernel size.
public final class AvgPool2d: Layer {
    public let kernel, stride, padding: Int
    private var shape: PoolShape?

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        (self.kernel, self.stride, self.padding) = (kernel, stride ?? kernel, padding)
        validatePoolSettings("AvgPool2d", kernel: kernel, stride: self.stride, padding: padding)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let s = poolShape("AvgPool2d", input, kernel: kernel, stride: stride, padding: padding)
        var output = Tensor(uninitialized: [s.N, s.C, s.outH, s.outW])
        avgPoolForward(input: input.scalars, output: &output.scalars, shape: s)
        shape = s
        return output
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        let s = savedShape("AvgPool2d", shape, dOutput)
        var dInput = Tensor(uninitialized: [s.N, s.C, s.H, s.W])
        avgPoolBackward(dOutput: dOutput.scalars, dInput: &dInput.scalars, shape: s)
        return dInput
    }

    public var parameters: [Parameter] { [] }
}

/// Mean of each channel's plane: [N, C, H, W] -> [N, C].
public final class GlobalAvgPool: Layer {
    private var shape: GlobalPoolShape?

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let s = globalPoolShape("GlobalAvgPool", input)
        var output = Tensor(uninitialized: [s.N, s.C])
        globalAvgPoolForward(input: input.scalars, output: &output.scalars, shape: s)
        shape = s
        return output
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        let s = savedGlobalShape("GlobalAvgPool", shape, dOutput)
        var dInput = Tensor(uninitialized: [s.N, s.C, s.H, s.W])
        globalAvgPoolBackward(dOutput: dOutput.scalars, dInput: &dInput.scalars, shape: s)
        return dInput
    }

    public var parameters: [Parameter] { [] }
}

/// Maximum of each channel's plane: [N, C, H, W] -> [N, C].
public final class GlobalMaxPool: Layer {
    private var shape: GlobalPoolShape?
    private var argmax: [Int32] = []

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let s = globalPoolShape("GlobalMaxPool", input)
        var output = Tensor(uninitialized: [s.N, s.C])
        if argmax.count != s.outputCount { argmax = [Int32](repeating: 0, count: s.outputCount) }
        globalMaxPoolForward(input: input.scalars, output: &output.scalars, argmax: &argmax, shape: s)
        shape = s
        return output
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        let s = savedGlobalShape("GlobalMaxPool", shape, dOutput)
        var dInput = Tensor(uninitialized: [s.N, s.C, s.H, s.W])
        globalMaxPoolBackward(dOutput: dOutput.scalars, argmax: argmax, dInput: &dInput.scalars, shape: s)
        return dInput
    }

    public var parameters: [Parameter] { [] }
}

/// Generalized-mean pooling [N, C, H, W] -> [N, C] with a learnable exponent
/// `p` (`name.p`, initialised to 3, not decayed), as in timm's GeM: between
/// average (p = 1) and max pooling (p → ∞). Inputs are clamped to ε = 1e-6
/// first. The exponent is used as max(p, 1), so training cannot push it where
/// the mean is undefined; dL/dp is 0 while it sits there.
public final class GeMPool: Layer {
    public let p: Parameter
    public let epsilon: Float
    private var shape: GlobalPoolShape?
    private var input = Tensor(zeros: [0])

    public init(name: String, p: Float = 3, epsilon: Float = 1e-6) {
        self.p = Parameter(name: name + ".p", value: Tensor(repeating: p, shape: [1]), decays: false)
        self.epsilon = epsilon
    }

    private var exponent: Float { max(p.value[0], 1) }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let s = globalPoolShape("GeMPool", input)
        var output = Tensor(uninitialized: [s.N, s.C])
        gemPoolForward(input: input.scalars, p: exponent, epsilon: epsilon, output: &output.scalars, shape: s)
        (shape, self.input) = (s, input)
        return output
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        let s = savedGlobalShape("GeMPool", shape, dOutput)
        var dInput = Tensor(uninitialized: [s.N, s.C, s.H, s.W])
        let dP = gemPoolBackward(input: input.scalars, p: exponent, epsilon: epsilon, dOutput: dOutput.scalars,
                                 dInput: &dInput.scalars, shape: s)
        if p.value[0] >= 1 { p.grad[0] += dP }
        return dInput
    }

    public var parameters: [Parameter] { [p] }
}

/// Average and max pooling side by side: [N, C, H, W] -> [N, 2C] (average
/// first), the "concat pooling" of Kaggle heads.
public final class DualPool: Layer {
    private let average = GlobalAvgPool(), maximum = GlobalMaxPool()

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        Tensor(concatenatingChannels: [average.forward(input, mode: mode), maximum.forward(input, mode: mode)])
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        let C = dOutput.shape[1] / 2
        var dInput = average.backward(dOutput.channels(0..<C))
        addInPlace(&dInput.scalars, maximum.backward(dOutput.channels(C..<(2 * C))).scalars)
        return dInput
    }

    public var parameters: [Parameter] { [] }
}

private func validatePoolSettings(_ layer: String, kernel: Int, stride: Int, padding: Int) {
    precondition(kernel >= 1 && stride >= 1, "\(layer): kernel \(kernel) and stride \(stride) must be >= 1")
    precondition(padding >= 0 && 2 * padding <= kernel,
                 "\(layer): padding \(padding) must be between 0 and half the kernel \(kernel)")
}

private func poolShape(_ layer: String, _ input: Tensor, kernel: Int, stride: Int, padding: Int) -> PoolShape {
    precondition(input.rank == 4, "\(layer): expects an NCHW input, got shape \(input.shape)")
    let (N, C, H, W) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    precondition(H + 2 * padding >= kernel && W + 2 * padding >= kernel,
                 "\(layer): input \(input.shape) with padding \(padding) is smaller than the kernel \(kernel)")
    return PoolShape(N: N, C: C, H: H, W: W, kernel: kernel, stride: stride, padding: padding)
}

private func globalPoolShape(_ layer: String, _ input: Tensor) -> GlobalPoolShape {
    precondition(input.rank == 4 && input.shape[2] >= 1 && input.shape[3] >= 1,
                 "\(layer): expects an NCHW input with a non-empty plane, got shape \(input.shape)")
    return GlobalPoolShape(N: input.shape[0], C: input.shape[1], H: input.shape[2], W: input.shape[3])
}

private func savedShape(_ layer: String, _ shape: PoolShape?, _ dOutput: Tensor) -> PoolShape {
    guard let s = shape else { preconditionFailure("\(layer).backward called before forward") }
    precondition(dOutput.shape == [s.N, s.C, s.outH, s.outW],
                 "\(layer).backward: dOutput shape \(dOutput.shape), forward produced \([s.N, s.C, s.outH, s.outW])")
    return s
}

private func savedGlobalShape(_ layer: String, _ shape: GlobalPoolShape?, _ dOutput: Tensor) -> GlobalPoolShape {
    guard let s = shape else { preconditionFailure("\(layer).backward called before forward") }
    precondition(dOutput.shape == [s.N, s.C],
                 "\(layer).backward: dOutput shape \(dOutput.shape), forward produced \([s.N, s.C])")
    return s
}
