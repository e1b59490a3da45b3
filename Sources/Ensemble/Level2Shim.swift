// TEMPORARY: the typed level-2 API while the ensemble branch lands; replaced at merge.
import Datasets

public enum Level2Method: String, Sendable, Codable, CaseIterable, Hashable {
    case mean, rank, weights, hillclimb, logistic, mlp, xgboost
    public enum Kind: Int, Sendable, Codable, Comparable {
        case blend = 1, stacker = 2
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }
    public var kind: Kind { [.mean, .rank, .weights, .hillclimb].contains(self) ? .blend : .stacker }
    public var subject: String { (kind == .blend ? "blend/" : "stack/") + rawValue }
    public var isFitted: Bool { self != .mean && self != .rank }
    public var givesProbabilities: Bool { self != .rank }
    public init?(subject: String) {
        guard let method = Self.allCases.first(where: { $0.subject == subject }) else { return nil }
        self = method
    }
}

public struct FittedLevel2 {
    public let method: Level2Method
    public let weights: [Double]?
    let stacker: (any Stacker)?
    let classes: Int

    public func predict(_ sets: [[Float]]) throws -> [Float] {
        if let stacker {
            let rows = sets[0].count / classes
            return stacker.predictProbabilities(features: StackingInputs.concatenate(sets, rows: rows, classes: classes))
        }
        if method == .rank { return Blend.rankAverage(sets, rows: sets[0].count / classes, classes: classes) }
        return Blend.weightedSum(sets, weights!)
    }
}

extension Level2 {
    public static func run(_ inputs: StackingInputs, metric: Metric, methods: [Level2Method], seed: UInt64 = 0) throws -> [EnsembleResult] {
        try run(inputs, metric: metric, blends: methods.filter { $0.kind == .blend }.map(\.rawValue),
                stackers: methods.filter { $0.kind == .stacker }.map(\.rawValue), seed: seed)
    }

    public static func fit(_ method: Level2Method, _ inputs: StackingInputs, rows: [Int], metric: Metric, seed: UInt64 = 0) throws -> FittedLevel2 {
        let K = inputs.classes
        let subset = try StackingInputs(
            sets: inputs.sets.map { StackingInputs.BaseSet(name: $0.name, oof: NestedStacking.gather($0.oof, rows: rows, width: K), test: $0.test) },
            labels: rows.map { inputs.labels[$0] }, folds: rows.indices.map { $0 % 2 }, classes: K)
        switch method {
        case .mean, .rank:
            return FittedLevel2(method: method, weights: [Double](repeating: 1 / Double(inputs.sets.count), count: inputs.sets.count), stacker: nil, classes: K)
        case .weights:
            return FittedLevel2(method: method, weights: Blend.optimisedWeights(subset, metric: metric).weights, stacker: nil, classes: K)
        case .hillclimb:
            return FittedLevel2(method: method, weights: HillClimbing.selectionWeights(subset, metric: metric), stacker: nil, classes: K)
        case .logistic, .mlp, .xgboost:
            var stacker: any Stacker
            if method == .logistic { stacker = LogisticRegression() } else if method == .mlp { stacker = MLPStacker(seed: seed) } else { stacker = XGBoostStacker(seed: Int(seed % UInt64(Int32.max))) }
            try stacker.fit(features: subset.oofFeatures, featureCount: subset.featureCount, labels: subset.labels, classes: K)
            return FittedLevel2(method: method, weights: nil, stacker: stacker, classes: K)
        }
    }
}

extension EnsembleResult {
    public var method: Level2Method { Level2Method(subject: name)! }
    public var inSampleScore: Double? { nil }
}
