import Datasets
import Manifests

extension Components {
    /// The per-image augmentation of a model's `augment:`.
    static func augmentation(_ spec: AugmentSpec) -> Augmentation {
        Augmentation(hflip: spec.hflip, vflip: spec.vflip, cropPadding: spec.cropPadding,
                     randomResizedCrop: spec.randomResizedCrop.map { RandomResizedCrop(scale: $0.scale, ratio: $0.ratio) },
                     randAugment: spec.randAugment.map { RandAugment(n: $0.n, magnitude: $0.magnitude) },
                     randomErasing: spec.randomErasing.map { RandomErasing(p: $0.p, area: $0.area, ratio: $0.ratio) })
    }

    /// Mixup and/or CutMix for each training batch, or nil when neither is set.
    static func batchMixing(_ spec: AugmentSpec) -> BatchMixing? {
        guard spec.mixup != nil || spec.cutmix != nil else { return nil }
        let method = { (mix: MixSpec) in BatchMixing.Method(alpha: mix.alpha, p: mix.p) }
        return BatchMixing(mixup: spec.mixup.map(method), cutmix: spec.cutmix.map(method))
    }

    /// The per-batch input sizes of multi-scale training, or nil when off.
    static func multiScale(_ spec: AugmentSpec) -> MultiScale? {
        spec.multiScale.map { MultiScale(sizes: $0) }
    }
}
