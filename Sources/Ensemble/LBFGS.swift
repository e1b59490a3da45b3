/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4) with a
/// backtracking Armijo line search; curvature pairs with sᵀy ≤ 0 are skipped
/// so the implied Hessian stays positive definite.
enum LBFGS {
    /// Minimises `function` from `start` until the largest gradient entry is
    /// at most `tolerance` (scikit-learn's `gtol`), no step decreases the value
    /// any more, or `maxIterations` steps were taken.
    static func minimise(_ function: ([Double]) -> (value: Double, gradient: [Double]), start: [Double],
                         tolerance: Double, maxIterations: Int, memory: Int = 10) -> [Double] {
        var theta = start
        var (value, gradient) = function(theta)
        var history: [(s: [Double], y: [Double], rho: Double)] = []
        for iteration in 0..<maxIterations where largestMagnitude(gradient) > tolerance {
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
