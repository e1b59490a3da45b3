import Ensemble
import Manifests

extension Level2Method {
    /// The learner of a manifest's blend: an exhaustive bridge between the two vocabularies.
    public init(_ blend: BlendMethod) {
        switch blend {
        case .mean: self = .mean
        case .rank: self = .rank
        case .weights: self = .weights
        case .hillclimb: self = .hillclimb
        }
    }

    /// The learner of a manifest's stacker.
    public init(_ stacker: StackerName) {
        switch stacker {
        case .logistic: self = .logistic
        case .mlp: self = .mlp
        case .xgboost: self = .xgboost
        }
    }
}

extension EnsembleSection {
    /// The level-2 methods asked for: the blends, then the stackers, in the manifest's order.
    public var methods: [Level2Method] { blends.map(Level2Method.init) + stackers.map(Level2Method.init) }
}
