import Kernels

/// What every residual block shares: a main path, a shortcut added to its
/// output, and optionally ReLU after the sum. Blocks are subclasses that only
/// build their layers; forward and backward live here once.
public class ResidualBlock: Layer {
    public enum Shortcut {
        /// Nothing is added (an inverted residual whose shape changes).
        case none
        case identity
        /// A layer sequence that matches the main path's shape, e.g. 1×1 conv + BN.
        case projection(Sequential)
    }

    public let main: Sequential
    public let shortcut: Shortcut
    public let reluAfterAdd: Bool
    /// The block's output, kept as the backward ReLU mask.
    private var output = Tensor(zeros: [0])
    /// The layout of the shortcut's result before it was matched to the main path's.
    private var shortcutLayout = ActivationLayout.nchw

    init(main: [any Layer], shortcut: Shortcut, reluAfterAdd: Bool) {
        if reluAfterAdd, case .none = shortcut { preconditionFailure("ResidualBlock: ReLU after the sum needs a shortcut") }
        self.main = Sequential(main)
        self.shortcut = shortcut
        self.reluAfterAdd = reluAfterAdd
    }

    /// Sets γ of the main path's last batch norm to zero, so the block starts
    /// as its shortcut (then ReLU): `zero_init_residual`.
    func zeroInitialiseLastNorm() {
        guard let norm = main.layers.last(where: { $0 is BatchNorm }) as? BatchNorm else {
            preconditionFailure("ResidualBlock: no batch norm on the main path to zero-initialise")
        }
        norm.weight.value = Tensor(zeros: norm.weight.value.shape)
    }

    /// ResNet's shortcut: the identity, or a 1×1 convolution (with the block's
    /// stride) and batch norm, named `name.shortcut.0` and `.1`, when the shape changes.
    static func resNetShortcut(name: String, inChannels: Int, outChannels: Int, stride: Int,
                               random: inout SeededRandom) -> Shortcut {
        guard stride != 1 || inChannels != outChannels else { return .identity }
        return .projection(Sequential([
            Conv2d(name: name + ".shortcut.0", inChannels: inChannels, outChannels: outChannels, kernel: 1,
                   stride: stride, random: &random),
            BatchNorm(name: name + ".shortcut.1", channels: outChannels),
        ]))
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        var h = main.forward(x, mode: mode)
        var identity: Tensor
        switch shortcut {
        case .none: return h
        case .identity: identity = x
        case .projection(let layers): identity = layers.forward(x, mode: mode)
        }
        shortcutLayout = identity.layout
        identity = identity.converted(to: h.layout)
        if reluAfterAdd {
            addReLUInPlace(&h.scalars, identity.scalars)
            if mode == .train { output = h }
        } else {
            addInPlace(&h.scalars, identity.scalars)
        }
        return h
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        var d = dOutput
        if reluAfterAdd { reluBackward(output: output.scalars, dOutput: dOutput.scalars, dInput: &d.scalars) }
        var dx = main.backward(d)
        switch shortcut {
        case .none: return dx
        case .identity: addInPlace(&dx.scalars, d.converted(to: dx.layout).scalars)
        case .projection(let layers):
            addInPlace(&dx.scalars, layers.backward(d.converted(to: shortcutLayout)).converted(to: dx.layout).scalars)
        }
        return dx
    }

    private var shortcutLayers: [any Layer] {
        if case .projection(let layers) = shortcut { return layers.layers }
        return []
    }

    public var acceptsBlocked: Bool { true }
    public var parameters: [Parameter] { main.parameters + shortcutLayers.flatMap(\.parameters) }
    public var sublayers: [any Layer] { main.layers + shortcutLayers }
}
