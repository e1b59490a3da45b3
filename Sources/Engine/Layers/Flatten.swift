/// [N, d1, d2, …] -> [N, d1·d2·…]; backward restores the input's shape.
public final class Flatten: Layer {
    private var inputShape: [Int]?

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        precondition(input.rank >= 1, "Flatten: expects a batch dimension, got a scalar tensor")
        inputShape = input.shape
        let rest = input.shape.dropFirst().reduce(1, *)
        return input.reshaped([input.shape[0], rest])
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let shape = inputShape else { preconditionFailure("Flatten.backward called before forward") }
        precondition(dOutput.count == shape.reduce(1, *),
                     "Flatten.backward: dOutput shape \(dOutput.shape) does not hold the \(shape) values of the forward input")
        return dOutput.reshaped(shape)
    }

    public var parameters: [Parameter] { [] }
}
