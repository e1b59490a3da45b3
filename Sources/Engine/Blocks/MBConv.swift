/// EfficientNet's inverted residual (MBConv; Tan & Le 2019, as timm builds
/// it): 1×1 expansion to `expansion`× the channels (skipped at expansion 1),
/// depthwise k×k with the block's stride, squeeze-and-excitation reducing to a
/// quarter of the block's input channels, 1×1 projection with no activation;
/// BN after every convolution, swish after the first two; the input is added
/// back when stride and channels are unchanged. Names follow timm's
/// (`conv_pw`, `bn1`, `conv_dw`, `bn2`, `se`, `conv_pwl`, `bn3`).
public final class MBConv: ResidualBlock {
    public init(name: String, inChannels: Int, outChannels: Int, expansion: Int, kernel: Int, stride: Int,
                random: inout SeededRandom) {
        let mid = inChannels * expansion
        var layers: [any Layer] = []
        if expansion != 1 {
            layers += [Conv2d(name: name + ".conv_pw", inChannels: inChannels, outChannels: mid, kernel: 1, random: &random),
                       BatchNorm(name: name + ".bn1", channels: mid), Swish()]
        }
        layers += [Conv2d(name: name + ".conv_dw", inChannels: mid, outChannels: mid, kernel: kernel, stride: stride,
                          padding: kernel / 2, groups: mid, fanOutPerGroup: true, random: &random),
                   BatchNorm(name: name + ".bn2", channels: mid), Swish(),
                   SqueezeExcitation(name: name + ".se", channels: mid,
                                     hidden: max(1, Int((Float(inChannels) * 0.25).rounded())),
                                     activation: Swish(), random: &random),
                   Conv2d(name: name + ".conv_pwl", inChannels: mid, outChannels: outChannels, kernel: 1, random: &random),
                   BatchNorm(name: name + ".bn3", channels: outChannels)]
        let residual = stride == 1 && inChannels == outChannels
        super.init(main: layers, shortcut: residual ? .identity : .none, reluAfterAdd: false)
    }
}
