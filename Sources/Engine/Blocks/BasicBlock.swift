import Kernels

/// ResNet's basic block: conv3×3-BN-ReLU-conv3×3-BN (+ optional SE), plus the
/// identity or a 1×1 conv + BN shortcut when the shape changes, then ReLU.
/// Parameter names follow PyTorch's (`conv1`, `bn1`, …, `shortcut.0`, `shortcut.1`).
public final class BasicBlock: Layer {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    public let squeezeExcitation: SqueezeExcitation?
    public let shortcut: (conv: Conv2d, norm: BatchNorm)?
    /// The block's output, max(main + identity, 0), kept for the backward ReLU mask.
    private var output = Tensor(zeros: [0])

    public init(name: String, inChannels: Int, outChannels: Int, stride: Int = 1,
                squeezeExcitation: Bool = false, random: inout SeededRandom) {
        conv1 = Conv2d(name: name + ".conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3,
                       stride: stride, padding: 1, random: &random)
        bn1 = BatchNorm(name: name + ".bn1", channels: outChannels, relu: true)
        conv2 = Conv2d(name: name + ".conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3,
                       padding: 1, random: &random)
        bn2 = BatchNorm(name: name + ".bn2", channels: outChannels)
        self.squeezeExcitation = squeezeExcitation
            ? SqueezeExcitation(name: name + ".se", channels: outChannels, random: &random) : nil
        if stride != 1 || inChannels != outChannels {
            shortcut = (Conv2d(name: name + ".shortcut.0", inChannels: inChannels, outChannels: outChannels,
                               kernel: 1, stride: stride, random: &random),
                        BatchNorm(name: name + ".shortcut.1", channels: outChannels))
        } else {
            shortcut = nil
        }
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        var h = bn2.forward(conv2.forward(bn1.forward(conv1.forward(x, mode: mode), mode: mode), mode: mode), mode: mode)
        if let squeezeExcitation { h = squeezeExcitation.forward(h, mode: mode) }
        let identity = shortcut.map { $0.norm.forward($0.conv.forward(x, mode: mode), mode: mode) } ?? x
        addReLUInPlace(&h.scalars, identity.scalars)
        if mode == .train { output = h }
        return h
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        var d = Tensor(uninitialized: dOutput.shape)
        reluBackward(output: output.scalars, dOutput: dOutput.scalars, dInput: &d.scalars)
        var dh = d
        if let squeezeExcitation { dh = squeezeExcitation.backward(dh) }
        var dx = conv1.backward(bn1.backward(conv2.backward(bn2.backward(dh))))
        let dIdentity = shortcut.map { $0.conv.backward($0.norm.backward(d)) } ?? d
        addInPlace(&dx.scalars, dIdentity.scalars)
        return dx
    }

    public var parameters: [Parameter] {
        conv1.parameters + bn1.parameters + conv2.parameters + bn2.parameters
            + (squeezeExcitation?.parameters ?? [])
            + (shortcut.map { $0.conv.parameters + $0.norm.parameters } ?? [])
    }

    public var sublayers: [any Layer] {
        [conv1, bn1, conv2, bn2] + (squeezeExcitation.map { [$0] } ?? []) + (shortcut.map { [$0.conv, $0.norm] } ?? [])
    }
}
