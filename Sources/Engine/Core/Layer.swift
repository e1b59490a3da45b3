import Kernels

/// A layer with an explicit forward and backward pass. `forward` keeps what
/// `backward` needs; `backward` takes dL/dOutput, adds into its parameters'
/// gradients and returns dL/dInput. There is no autograd tape.
/// Layouts: `backward` receives dL/dOutput laid out as its forward's output and
/// returns dL/dInput laid out as its forward's input. A layer meets a blocked
/// (nChw8c, nChw16c) input only if it `acceptsBlocked`; Sequential and ResidualBlock
/// reorder for the others.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, mode: Mode) -> Tensor
    func backward(_ dOutput: Tensor) -> Tensor
    /// Parameters and buffers of this layer and its children, depth first.
    var parameters: [Parameter] { get }
    /// The layers this one is made of (empty for a leaf).
    var sublayers: [any Layer] { get }
    /// Whether `forward` takes blocked inputs (false: it is handed nchw).
    var acceptsBlocked: Bool { get }
}

extension Layer {
    public var sublayers: [any Layer] { [] }
    public var acceptsBlocked: Bool { false }

    /// Lets every convolution reachable through layers that take blocked inputs
    /// keep its output blocked when oneDNN runs it (Model does this for its network).
    public func allowBlockedActivations() {
        if let conv = self as? Conv2d { conv.emitsBlocked = true }
        guard acceptsBlocked else { return }
        for layer in sublayers { layer.allowBlockedActivations() }
    }

    /// This layer and every layer inside it, depth first.
    public var allLayers: [any Layer] { [self] + sublayers.flatMap(\.allLayers) }
}

/// Layers applied one after another. A blocked activation is reordered to nchw
/// before a layer that does not take it, and that layer's input gradient back.
public final class Sequential: Layer {
    public var layers: [any Layer]
    /// Per layer: the layout its input had before any reorder (its gradient is returned so).
    private var arrivedAs: [ActivationLayout] = []

    public init(_ layers: [any Layer]) { self.layers = layers }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        var x = input
        arrivedAs.removeAll(keepingCapacity: true)
        for layer in layers {
            arrivedAs.append(x.layout)
            if x.layout != .nchw && !layer.acceptsBlocked { x = x.converted(to: .nchw) }
            x = layer.forward(x, mode: mode)
        }
        return x
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        precondition(arrivedAs.count == layers.count, "Sequential.backward: no forward to go back through")
        var d = dOutput
        for (layer, layout) in zip(layers, arrivedAs).reversed() {
            d = layer.backward(d).converted(to: layout)
        }
        return d
    }

    public var acceptsBlocked: Bool { true }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    public var sublayers: [any Layer] { layers }
}
