import Foundation
import Manifests
import Training

/// The tasks of the stages after the base models: pseudo-label rounds and the
/// distilled student. A stage's name carries a hash of the manifest's
/// `ensemble` section, which decides what these tasks learn from, so changing
/// it makes new tasks instead of reusing results computed under other settings.
public enum StagePlan {
    public static let pseudoStage = "pseudo"
    public static let distillStage = "distill"

    /// 8 hex digits of FNV-1a over the ensemble section's canonical JSON.
    public static func settingsTag(_ manifest: Manifest) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(manifest.ensemble)).map(Array.init) ?? []
        return String(String(ClusterTask.fnv1a64(bytes), radix: 16).suffix(8))
    }

    /// Round `round` (1-based): each listed model on every seed and fold.
    public static func pseudoTasks(_ manifest: Manifest, spec: PseudoLabelSpec, round: Int) -> [ClusterTask] {
        tasks(manifest, stage: "\(pseudoStage)-\(settingsTag(manifest))", round: round, models: spec.models)
    }

    public static func distillTasks(_ manifest: Manifest, spec: DistillSpec) -> [ClusterTask] {
        tasks(manifest, stage: "\(distillStage)-\(settingsTag(manifest))", round: 0, models: [spec.student])
    }

    private static func tasks(_ manifest: Manifest, stage: String, round: Int, models: [String]) -> [ClusterTask] {
        models.flatMap { model in
            manifest.cv.seeds.flatMap { seed in
                (0..<manifest.cv.folds).map { fold in
                    ClusterTask(manifestHash: manifest.hash, stage: stage, round: round,
                                fold: FoldTask(model: model, seed: seed, fold: fold))
                }
            }
        }
    }
}
