import Cluster
import Foundation
import Manifests
import Training

/// The training stages a manifest asks for and their tasks. Each later stage's
/// key hashes the settings that decide what its tasks learn: a pseudo-label
/// round's is the `pseudo_label` section; the student's is the `distill`
/// section plus the pseudo-label key when there are rounds before it. Blends,
/// stackers and `sets` are in no key: changing them re-runs level 2 only (the
/// source a round or the student learned from is recorded when first chosen).
public enum StagePlan {
    /// Base, then each pseudo-label round, then distillation: the order they run in.
    public static func stages(_ manifest: Manifest) -> [KeyedStage] {
        var stages = [KeyedStage.base]
        if let spec = manifest.ensemble?.pseudoLabel {
            let key = pseudoKey(spec)
            stages += (1...max(spec.rounds, 1)).map { KeyedStage(.pseudoLabel(round: $0), key: key) }
        }
        if let spec = manifest.ensemble?.distill {
            stages.append(KeyedStage(.distillation, key: distillKey(spec, pseudo: manifest.ensemble?.pseudoLabel)))
        }
        return stages
    }

    /// The models a stage trains.
    public static func models(_ manifest: Manifest, stage: Stage) -> [String] {
        switch stage {
        case .base: manifest.models.map(\.name)
        case .pseudoLabel: manifest.ensemble?.pseudoLabel?.models ?? []
        case .distillation: manifest.ensemble?.distill.map { [$0.student] } ?? []
        }
    }

    /// Each of the stage's models on every seed and fold.
    public static func tasks(_ manifest: Manifest, stage: KeyedStage) -> [ClusterTask] {
        if stage == .base { return CoordinatorShell.tasks(for: manifest) }
        return models(manifest, stage: stage.stage).flatMap { model in
            manifest.cv.seeds.flatMap { seed in
                (0..<manifest.cv.folds).map { fold in
                    ClusterTask(manifestHash: manifest.hash, stage: stage.storageName, round: stage.stage.round,
                                fold: FoldTask(model: model, seed: seed, fold: fold))
                }
            }
        }
    }

    static func pseudoKey(_ spec: PseudoLabelSpec) -> String {
        hash(["pseudo-v2", canonical(spec)])
    }

    static func distillKey(_ spec: DistillSpec, pseudo: PseudoLabelSpec?) -> String {
        hash(["distill-v2", canonical(spec), pseudo.map(pseudoKey) ?? ""])
    }

    private static func canonical<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// 8 hex digits of FNV-1a over the length-prefixed parts.
    private static func hash(_ parts: [String]) -> String {
        let text = parts.map { "\($0.utf8.count):\($0)" }.joined(separator: ";")
        let digits = String(ClusterTask.fnv1a64(Array(text.utf8)), radix: 16)
        return String((String(repeating: "0", count: 16 - digits.count) + digits).suffix(8))
    }
}

extension StagePlan {
    /// The name a task's model goes by (`resnet`, `resnet+pl1`, `resnet+kd`); the bare model for a task of no current stage.
    public static func label(of task: ClusterTask, in manifest: Manifest) -> String {
        let stage = stages(manifest).first { $0.owns(storageName: task.stage, round: task.round) }
        return stage?.stage.label(model: task.fold.model) ?? task.fold.model
    }
}
