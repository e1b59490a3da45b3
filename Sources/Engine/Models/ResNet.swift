/// How a residual network is laid out: stem, stages of basic blocks (ResNet)
/// or bottleneck blocks (ResNeXt), and the head. `resnet_ref` is the reference
/// network of ../shared/reference/torch_cnn.py; ResNet-18/34 follow He et al.
public struct ResNetConfig: Sendable, Equatable {
    public enum Stem: String, Sendable {
        /// conv3×3 (stride 1) + BN + ReLU: for small images.
        case conv3
        /// conv7×7 (stride 2) + BN + ReLU + max-pool 3×3 (stride 2): ImageNet-style.
        case conv7Pool = "conv7_pool"
    }

    public enum Block: Sendable, Equatable {
        /// Two 3×3 convolutions; a stage's output has its width in channels.
        case basic
        /// 1×1 → grouped 3×3 → 1×1 (ResNeXt); a stage's output has 4× its width in channels.
        case bottleneck(cardinality: Int, baseWidth: Int)
    }

    /// Channels per stage (a bottleneck stage's `planes`).
    public var widths: [Int]
    public var blocks: [Int]
    public var stem: Stem
    public var block: Block
    public var squeezeExcitation: Bool
    /// IBN-a: instance norm on half the channels after the first convolution
    /// of every block in all stages but the last (IBN-Net's resnet_ibn_a).
    public var ibn: Bool
    /// Every block's last batch norm starts with γ = 0, so each block begins
    /// as its shortcut (Goyal et al. 2017; torchvision's `zero_init_residual`).
    public var zeroInitResidual = false
    public var head: HeadConfig

    public init(widths: [Int], blocks: [Int], stem: Stem = .conv3, block: Block = .basic,
                squeezeExcitation: Bool = false, ibn: Bool = false, dropout: Float = 0) {
        precondition(!widths.isEmpty && widths.count == blocks.count,
                     "ResNetConfig: widths \(widths) and blocks \(blocks) need the same non-zero length")
        (self.widths, self.blocks, self.stem, self.block) = (widths, blocks, stem, block)
        (self.squeezeExcitation, self.ibn, self.head) = (squeezeExcitation, ibn, HeadConfig(dropout: dropout))
    }

    public static let resnetRef = ResNetConfig(widths: [32, 64], blocks: [2, 2])
    public static let resnet18 = ResNetConfig(widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], stem: .conv7Pool)
    public static let resnet34 = ResNetConfig(widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3], stem: .conv7Pool)
    /// A small SE-ResNeXt for small images: 8 groups of base width 4, outputs 128, 256 and 512 channels.
    public static let seResNeXt = ResNetConfig(widths: [32, 64, 128], blocks: [2, 2, 2],
                                               block: .bottleneck(cardinality: 8, baseWidth: 4), squeezeExcitation: true)
}

/// A residual network: stem, stages (stride 2 from the second stage on), and
/// the configured head (by default global average pooling, optional dropout
/// and a linear classifier `fc`).
public func makeResNet(_ config: ResNetConfig, inputChannels: Int, classes: Int, seed: UInt64) -> Sequential {
    let layout = resNetLayout(config, inputChannels: inputChannels, classes: classes, seed: seed)
    return Sequential([layout.stem] + layout.stages + [layout.head])
}

func resNetLayout(_ config: ResNetConfig, inputChannels: Int, classes: Int, seed: UInt64) -> NetworkLayout {
    var random = SeededRandom(seed, stableHash("weights"))
    let stemConv: Conv2d
    var stem: [any Layer]
    switch config.stem {
    case .conv3:
        stemConv = Conv2d(name: "stem.0", inChannels: inputChannels, outChannels: config.widths[0], kernel: 3,
                          padding: 1, random: &random)
        stem = [stemConv, BatchNorm(name: "stem.1", channels: config.widths[0], relu: true)]
    case .conv7Pool:
        stemConv = Conv2d(name: "stem.0", inChannels: inputChannels, outChannels: config.widths[0], kernel: 7,
                          stride: 2, padding: 3, random: &random)
        stem = [stemConv, BatchNorm(name: "stem.1", channels: config.widths[0], relu: true),
                MaxPool2d(kernel: 3, stride: 2, padding: 1)]
    }
    stemConv.computesInputGradient = false
    var stages: [any Layer] = []
    var inChannels = config.widths[0]
    for (stage, (width, count)) in zip(config.widths, config.blocks).enumerated() {
        let ibn = config.ibn && stage < config.widths.count - 1
        let blocks: [any Layer] = (0..<count).map { b in
            let (name, stride) = ("stage\(stage + 1).\(b)", (b == 0 && stage > 0) ? 2 : 1)
            let input = b == 0 ? inChannels : outputChannels(config.block, width: width)
            let block: ResidualBlock
            switch config.block {
            case .basic:
                block = BasicBlock(name: name, inChannels: input, outChannels: width, stride: stride,
                                   squeezeExcitation: config.squeezeExcitation, ibn: ibn, random: &random)
            case .bottleneck(let cardinality, let baseWidth):
                block = Bottleneck(name: name, inChannels: input, planes: width, stride: stride, cardinality: cardinality,
                                   baseWidth: baseWidth, squeezeExcitation: config.squeezeExcitation, ibn: ibn,
                                   random: &random)
            }
            if config.zeroInitResidual { block.zeroInitialiseLastNorm() }
            return block
        }
        stages.append(Sequential(blocks))
        inChannels = outputChannels(config.block, width: width)
    }
    let head = makeHead(config.head, features: inChannels, classes: classes, seed: seed, random: &random)
    return NetworkLayout(stem: Sequential(stem), stages: stages, head: head)
}

private func outputChannels(_ block: ResNetConfig.Block, width: Int) -> Int {
    if case .bottleneck = block { return width * Bottleneck.expansion }
    return width
}
