import Datasets

/// The level-2 stage over the base sets' OOF matrix: each requested blend and
/// stacker, with its own OOF score (stackers nested in the base folds).
public enum Level2 {
    public static let blendMethods = ["mean", "rank", "weights", "hillclimb"]
    public static let stackerNames = ["logistic", "mlp", "xgboost"]

    /// Results named `blend/<method>` and `stack/<learner>`, in the order asked.
    public static func run(_ inputs: StackingInputs, metric: Metric, blends: [String], stackers: [String],
                           seed: UInt64 = 0) throws -> [EnsembleResult] {
        var results: [EnsembleResult] = []
        for blend in blends {
            var result: EnsembleResult
            switch blend {
            case "mean": result = Blend.mean(inputs, metric: metric)
            case "rank": result = Blend.rank(inputs, metric: metric)
            case "weights": result = Blend.optimisedWeights(inputs, metric: metric)
            case "hillclimb": result = HillClimbing.select(inputs, metric: metric)
            default: preconditionFailure("Level2: unknown blend \(blend); one of \(blendMethods)")
            }
            result.name = "blend/\(blend)"
            results.append(result)
        }
        for stacker in stackers {
            let make: () -> any Stacker
            switch stacker {
            case "logistic": make = { LogisticRegression() }
            case "mlp": make = { MLPStacker(seed: seed) }
            case "xgboost": make = { XGBoostStacker(seed: Int(seed % UInt64(Int32.max))) }
            default: preconditionFailure("Level2: unknown stacker \(stacker); one of \(stackerNames)")
            }
            results.append(try NestedStacking.run(inputs, metric: metric, name: "stack/\(stacker)", makeStacker: make))
        }
        return results
    }
}
