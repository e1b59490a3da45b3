/// The ResNeXt bottleneck (Xie et al. 2017; torchvision's Bottleneck with
/// groups): conv1×1-BN-ReLU, grouped conv3×3 (`cardinality` groups, the
/// block's stride)-BN-ReLU, conv1×1-BN (+ optional SE, as in SE-ResNeXt), plus
/// the identity or a 1×1 conv + BN shortcut, then ReLU. The inner width is
/// ⌊planes·baseWidth/64⌋·cardinality and the output 4·planes channels.
/// With `ibn` the first norm is IBN-a.
public final class Bottleneck: ResidualBlock {
    public static let expansion = 4

    /// Channels of the grouped convolution, as torchvision computes them.
    public static func innerWidth(planes: Int, cardinality: Int, baseWidth: Int) -> Int {
        planes * baseWidth / 64 * cardinality
    }

    public init(name: String, inChannels: Int, planes: Int, stride: Int = 1, cardinality: Int, baseWidth: Int,
                squeezeExcitation: Bool = false, ibn: Bool = false, random: inout SeededRandom) {
        let width = Self.innerWidth(planes: planes, cardinality: cardinality, baseWidth: baseWidth)
        let out = planes * Self.expansion
        precondition(width > 0, "Bottleneck \(name): \(planes) planes with base width \(baseWidth) leave no channels per group")
        let conv1 = Conv2d(name: name + ".conv1", inChannels: inChannels, outChannels: width, kernel: 1, random: &random)
        let bn1: any Layer = ibn ? IBN(name: name + ".bn1", channels: width, relu: true)
            : BatchNorm(name: name + ".bn1", channels: width, relu: true)
        let conv2 = Conv2d(name: name + ".conv2", inChannels: width, outChannels: width, kernel: 3, stride: stride,
                           padding: 1, groups: cardinality, random: &random)
        let conv3 = Conv2d(name: name + ".conv3", inChannels: width, outChannels: out, kernel: 1, random: &random)
        let se: [any Layer] = squeezeExcitation
            ? [SqueezeExcitation(name: name + ".se", channels: out, random: &random)] : []
        let shortcut = Self.resNetShortcut(name: name, inChannels: inChannels, outChannels: out, stride: stride,
                                           random: &random)
        super.init(main: [conv1, bn1, conv2, BatchNorm(name: name + ".bn2", channels: width, relu: true),
                          conv3, BatchNorm(name: name + ".bn3", channels: out)] + se,
                   shortcut: shortcut, reluAfterAdd: true)
    }
}
