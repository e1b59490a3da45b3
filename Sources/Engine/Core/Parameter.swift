/// One named learnable tensor (or a buffer such as batch-norm running statistics)
/// and its gradient. Layers hold references; the optimizer, checkpoints, EMA and
/// SWA walk the same objects through `ParameterStore`.
public final class Parameter {
    public let name: String
    public var value: Tensor
    /// Backward passes add into this; the trainer zeroes it once per optimizer step.
    public var grad: Tensor
    /// Buffers are saved in checkpoints but never updated by an optimizer.
    public let isBuffer: Bool
    /// Frozen parameters keep their value; their gradient is still computed.
    public var frozen: Bool = false
    /// Multiplies the schedule's learning rate (discriminative learning rates).
    public var lrMultiplier: Float = 1
    /// Weight decay applies to conv and linear weights, not to biases and norms.
    public var decays: Bool

    public init(name: String, value: Tensor, isBuffer: Bool = false, decays: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: isBuffer ? [0] : value.shape)
        self.isBuffer = isBuffer
        self.decays = decays && !isBuffer
    }

    public var shape: [Int] { value.shape }
    public var isTrainable: Bool { !isBuffer && !frozen }

    public func zeroGrad() {
        if isBuffer { return }
        grad.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// Every parameter and buffer of a model, in a stable order, by dotted name.
public struct ParameterStore {
    public let all: [Parameter]

    public init(_ parameters: [Parameter]) {
        var seen = Set<String>()
        for p in parameters {
            precondition(seen.insert(p.name).inserted, "ParameterStore: duplicate parameter name \(p.name)")
        }
        self.all = parameters
    }

    public var trainable: [Parameter] { all.filter { !$0.isBuffer } }
    public var buffers: [Parameter] { all.filter { $0.isBuffer } }

    public subscript(name: String) -> Parameter? { all.first { $0.name == name } }

    public func zeroGrads() { for p in all { p.zeroGrad() } }

    public var parameterCount: Int { trainable.reduce(0) { $0 + $1.value.count } }
}
