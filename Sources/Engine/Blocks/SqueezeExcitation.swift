import Foundation

/// Squeeze-and-excitation (Hu et al. 2018): channel gates from a global average,
/// a bottleneck MLP and a sigmoid, multiplied back onto the input. ResNets use
/// ReLU in the MLP; EfficientNet uses swish.
public final class SqueezeExcitation: Layer {
    public let fc1: Linear, fc2: Linear
    private let activation: any Layer
    private var input = Tensor(zeros: [0]), gates = Tensor(zeros: [0])

    /// SENet's form: `channels / reduction` hidden units and ReLU.
    public convenience init(name: String, channels: Int, reduction: Int = 16, random: inout SeededRandom) {
        self.init(name: name, channels: channels, hidden: max(1, channels / reduction), activation: ReLU(), random: &random)
    }

    public init(name: String, channels: Int, hidden: Int, activation: any Layer, random: inout SeededRandom) {
        precondition(hidden >= 1 && activation.parameters.isEmpty,
                     "SqueezeExcitation \(name): needs >= 1 hidden unit and an activation without parameters")
        fc1 = Linear(name: name + ".fc1", inFeatures: channels, outFeatures: hidden, random: &random)
        fc2 = Linear(name: name + ".fc2", inFeatures: hidden, outFeatures: channels, random: &random)
        self.activation = activation
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (N, C, HW) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        var squeezed = Tensor(zeros: [N, C])
        for i in 0..<(N * C) {
            var s: Float = 0
            for j in 0..<HW { s += x[i * HW + j] }
            squeezed[i] = s / Float(HW)
        }
        var g = fc2.forward(activation.forward(fc1.forward(squeezed, mode: mode), mode: mode), mode: mode)
        for i in 0..<g.count { g[i] = 1 / (1 + expf(-g[i])) }
        var y = x
        for i in 0..<(N * C) { for j in 0..<HW { y[i * HW + j] *= g[i] } }
        (input, gates) = (x, g)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (N, C, HW) = (input.shape[0], input.shape[1], input.shape[2] * input.shape[3])
        var dx = dy
        var dLogits = Tensor(zeros: [N, C])
        for i in 0..<(N * C) {
            var dGate: Float = 0
            for j in 0..<HW {
                dGate += dy[i * HW + j] * input[i * HW + j]
                dx[i * HW + j] = dy[i * HW + j] * gates[i]
            }
            dLogits[i] = dGate * gates[i] * (1 - gates[i])
        }
        let dSqueezed = fc1.backward(activation.backward(fc2.backward(dLogits)))
        for i in 0..<(N * C) {
            let d = dSqueezed[i] / Float(HW)
            for j in 0..<HW { dx[i * HW + j] += d }
        }
        return dx
    }

    public var parameters: [Parameter] { fc1.parameters + fc2.parameters }
    public var sublayers: [any Layer] { [fc1, fc2] }
}
