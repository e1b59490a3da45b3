import Engine
import Foundation
import Manifests

/// Fine-tuning a model (`finetune:` in the manifest): its starting weights from a
/// checkpoint, and per epoch which parameters train and at what learning rate.
public enum FineTuning {
    /// What `initialise` did.
    public struct Loaded: Sendable, Equatable {
        /// Parameters and buffers taken from the checkpoint.
        public var loaded: Int
        /// Those that kept their fresh initialisation: the head when it is replaced,
        /// and anything the checkpoint lacks or holds in another shape.
        public var kept: [String]
    }

    /// Loads the checkpoint into the backbone (stem and stages), which must match
    /// it name for name and shape for shape; the head (pooling, neck, classifier)
    /// loads what matches and starts fresh otherwise (another class count), or
    /// entirely when `newHead` is set. Nothing changes when the backbone does not fit.
    public static func initialise(_ model: Model, from checkpoint: URL, newHead: Bool) throws -> Loaded {
        let tensors = try Checkpoint.read(from: checkpoint).tensors
        let misfits = model.parameters.all.filter { model.part(of: $0.name) != .head && tensors[$0.name]?.shape != $0.shape }
        if let first = misfits.first {
            let found = tensors[first.name].map { "has shape \($0.shape)" } ?? "lacks it"
            throw CheckpointError.unreadable(
                path: checkpoint.path,
                reason: "it does not fit the backbone of \(model.architecture): \(misfits.count) of its parameters do not match by name and shape, e.g. \(first.name) \(first.shape) (the checkpoint \(found)); fine-tune from a checkpoint of the same architecture")
        }
        var result = Loaded(loaded: 0, kept: [])
        for parameter in model.parameters.all {
            let replaced = newHead && model.part(of: parameter.name) == .head
            if !replaced, let tensor = tensors[parameter.name], tensor.shape == parameter.shape {
                parameter.value = tensor
                result.loaded += 1
            } else {
                result.kept.append(parameter.name)
            }
        }
        return result
    }

    /// Freezes and scales the learning rates of `model` for `epoch` (0-based):
    /// the stem and the first `freezeStages` stages stay frozen; the whole backbone
    /// is frozen for the first `freezeBackboneEpochs`; the backbone trains at
    /// `backboneLR` times the rate, or stage s of S at `stageLRDecay`^(S − s + 1)
    /// (the stem at `stageLRDecay`^(S + 1)). The head always trains at the full rate.
    public static func apply(_ spec: FineTuneSpec, to model: Model, epoch: Int) {
        let stages = model.stageCount
        for parameter in model.parameters.all where !parameter.isBuffer {
            let depth: Int?   // stages above this part before the head; nil for the head
            switch model.part(of: parameter.name) {
            case .head: depth = nil
            case .stem: depth = stages + 1
            case .stage(let s): depth = stages - s + 1
            }
            guard let depth else {
                (parameter.frozen, parameter.lrMultiplier) = (false, 1)
                continue
            }
            let shallow = spec.freezeStages > 0 && depth > stages - spec.freezeStages
            parameter.frozen = shallow || epoch < spec.freezeBackboneEpochs
            parameter.lrMultiplier = spec.backboneLR ?? spec.stageLRDecay.map { pow($0, Float(depth)) } ?? 1
        }
    }

    /// Checks the settings against the model they will apply to (the stage count,
    /// the checkpoint), so a bad manifest fails before any training.
    public static func check(_ spec: FineTuneSpec, model: Model, modelName: String, manifest: Manifest) throws {
        if spec.freezeStages > model.stageCount {
            throw ManifestError(file: manifest.file?.path ?? "manifest", line: nil, keyPath: "models[\(modelName)].finetune.freeze_stages",
                                message: "`freeze_stages` is \(spec.freezeStages) but \(model.architecture) has \(model.stageCount) stages",
                                fix: "freeze at most \(model.stageCount) stages, e.g. freeze_stages: \(max(1, model.stageCount / 2))")
        }
        if let checkpoint = spec.checkpoint {
            _ = try initialise(model, from: manifest.resolve(checkpoint), newHead: spec.newHead)
        }
    }
}
