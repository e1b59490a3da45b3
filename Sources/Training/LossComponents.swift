import Engine
import Manifests

extension Components {
    /// The engine loss a model's `loss:` names.
    static func loss(_ spec: LossSpec) -> any Loss {
        switch spec.name {
        case .crossEntropy: return CrossEntropyLoss(labelSmoothing: spec.labelSmoothing, classWeights: spec.classWeights)
        case .bce: return BCEWithLogitsLoss()
        case .focal: return FocalLoss(gamma: spec.gamma)
        case .ohem: return OHEMLoss(keepFraction: spec.keepFraction)
        }
    }
}
