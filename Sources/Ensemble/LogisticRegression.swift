import Foundation

// Shape letters: N rows, D features, K classes.

/// L2-penalised logistic regression with scikit-learn's
/// `LogisticRegression(C=C)` (lbfgs) model and objective, intercepts not
/// penalised, for any number of classes:
/// - two classes: one weight vector w, P(class 1) = σ(w·x + b), minimising
///   Σ_i CE_i + ‖w‖² / (2C);
/// - more: the multinomial softmax over K weight vectors, minimising
///   Σ_i CE_i + ‖W‖² / (2C).
/// Solved in double precision by L-BFGS until the largest entry of the
/// objective's gradient, divided by N as scikit-learn divides it, is at most
/// `tolerance`: scikit-learn's `gtol` is 1e-4; the default here is 100 times
/// tighter, so the probabilities are those of the optimum to many digits.
public struct LogisticRegression: Stacker, Sendable {
    public var inverseRegularization: Double
    /// Largest gradient entry (of the objective divided by N) at which the fit stops.
    public var tolerance: Double
    public var maxIterations: Int
    /// [K, D] row-major, after `fit`. With two classes the rows are −w/2 and
    /// w/2, so row 1 − row 0 is scikit-learn's `coef_[0]`.
    public private(set) var coefficients: [Double] = []
    /// [K], after `fit`; centred to sum 0 (adding a constant to every
    /// intercept changes no probability). Two classes: −b/2 and b/2.
    public private(set) var intercepts: [Double] = []
    public private(set) var featureCount = 0
    public private(set) var classes = 0

    public init(inverseRegularization C: Double = 1, tolerance: Double = 1e-6, maxIterations: Int = 1000) {
        precondition(C > 0, "LogisticRegression: C must be positive, got \(C)")
        (self.inverseRegularization, self.tolerance, self.maxIterations) = (C, tolerance, maxIterations)
    }

    public mutating func fit(features: [Float], featureCount D: Int, labels: [Int], classes K: Int) {
        precondition(D > 0 && features.count == labels.count * D,
                     "LogisticRegression.fit: \(features.count) features for \(labels.count) rows of \(D)")
        precondition(K >= 2 && labels.allSatisfy { (0..<K).contains($0) },
                     "LogisticRegression.fit: labels must lie in 0..<\(K) with at least 2 classes")
        let penalty = 1 / inverseRegularization
        let start = Self.priorIntercepts(labels, classes: K)
        if K == 2 {
            let objective = BinaryObjective(x: features, labels: labels, D: D, penalty: penalty)
            let theta = LBFGS.minimise(objective.evaluate, start: [Double](repeating: 0, count: D) + [start[1] - start[0]],
                                       tolerance: tolerance, maxIterations: maxIterations)
            let half = theta.map { $0 / 2 }
            coefficients = half[..<D].map { -$0 } + half[..<D]
            intercepts = [-half[D], half[D]]
        } else {
            let objective = SoftmaxObjective(x: features, labels: labels, D: D, K: K, penalty: penalty)
            let theta = LBFGS.minimise(objective.evaluate, start: [Double](repeating: 0, count: K * D) + start,
                                       tolerance: tolerance, maxIterations: maxIterations)
            let rawIntercepts = Array(theta[(K * D)...])
            let centre = rawIntercepts.reduce(0, +) / Double(K)
            (coefficients, intercepts) = (Array(theta[..<(K * D)]), rawIntercepts.map { $0 - centre })
        }
        (featureCount, classes) = (D, K)
    }

    public func predictProbabilities(features: [Float]) -> [Float] {
        precondition(featureCount > 0, "LogisticRegression.predictProbabilities called before fit")
        precondition(features.count % featureCount == 0,
                     "LogisticRegression.predictProbabilities: \(features.count) values are not rows of \(featureCount)")
        let rows = features.count / featureCount
        let objective = SoftmaxObjective(x: features, labels: [Int](repeating: 0, count: rows), D: featureCount,
                                         K: classes, penalty: 0)
        return objective.probabilities(coefficients + intercepts).map { Float($0) }
    }

    /// Log class frequencies (a class never seen counts as half a row),
    /// centred: the intercept-only optimum without penalty, a start one
    /// fold's labels give without looking at any other fold.
    static func priorIntercepts(_ labels: [Int], classes K: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: K)
        for label in labels { counts[label] += 1 }
        let logs = counts.map { log(max($0, 0.5)) }
        let centre = logs.reduce(0, +) / Double(K)
        return logs.map { $0 - centre }
    }
}
