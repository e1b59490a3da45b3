import Kernels

/// An activation applied value by value through a pair of kernels. Training
/// forwards keep what the backward kernel needs: the output (ReLU's mask) or the input.
public class Activation: Layer {
    private let forwardKernel: ([Float], inout [Float]) -> Void
    private let backwardKernel: (_ saved: [Float], _ dOutput: [Float], _ dInput: inout [Float]) -> Void
    private let keepsOutput: Bool
    private var saved = Tensor(zeros: [0])

    init(forward: @escaping ([Float], inout [Float]) -> Void,
         backward: @escaping (_ saved: [Float], _ dOutput: [Float], _ dInput: inout [Float]) -> Void, keepsOutput: Bool) {
        (forwardKernel, backwardKernel, self.keepsOutput) = (forward, backward, keepsOutput)
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        var y = x.uninitializedLike()
        forwardKernel(x.scalars, &y.scalars)
        if mode == .train { saved = keepsOutput ? y : x }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = dy.uninitializedLike()
        backwardKernel(saved.scalars, dy.scalars, &dx.scalars)
        return dx
    }

    /// Value by value: any layout.
    public var acceptsBlocked: Bool { true }
    public var parameters: [Parameter] { [] }
}

/// max(x, 0)
public final class ReLU: Activation {
    public init() {
        super.init(forward: reluForward, backward: { reluBackward(output: $0, dOutput: $1, dInput: &$2) }, keepsOutput: true)
    }
}

/// x·σ(x) (swish, PyTorch's SiLU): EfficientNet's activation.
public final class Swish: Activation {
    public init() {
        super.init(forward: swishForward, backward: { swishBackward(input: $0, dOutput: $1, dInput: &$2) }, keepsOutput: false)
    }
}
