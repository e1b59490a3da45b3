/// ResNet's basic block: conv3×3-BN-ReLU-conv3×3-BN (+ optional SE), plus the
/// identity or a 1×1 conv + BN shortcut when the shape changes, then ReLU.
/// With `ibn` the first norm is IBN-a (instance norm on half the channels).
/// Parameter names follow PyTorch's (`conv1`, `bn1`, …, `shortcut.0`, `shortcut.1`).
public final class BasicBlock: ResidualBlock {
    public init(name: String, inChannels: Int, outChannels: Int, stride: Int = 1,
                squeezeExcitation: Bool = false, ibn: Bool = false, random: inout SeededRandom) {
        let conv1 = Conv2d(name: name + ".conv1", inChannels: inChannels, outChannels: outChannels, kernel: 3,
                           stride: stride, padding: 1, random: &random)
        let bn1: any Layer = ibn ? IBN(name: name + ".bn1", channels: outChannels, relu: true)
            : BatchNorm(name: name + ".bn1", channels: outChannels, relu: true)
        let conv2 = Conv2d(name: name + ".conv2", inChannels: outChannels, outChannels: outChannels, kernel: 3,
                           padding: 1, random: &random)
        let se: [any Layer] = squeezeExcitation
            ? [SqueezeExcitation(name: name + ".se", channels: outChannels, random: &random)] : []
        let shortcut = Self.resNetShortcut(name: name, inChannels: inChannels, outChannels: outChannels,
                                           stride: stride, random: &random)
        super.init(main: [conv1, bn1, conv2, BatchNorm(name: name + ".bn2", channels: outChannels)] + se,
                   shortcut: shortcut, reluAfterAdd: true)
    }
}
