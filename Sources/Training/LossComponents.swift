import Engine
import Manifests

extension Components {
    /// The engine loss a model's `loss:` names. LossSpec fills in the options of
    /// the loss it names, so those are never nil here.
    static func loss(_ spec: LossSpec) -> any Loss {
        switch spec.name {
        case .crossEntropy: return CrossEntropyLoss(labelSmoothing: spec.labelSmoothing, classWeights: spec.classWeights)
        case .bce: return BCEWithLogitsLoss()
        case .focal: return FocalLoss(gamma: spec.gamma)
        case .ohem: return OHEMLoss(keepFraction: spec.keepFraction)
        case .arcface: return ArcFaceLoss(scale: required(spec.scale, spec), margin: required(spec.margin, spec))
        case .cosface: return CosFaceLoss(scale: required(spec.scale, spec), margin: required(spec.margin, spec))
        case .lovaszSoftmax:
            return LovaszSoftmaxLoss(classes: spec.classes == .all ? .all : .present)
        case .lovaszHinge: return LovaszHingeLoss()
        case .softFBeta:
            return SoftFBetaLoss(beta: required(spec.beta, spec), activation: spec.activation == .sigmoid ? .sigmoid : .softmax)
        }
    }

    private static func required(_ option: Float?, _ spec: LossSpec) -> Float {
        guard let option else { preconditionFailure("LossSpec for `\(spec.name.rawValue)` lacks one of its options: \(spec)") }
        return option
    }
}

extension Components {
    /// A model's network: its `arch:`, with a cosine classifier when the loss is a
    /// margin loss (ArcFace, CosFace), which needs logits s·cosθ.
    static func architecture(of spec: ModelSpec) -> ArchitectureConfig {
        var config = architecture(spec.arch)
        config.head.cosineScale = spec.loss.cosineScale
        return config
    }

    /// A fresh network for `spec` on the manifest's data, initialised from `seed`.
    static func model(_ spec: ModelSpec, manifest: Manifest, classes: Int, seed: UInt64) -> Model {
        ModelRegistry.make(name: spec.arch.name, config: architecture(of: spec), inputChannels: manifest.data.channels,
                           classes: classes, seed: seed)
    }
}
