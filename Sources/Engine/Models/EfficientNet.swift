import Foundation

/// EfficientNet-B0 (Tan & Le 2019) as timm builds `efficientnet_b0`, with
/// optional width and depth multipliers; stochastic depth is left out.
/// Stages 1–7 follow the B0 table; the final 1×1 convolution to 1280 channels
/// (`stage7.conv_head`, `stage7.bn_head`) closes the last stage, so the head is
/// only pooling, neck, dropout and classifier, as for every architecture.
public struct EfficientNetConfig: Sendable, Equatable {
    /// One row of the B0 table: MBConv blocks sharing expansion, kernel and output channels.
    struct Stage {
        let expansion, kernel, stride, channels, repeats: Int
    }

    static let b0Stages = [
        Stage(expansion: 1, kernel: 3, stride: 1, channels: 16, repeats: 1),
        Stage(expansion: 6, kernel: 3, stride: 2, channels: 24, repeats: 2),
        Stage(expansion: 6, kernel: 5, stride: 2, channels: 40, repeats: 2),
        Stage(expansion: 6, kernel: 3, stride: 2, channels: 80, repeats: 3),
        Stage(expansion: 6, kernel: 5, stride: 1, channels: 112, repeats: 3),
        Stage(expansion: 6, kernel: 5, stride: 2, channels: 192, repeats: 4),
        Stage(expansion: 6, kernel: 3, stride: 1, channels: 320, repeats: 1),
    ]
    static let stemChannels = 32, headChannels = 1280

    /// Scales every channel count (rounded to a multiple of 8, as timm's round_channels).
    public var widthMultiplier: Float
    /// Scales every stage's block count (rounded up).
    public var depthMultiplier: Float
    public var head: HeadConfig

    public init(widthMultiplier: Float = 1, depthMultiplier: Float = 1, dropout: Float = 0) {
        precondition(widthMultiplier > 0 && depthMultiplier > 0,
                     "EfficientNetConfig: multipliers must be > 0, got \(widthMultiplier) and \(depthMultiplier)")
        (self.widthMultiplier, self.depthMultiplier) = (widthMultiplier, depthMultiplier)
        head = HeadConfig(dropout: dropout)
    }

    public static let b0 = EfficientNetConfig()

    /// timm's make_divisible(channels · width, 8): to the nearest multiple of 8,
    /// at least 8, and never more than 10% below the exact value.
    func channels(_ base: Int) -> Int {
        let exact = Float(base) * widthMultiplier
        var rounded = max(8, Int(exact + 4) / 8 * 8)
        if Float(rounded) < 0.9 * exact { rounded += 8 }
        return rounded
    }

    func repeats(_ base: Int) -> Int { Int(ceil(Float(base) * depthMultiplier)) }
}

func efficientNetLayout(_ config: EfficientNetConfig, inputChannels: Int, classes: Int, seed: UInt64) -> NetworkLayout {
    var random = SeededRandom(seed, stableHash("weights"))
    let stemWidth = config.channels(EfficientNetConfig.stemChannels)
    let stemConv = Conv2d(name: "stem.0", inChannels: inputChannels, outChannels: stemWidth, kernel: 3, stride: 2,
                          padding: 1, random: &random)
    stemConv.computesInputGradient = false
    let stem = Sequential([stemConv, BatchNorm(name: "stem.1", channels: stemWidth), Swish()])
    var stages: [Sequential] = []
    var inChannels = stemWidth
    for (index, stage) in EfficientNetConfig.b0Stages.enumerated() {
        let out = config.channels(stage.channels)
        let blocks: [any Layer] = (0..<config.repeats(stage.repeats)).map { b in
            MBConv(name: "stage\(index + 1).\(b)", inChannels: b == 0 ? inChannels : out, outChannels: out,
                   expansion: stage.expansion, kernel: stage.kernel, stride: b == 0 ? stage.stride : 1, random: &random)
        }
        stages.append(Sequential(blocks))
        inChannels = out
    }
    let features = config.channels(EfficientNetConfig.headChannels)
    let last = "stage\(stages.count)"
    stages[stages.count - 1].layers += [
        Conv2d(name: last + ".conv_head", inChannels: inChannels, outChannels: features, kernel: 1, random: &random),
        BatchNorm(name: last + ".bn_head", channels: features), Swish(),
    ]
    let head = makeHead(config.head, features: features, classes: classes, seed: seed, random: &random)
    return NetworkLayout(stem: stem, stages: stages, head: head)
}
