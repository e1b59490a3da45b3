/// How a ResNet-style backbone is laid out. `resnet_ref` is the reference
/// network of ../shared/reference/torch_cnn.py; ResNet-18/34 follow He et al.
public struct ResNetConfig: Sendable, Equatable {
    public enum Stem: String, Sendable {
        /// conv3×3 (stride 1) + BN + ReLU: for small images.
        case conv3
        /// conv7×7 (stride 2) + BN + ReLU + max-pool 3×3 (stride 2): ImageNet-style.
        case conv7Pool = "conv7_pool"
    }

    public var widths: [Int]
    public var blocks: [Int]
    public var stem: Stem
    public var squeezeExcitation: Bool
    public var dropout: Float

    public init(widths: [Int], blocks: [Int], stem: Stem = .conv3, squeezeExcitation: Bool = false, dropout: Float = 0) {
        precondition(!widths.isEmpty && widths.count == blocks.count,
                     "ResNetConfig: widths \(widths) and blocks \(blocks) need the same non-zero length")
        (self.widths, self.blocks, self.stem) = (widths, blocks, stem)
        (self.squeezeExcitation, self.dropout) = (squeezeExcitation, dropout)
    }

    public static let resnetRef = ResNetConfig(widths: [32, 64], blocks: [2, 2])
    public static let resnet18 = ResNetConfig(widths: [64, 128, 256, 512], blocks: [2, 2, 2, 2], stem: .conv7Pool)
    public static let resnet34 = ResNetConfig(widths: [64, 128, 256, 512], blocks: [3, 4, 6, 3], stem: .conv7Pool)
}

/// A ResNet: stem, stages of basic blocks (stride 2 from the second stage on),
/// global average pooling, optional dropout, and a linear classifier `fc`.
public func makeResNet(_ config: ResNetConfig, inputChannels: Int, classes: Int, seed: UInt64) -> Sequential {
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
    var layers: [any Layer] = [Sequential(stem)]
    var inChannels = config.widths[0]
    for (stage, (width, count)) in zip(config.widths, config.blocks).enumerated() {
        let blocks: [any Layer] = (0..<count).map { b in
            BasicBlock(name: "stage\(stage + 1).\(b)", inChannels: b == 0 ? inChannels : width,
                       outChannels: width, stride: (b == 0 && stage > 0) ? 2 : 1,
                       squeezeExcitation: config.squeezeExcitation, random: &random)
        }
        layers.append(Sequential(blocks))
        inChannels = width
    }
    layers.append(GlobalAvgPool())
    if config.dropout > 0 { layers.append(Dropout(p: config.dropout, seed: seed ^ stableHash("dropout"))) }
    layers.append(Linear(name: "fc", inFeatures: inChannels, outFeatures: classes, random: &random))
    return Sequential(layers)
}
