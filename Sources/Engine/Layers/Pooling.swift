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
