/// A layer with an explicit forward and backward pass. `forward` keeps what
/// `backward` needs; `backward` takes dL/dOutput, adds into its parameters'
/// gradients and returns dL/dInput. There is no autograd tape.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, mode: Mode) -> Tensor
    func backward(_ dOutput: Tensor) -> Tensor
    /// Parameters and buffers of this layer and its children, depth first.
    var parameters: [Parameter] { get }
    /// The layers this one is made of (empty for a leaf).
    var sublayers: [any Layer] { get }
}

extension Layer {
    public var sublayers: [any Layer] { [] }

    /// This layer and every layer inside it, depth first.
    public var allLayers: [any Layer] { [self] + sublayers.flatMap(\.allLayers) }
}

/// Layers applied one after another.
public final class Sequential: Layer {
    public var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        layers.reduce(input) { $1.forward($0, mode: mode) }
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        layers.reversed().reduce(dOutput) { $1.backward($0) }
    }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    public var sublayers: [any Layer] { layers }
}
