/// The layers after the backbone: pooling, an optional BNNeck, dropout and the
/// classifier. The default is global average pooling, dropout and a linear
/// classifier `fc`.
public struct HeadConfig: Sendable, Equatable {
    public enum Pooling: String, Sendable, CaseIterable {
        case avg, max
        /// Generalized mean with a learnable exponent (`pool.p`).
        case gem
        /// Average and max pooling concatenated, then a linear reduction (`reduce`) back to the feature width.
        case dual
    }

    public var pooling: Pooling
    /// BNNeck (Luo et al. 2019, "Bag of Tricks for Person Re-ID"): batch norm
    /// (`neck`) with its bias frozen at zero between the pooled features and a
    /// classifier without bias.
    public var bnneck: Bool
    /// Dropout before the classifier, 0..<1.
    public var dropout: Float
    /// A cosine classifier with this scale s (logits s·cos θ, for ArcFace and
    /// CosFace) instead of the linear one; nil: linear.
    public var cosineScale: Float?

    public init(pooling: Pooling = .avg, bnneck: Bool = false, dropout: Float = 0, cosineScale: Float? = nil) {
        precondition(dropout >= 0 && dropout < 1, "HeadConfig: dropout must be in 0..<1, got \(dropout)")
        precondition((cosineScale ?? 1) > 0, "HeadConfig: the cosine scale must be > 0, got \(cosineScale ?? 0)")
        (self.pooling, self.bnneck, self.dropout, self.cosineScale) = (pooling, bnneck, dropout, cosineScale)
    }
}

/// pool → (dual: `reduce`) → (`neck`) → dropout → `fc`, on [N, features, H, W] feature maps.
/// Dropout draws from its own stream, derived from `seed`.
func makeHead(_ config: HeadConfig, features: Int, classes: Int, seed: UInt64, random: inout SeededRandom) -> Sequential {
    var layers: [any Layer]
    switch config.pooling {
    case .avg: layers = [GlobalAvgPool()]
    case .max: layers = [GlobalMaxPool()]
    case .gem: layers = [GeMPool(name: "pool")]
    case .dual:
        layers = [DualPool(), Linear(name: "reduce", inFeatures: 2 * features, outFeatures: features, random: &random)]
    }
    if config.bnneck { layers.append(BatchNorm(name: "neck", channels: features, trainableBias: false)) }
    if config.dropout > 0 { layers.append(Dropout(p: config.dropout, seed: seed ^ stableHash("dropout"))) }
    if let scale = config.cosineScale {
        layers.append(CosineClassifier(name: "fc", inFeatures: features, outFeatures: classes, scale: scale, random: &random))
    } else {
        layers.append(Linear(name: "fc", inFeatures: features, outFeatures: classes, bias: !config.bnneck, random: &random))
    }
    return Sequential(layers)
}
