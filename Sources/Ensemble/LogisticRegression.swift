import Foundation

// Shape letters: N rows, D features, K classes.

/// Multinomial (softmax) logistic regression with an L2 penalty, the model of
/// scikit-learn's `LogisticRegression(C=C)` with the lbfgs solver on more than
/// two classes: it minimises Σ_i CE_i + ‖W‖² / (2C), intercepts not penalised.
/// With two classes it still fits the symmetric two-row softmax (whose penalty
/// differs from sklearn's one-vector binary model). Solved in double precision
/// by L-BFGS to a tight gradient tolerance, so the answer is the optimum
/// itself rather than an early stop.
public struct LogisticRegression: Stacker, Sendable {
    public var inverseRegularization: Double
    /// Stop when the largest gradient entry falls below this fraction of the
    /// largest one at the start (W = 0, b = 0).
    public var tolerance: Double
    public var maxIterations: Int
    /// [K, D] row-major, after `fit`.
    public private(set) var coefficients: [Double] = []
    /// [K], after `fit`; centred to sum 0 (adding a constant to every
    /// intercept changes no probability).
    public private(set) var intercepts: [Double] = []
    public private(set) var featureCount = 0
    public private(set) var classes = 0

    public init(inverseRegularization C: Double = 1, tolerance: Double = 1e-7, maxIterations: Int = 2000) {
        precondition(C > 0, "LogisticRegression: C must be positive, got \(C)")
        (self.inverseRegularization, self.tolerance, self.maxIterations) = (C, tolerance, maxIterations)
    }

    public mutating func fit(features: [Float], featureCount D: Int, labels: [Int], classes K: Int) {
        precondition(D > 0 && features.count == labels.count * D,
                     "LogisticRegression.fit: \(features.count) features for \(labels.count) rows of \(D)")
        let objective = SoftmaxObjective(x: features.map(Double.init), labels: labels, D: D, K: K,
                                         penalty: 1 / inverseRegularization)
        let theta = LBFGS.minimise(objective.evaluate, start: [Double](repeating: 0, count: K * (D + 1)),
                                   tolerance: tolerance, maxIterations: maxIterations)
        let rawIntercepts = Array(theta[(K * D)...])
        let centre = rawIntercepts.reduce(0, +) / Double(K)
        (coefficients, intercepts) = (Array(theta[..<(K * D)]), rawIntercepts.map { $0 - centre })
        (featureCount, classes) = (D, K)
    }

    public func predictProbabilities(features: [Float]) -> [Float] {
        precondition(featureCount > 0, "LogisticRegression.predictProbabilities called before fit")
        precondition(features.count % featureCount == 0,
                     "LogisticRegression.predictProbabilities: \(features.count) values are not rows of \(featureCount)")
        let objective = SoftmaxObjective(x: features.map(Double.init), labels: [], D: featureCount, K: classes, penalty: 0)
        return objective.probabilities(coefficients + intercepts).map { Float($0) }
    }
}

/// Σ_i CE_i + penalty/2 · ‖W‖² over θ = (W [K, D] row-major, b [K]) and its gradient.
struct SoftmaxObjective {
    let x: [Double]
    let labels: [Int]
    let D: Int
    let K: Int
    let penalty: Double
    var N: Int { x.count / D }

    /// Softmax of x·Wᵀ + b, [N, K].
    func probabilities(_ theta: [Double]) -> [Double] {
        var p = [Double](repeating: 0, count: N * K)
        var logits = [Double](repeating: 0, count: K)
        for i in 0..<N {
            var largest = -Double.infinity
            for k in 0..<K {
                var z = theta[K * D + k]
                for j in 0..<D { z += theta[k * D + j] * x[i * D + j] }
                logits[k] = z
                largest = max(largest, z)
            }
            var total = 0.0
            for k in 0..<K { logits[k] = exp(logits[k] - largest); total += logits[k] }
            for k in 0..<K { p[i * K + k] = logits[k] / total }
        }
        return p
    }

    func evaluate(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
        let p = probabilities(theta)
        var value = 0.0
        var gradient = [Double](repeating: 0, count: theta.count)
        for i in 0..<N {
            value -= log(max(p[i * K + labels[i]], .leastNormalMagnitude))
            for k in 0..<K {
                let residual = p[i * K + k] - (labels[i] == k ? 1 : 0)
                gradient[K * D + k] += residual
                for j in 0..<D { gradient[k * D + j] += residual * x[i * D + j] }
            }
        }
        for index in 0..<(K * D) {
            value += penalty / 2 * theta[index] * theta[index]
            gradient[index] += penalty * theta[index]
        }
        return (value, gradient)
    }
}

/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4) with a
/// backtracking Armijo line search; curvature pairs with sᵀy ≤ 0 are skipped
/// so the implied Hessian stays positive definite.
enum LBFGS {
    static func minimise(_ function: ([Double]) -> (value: Double, gradient: [Double]), start: [Double],
                         tolerance: Double, maxIterations: Int, memory: Int = 10) -> [Double] {
        var theta = start
        var (value, gradient) = function(theta)
        let threshold = tolerance * max(1, largestMagnitude(gradient))
        var history: [(s: [Double], y: [Double], rho: Double)] = []
        for iteration in 0..<maxIterations where largestMagnitude(gradient) > threshold {
            var direction = twoLoopDirection(gradient, history)
            var slope = dot(direction, gradient)
            if slope >= 0 {
                // Not a descent direction (should not happen): fall back to steepest descent.
                (direction, history) = (gradient.map { -$0 }, [])
                slope = dot(direction, gradient)
            }
            var step = iteration == 0 ? 1 / max(1, euclideanNorm(gradient)) : 1
            var accepted: (theta: [Double], value: Double, gradient: [Double])?
            for _ in 0..<60 {
                let candidate = zip(theta, direction).map { $0 + step * $1 }
                let (candidateValue, candidateGradient) = function(candidate)
                if candidateValue <= value + 1e-4 * step * slope {
                    accepted = (candidate, candidateValue, candidateGradient)
                    break
                }
                step /= 2
            }
            // No strict decrease left within rounding: the optimum is as close as doubles allow.
            guard let accepted, accepted.value < value else { break }
            let s = zip(accepted.theta, theta).map { $0 - $1 }
            let y = zip(accepted.gradient, gradient).map { $0 - $1 }
            let curvature = dot(s, y)
            if curvature > 1e-12 * dot(y, y) {
                history.append((s, y, 1 / curvature))
                if history.count > memory { history.removeFirst() }
            }
            (theta, value, gradient) = accepted
        }
        return theta
    }

    /// −H·g with H the inverse-Hessian approximation from the stored pairs.
    static func twoLoopDirection(_ gradient: [Double], _ history: [(s: [Double], y: [Double], rho: Double)]) -> [Double] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: history.count)
        for index in history.indices.reversed() {
            let (s, y, rho) = history[index]
            alphas[index] = rho * dot(s, q)
            for i in q.indices { q[i] -= alphas[index] * y[i] }
        }
        if let last = history.last {
            let scale = dot(last.s, last.y) / dot(last.y, last.y)
            for i in q.indices { q[i] *= scale }
        }
        for index in history.indices {
            let (s, y, rho) = history[index]
            let beta = rho * dot(y, q)
            for i in q.indices { q[i] += (alphas[index] - beta) * s[i] }
        }
        return q.map { -$0 }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func euclideanNorm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
    static func largestMagnitude(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }
}
