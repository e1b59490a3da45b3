import Kernels

/// max(x, 0)
public final class ReLU: Layer {
    private var output = Tensor(zeros: [0])
    public init() {}

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        var y = Tensor(uninitialized: x.shape)
        reluForward(x.scalars, &y.scalars)
        if mode == .train { output = y }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = Tensor(uninitialized: dy.shape)
        reluBackward(output: output.scalars, dOutput: dy.scalars, dInput: &dx.scalars)
        return dx
    }

    public var parameters: [Parameter] { [] }
}
