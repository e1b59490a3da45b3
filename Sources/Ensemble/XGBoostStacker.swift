// Shape letters: N rows, D features, K classes.

/// Gradient-boosted trees as a level-2 learner, through XGBoost's C API.
///
/// Objective: `binary:logistic` when K == 2 (one tree per round, as XGBoost
/// users expect for binary problems; its probability p becomes the pair
/// [1 - p, p]), `multi:softprob` with `num_class` K otherwise. Trees are grown
/// with `tree_method=hist`. With `threads` and `seed` fixed, two fits on the
/// same data give bit-identical predictions; XGBoost's logging is silenced.
public struct XGBoostStacker: Stacker {
    public var rounds: Int
    public var maxDepth: Int
    public var eta: Double
    public var subsample: Double
    public var colsampleByTree: Double
    public var lambda: Double
    public var threads: Int
    public var seed: Int
    /// Extra XGBoost parameters by XGBoost's own names, set after the ones above (so they win).
    public var extraParameters: [(String, String)]

    private var booster: XGBoostBooster?
    private var featureCount = 0
    private var classes = 0

    public init(rounds: Int = 100, maxDepth: Int = 3, eta: Double = 0.1, subsample: Double = 1,
                colsampleByTree: Double = 1, lambda: Double = 1, threads: Int = 1, seed: Int = 0,
                extraParameters: [(String, String)] = []) {
        (self.rounds, self.maxDepth, self.eta, self.subsample) = (rounds, maxDepth, eta, subsample)
        (self.colsampleByTree, self.lambda, self.threads, self.seed) = (colsampleByTree, lambda, threads, seed)
        self.extraParameters = extraParameters
    }

    /// XGBoost's parameters for a K-class problem, in the order they are set.
    public func parameters(classes K: Int) -> [(String, String)] {
        let objective: [(String, String)] = K == 2
            ? [("objective", "binary:logistic")]
            : [("objective", "multi:softprob"), ("num_class", String(K))]
        return objective + [
            ("tree_method", "hist"), ("max_depth", String(maxDepth)), ("eta", String(eta)),
            ("subsample", String(subsample)), ("colsample_bytree", String(colsampleByTree)),
            ("lambda", String(lambda)), ("nthread", String(threads)), ("seed", String(seed)),
            ("verbosity", "0"),
        ] + extraParameters
    }

    /// Fits `rounds` rounds on [N, D] `features`; XGBoost's rejection of a
    /// parameter or of the data is thrown as an `XGBoostError`.
    public mutating func fit(features: [Float], featureCount D: Int, labels: [Int], classes K: Int) throws {
        guard rounds >= 1 else {
            throw XGBoostError(call: "XGBoostStacker.fit", message: "rounds is \(rounds); boosting needs at least 1 round")
        }
        guard K >= 2 else {
            throw XGBoostError(call: "XGBoostStacker.fit", message: "\(K) classes; a classifier needs at least 2")
        }
        let training = try XGBoostMatrix(features: features, columns: D, labels: labels.map(Float.init))
        let booster = try XGBoostBooster(cached: [training], parameters: parameters(classes: K))
        for round in 0..<rounds { try booster.update(iteration: round, training: training) }
        (self.booster, featureCount, classes) = (booster, D, K)
    }

    /// [N, K] class probabilities of [N, D] `features`, throwing XGBoost's error if it has one.
    public func probabilities(features: [Float]) throws(XGBoostError) -> [Float] {
        guard let booster else {
            throw XGBoostError(call: "XGBoostStacker.probabilities", message: "the stacker has not been fitted; call fit first")
        }
        if features.isEmpty { return [] }
        let predicted = try booster.predict(XGBoostMatrix(features: features, columns: featureCount))
        guard classes == 2 else { return predicted }
        return predicted.flatMap { [1 - $0, $0] }
    }

    /// `Stacker`'s entry point. Predicting can only fail on a programming error
    /// (no fit, or rows of another width), so a failure stops with XGBoost's message.
    public func predictProbabilities(features: [Float]) -> [Float] {
        do { return try probabilities(features: features) } catch { preconditionFailure(error.description) }
    }
}
