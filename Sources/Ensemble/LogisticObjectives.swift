// Shape letters: N rows, D features, C = ⌈D/4⌉ chunks of four features,
// K classes, B rows per block.
//
// Both objectives are scikit-learn's LogisticRegression objectives divided by
// N (as scikit-learn divides them, so a gradient tolerance means the same for
// any row count): (1/N)·(Σ_i CE_i + penalty/2 · ‖W‖²), intercepts not
// penalised, penalty = 1/C. Everything is Double. Rows are visited in blocks
// of B: the block's logits, then all their exponentials four at a time, then
// the gradient, so one evaluation reads each row once from memory.
// Tests/EnsembleTests/LogisticObjectiveTests.swift checks both against plain loops.

private let B = 64

/// Float feature rows, four features per SIMD4 chunk, each row zero-padded to
/// C chunks. Kept in Float (the features arrive as Float, so nothing is lost)
/// to halve the memory an evaluation streams through; each chunk is widened
/// to Double as it is read, and all arithmetic is Double.
struct PackedRows: Sendable {
    let chunks: [SIMD4<Float>]
    let D: Int
    let C: Int

    init(_ x: [Float], featureCount D: Int) {
        let C = (D + 3) / 4
        let rows = D == 0 ? 0 : x.count / D
        var chunks = [SIMD4<Float>](repeating: .zero, count: rows * C)
        for row in 0..<rows {
            for c in 0..<C {
                var chunk = SIMD4<Float>.zero
                for lane in 0..<min(4, D - 4 * c) { chunk[lane] = x[row * D + 4 * c + lane] }
                chunks[row * C + c] = chunk
            }
        }
        (self.chunks, self.D, self.C) = (chunks, D, C)
    }

    /// A row-major [rows, D] coefficient matrix in the same chunks, in Double.
    static func weights(_ matrix: ArraySlice<Double>, width D: Int) -> [SIMD4<Double>] {
        let C = (D + 3) / 4
        let rows = matrix.count / D
        var chunks = [SIMD4<Double>](repeating: .zero, count: rows * C)
        for index in 0..<(rows * D) {
            let (row, j) = (index / D, index % D)
            chunks[row * C + j / 4][j % 4] = matrix[matrix.startIndex + index]
        }
        return chunks
    }

    @inline(__always)
    private func wide(_ index: Int) -> SIMD4<Double> {
        let f = chunks[index]
        return SIMD4(Double(f[0]), Double(f[1]), Double(f[2]), Double(f[3]))
    }

    /// Row `row`'s features dotted with chunks `w[wStart..<wStart + C]`:
    /// one chain of fused multiply-adds over the chunks, then the four lanes.
    @inline(__always)
    func dot(_ row: Int, _ w: [SIMD4<Double>], _ wStart: Int) -> Double {
        let start = row * C
        var sum = SIMD4<Double>.zero
        for c in 0..<C { sum = sum.addingProduct(w[wStart + c], wide(start + c)) }
        return sum.sum()
    }

    /// `dot` of rows `row`..<`row` + 4 at once, with the same arithmetic per
    /// row: four independent chains hide the latency of each multiply-add.
    @inline(__always)
    func dot4(_ row: Int, _ w: [SIMD4<Double>], _ wStart: Int) -> SIMD4<Double> {
        let start = row * C
        var (s0, s1, s2, s3) = (SIMD4<Double>.zero, SIMD4<Double>.zero, SIMD4<Double>.zero, SIMD4<Double>.zero)
        for c in 0..<C {
            let weights = w[wStart + c]
            s0 = s0.addingProduct(weights, wide(start + c))
            s1 = s1.addingProduct(weights, wide(start + C + c))
            s2 = s2.addingProduct(weights, wide(start + 2 * C + c))
            s3 = s3.addingProduct(weights, wide(start + 3 * C + c))
        }
        return SIMD4(s0.sum(), s1.sum(), s2.sum(), s3.sum())
    }

    /// g[gStart..<gStart + C] += scale · row `row`.
    @inline(__always)
    func accumulate(_ row: Int, times scale: Double, into g: inout [SIMD4<Double>], _ gStart: Int) {
        let start = row * C
        let s = SIMD4(repeating: scale)
        for c in 0..<C { g[gStart + c] = g[gStart + c].addingProduct(s, wide(start + c)) }
    }

    /// g[gStart..<gStart + C] += Σ_i scales[i] · row `row` + i over four rows:
    /// one load and store of g per four multiply-adds.
    @inline(__always)
    func accumulate4(_ row: Int, times scales: SIMD4<Double>, into g: inout [SIMD4<Double>], _ gStart: Int) {
        let start = row * C
        let (a, b, c4, d) = (SIMD4(repeating: scales[0]), SIMD4(repeating: scales[1]),
                             SIMD4(repeating: scales[2]), SIMD4(repeating: scales[3]))
        for c in 0..<C {
            var sum = g[gStart + c].addingProduct(a, wide(start + c))
            sum = sum.addingProduct(b, wide(start + C + c))
            sum = sum.addingProduct(c4, wide(start + 2 * C + c))
            g[gStart + c] = sum.addingProduct(d, wide(start + 3 * C + c))
        }
    }

    /// The D entries of C packed chunks, unpadded.
    func unpack(_ g: [SIMD4<Double>], rows: Int) -> [Double] {
        (0..<(rows * D)).map { index in g[(index / D) * C + (index % D) / 4][(index % D) % 4] }
    }
}

/// Replaces z[0..<count] by their exponentials, four at a time (z has room for
/// count rounded up to a multiple of 4).
@inline(__always)
func exponentiate(_ z: inout [Double], count: Int) {
    var i = 0
    while i < count {
        let e = exponential(SIMD4(z[i], z[i + 1], z[i + 2], z[i + 3]))
        (z[i], z[i + 1], z[i + 2], z[i + 3]) = (e[0], e[1], e[2], e[3])
        i += 4
    }
}

/// The multinomial (softmax) model over θ = (W [K, D] row-major, b [K]).
struct SoftmaxObjective: Sendable {
    let x: PackedRows
    let labels: [Int]
    let K: Int
    let penalty: Double
    var D: Int { x.D }
    var N: Int { labels.count }
    var parameterCount: Int { K * (D + 1) }

    init(x: [Float], labels: [Int], D: Int, K: Int, penalty: Double) {
        (self.x, self.labels, self.K, self.penalty) = (PackedRows(x, featureCount: D), labels, K, penalty)
    }

    /// Softmax of x·Wᵀ + b, [N, K].
    func probabilities(_ theta: [Double]) -> [Double] {
        var p = [Double](repeating: 0, count: N * K)
        _ = forEachBlock(theta, packedWeights(theta), rows: 0..<N) { start, count, z, totals in
            for r in 0..<count {
                for k in 0..<K { p[(start + r) * K + k] = z[r * K + k] / totals[r] }
            }
        }
        return p
    }

    func evaluate(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
        let w = packedWeights(theta)
        let parts = mapRowChunks(N) { rows in partialSums(theta, w, rows: rows) }
        var g = [SIMD4<Double>](repeating: .zero, count: K * x.C)
        var gradient = [Double](repeating: 0, count: parameterCount)
        var loss = 0.0
        for part in parts {
            loss += part.loss
            for index in g.indices { g[index] += part.g[index] }
            for k in 0..<K { gradient[K * D + k] += part.bias[k] }
        }
        let weights = x.unpack(g, rows: K)
        for index in weights.indices { gradient[index] = weights[index] }
        return penalised(loss: loss, gradient: gradient, theta: theta, weights: K * D, penalty: penalty, rows: N)
    }

    /// Σ CE over `rows`, and the gradient's sums over them: g (packed [K, C]) for W, bias [K] for b.
    private func partialSums(_ theta: [Double], _ w: [SIMD4<Double>],
                             rows: Range<Int>) -> (loss: Double, g: [SIMD4<Double>], bias: [Double]) {
        let C = x.C
        var g = [SIMD4<Double>](repeating: .zero, count: K * C)
        var bias = [Double](repeating: 0, count: K)
        var logTotals = LogSum()
        var residuals = [Double](repeating: 0, count: B * K)
        let margins = forEachBlock(theta, w, rows: rows) { start, count, z, totals in
            for r in 0..<count {
                let label = labels[start + r]
                logTotals.add(totals[r])
                let inverse = 1 / totals[r]
                for k in 0..<K {
                    let residual = z[r * K + k] * inverse - (k == label ? 1 : 0)
                    residuals[r * K + k] = residual
                    bias[k] += residual
                }
            }
            let grouped = count - count % 4
            for r in stride(from: 0, to: grouped, by: 4) {
                for k in 0..<K {
                    let scales = SIMD4(residuals[r * K + k], residuals[(r + 1) * K + k],
                                       residuals[(r + 2) * K + k], residuals[(r + 3) * K + k])
                    x.accumulate4(start + r, times: scales, into: &g, k * C)
                }
            }
            for r in grouped..<count {
                for k in 0..<K { x.accumulate(start + r, times: residuals[r * K + k], into: &g, k * C) }
            }
        }
        return (logTotals.total + margins, g, bias)
    }

    private func packedWeights(_ theta: [Double]) -> [SIMD4<Double>] {
        PackedRows.weights(theta[..<(K * D)], width: D)
    }

    /// For each block of B rows in `rows`: z[r·K + k] = exp(logit_k − the
    /// row's largest logit) and totals[r] = Σ_k of them. Returns Σ (largest
    /// logit − the label's logit) over `rows`, so that CE_i = log totals_i + that row's term.
    @inline(__always)
    private func forEachBlock(_ theta: [Double], _ w: [SIMD4<Double>], rows: Range<Int>,
                              _ body: (_ start: Int, _ count: Int, _ z: [Double], _ totals: [Double]) -> Void) -> Double {
        var margins = 0.0
        let C = x.C
        var z = [Double](repeating: 0, count: B * K + 4)
        var totals = [Double](repeating: 0, count: B)
        for start in stride(from: rows.lowerBound, to: rows.upperBound, by: B) {
            let count = min(B, rows.upperBound - start)
            let grouped = count - count % 4
            for r in stride(from: 0, to: grouped, by: 4) {
                for k in 0..<K {
                    let logits = x.dot4(start + r, w, k * C) + theta[K * D + k]
                    for i in 0..<4 { z[(r + i) * K + k] = logits[i] }
                }
            }
            for r in grouped..<count {
                for k in 0..<K { z[r * K + k] = x.dot(start + r, w, k * C) + theta[K * D + k] }
            }
            for r in 0..<count {
                var largest = -Double.infinity
                for k in 0..<K { largest = max(largest, z[r * K + k]) }
                margins += largest - z[r * K + labels[start + r]]
                for k in 0..<K { z[r * K + k] -= largest }
            }
            exponentiate(&z, count: count * K)
            for r in 0..<count {
                var total = 0.0
                for k in 0..<K { total += z[r * K + k] }
                totals[r] = total
            }
            body(start, count, z, totals)
        }
        return margins
    }
}

/// scikit-learn's binary model, one weight vector: P(class 1 | x) = σ(w·x + b),
/// over θ = (w [D], b). (A two-class softmax would penalise two vectors whose
/// difference is w, halving the effective penalty: C = 2 instead of 1.)
struct BinaryObjective: Sendable {
    let x: PackedRows
    /// 0 or 1 per row.
    let labels: [Int]
    let penalty: Double
    var D: Int { x.D }
    var N: Int { labels.count }
    var parameterCount: Int { D + 1 }

    init(x: [Float], labels: [Int], D: Int, penalty: Double) {
        (self.x, self.labels, self.penalty) = (PackedRows(x, featureCount: D), labels, penalty)
    }

    /// P(class 1) per row, [N].
    func probabilities(_ theta: [Double]) -> [Double] {
        var p = [Double](repeating: 0, count: N)
        forEachBlock(theta, rows: 0..<N) { start, count, z, e in
            for r in 0..<count { p[start + r] = z[r] >= 0 ? 1 / (1 + e[r]) : e[r] / (1 + e[r]) }
        }
        return p
    }

    func evaluate(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
        let parts = mapRowChunks(N) { rows in partialSums(theta, rows: rows) }
        var g = [SIMD4<Double>](repeating: .zero, count: x.C)
        var (loss, bias) = (0.0, 0.0)
        for part in parts {
            loss += part.loss
            bias += part.bias
            for index in g.indices { g[index] += part.g[index] }
        }
        return penalised(loss: loss, gradient: x.unpack(g, rows: 1) + [bias], theta: theta,
                         weights: D, penalty: penalty, rows: N)
    }

    /// Σ CE over `rows`, and the gradient's sums over them: g (packed [C]) for w, bias for b.
    private func partialSums(_ theta: [Double], rows: Range<Int>) -> (loss: Double, g: [SIMD4<Double>], bias: Double) {
        var g = [SIMD4<Double>](repeating: .zero, count: x.C)
        var bias = 0.0
        // CE = softplus(−z) for class 1, softplus(z) for class 0, and
        // softplus(a) = max(a, 0) + log(1 + exp(−|a|)).
        var hinges = 0.0
        var logs = LogSum()
        var residuals = [Double](repeating: 0, count: B)
        forEachBlock(theta, rows: rows) { start, count, z, e in
            for r in 0..<count {
                let positive = labels[start + r] == 1
                hinges += max(positive ? -z[r] : z[r], 0)
                logs.add(1 + e[r])
                let p = z[r] >= 0 ? 1 / (1 + e[r]) : e[r] / (1 + e[r])
                residuals[r] = p - (positive ? 1 : 0)
                bias += residuals[r]
            }
            let grouped = count - count % 4
            for r in stride(from: 0, to: grouped, by: 4) {
                let scales = SIMD4(residuals[r], residuals[r + 1], residuals[r + 2], residuals[r + 3])
                x.accumulate4(start + r, times: scales, into: &g, 0)
            }
            for r in grouped..<count { x.accumulate(start + r, times: residuals[r], into: &g, 0) }
        }
        return (hinges + logs.total, g, bias)
    }

    /// For each block of B rows in `rows`: z[r] = w·x + b and e[r] = exp(−|z[r]|).
    @inline(__always)
    private func forEachBlock(_ theta: [Double], rows: Range<Int>,
                              _ body: (_ start: Int, _ count: Int, _ z: [Double], _ e: [Double]) -> Void) {
        let w = PackedRows.weights(theta[..<D], width: D)
        var z = [Double](repeating: 0, count: B)
        var e = [Double](repeating: 0, count: B + 4)
        for start in stride(from: rows.lowerBound, to: rows.upperBound, by: B) {
            let count = min(B, rows.upperBound - start)
            let grouped = count - count % 4
            for r in stride(from: 0, to: grouped, by: 4) {
                let logits = x.dot4(start + r, w, 0) + theta[D]
                for i in 0..<4 { z[r + i] = logits[i] }
            }
            for r in grouped..<count { z[r] = x.dot(start + r, w, 0) + theta[D] }
            for r in 0..<count { e[r] = -abs(z[r]) }
            exponentiate(&e, count: count)
            body(start, count, z, e)
        }
    }
}

/// Adds penalty/2 ‖W‖² (W = θ's first `weights` entries) to a summed loss and
/// its gradient, then divides both by the row count.
func penalised(loss: Double, gradient: [Double], theta: [Double], weights: Int, penalty: Double,
               rows N: Int) -> (value: Double, gradient: [Double]) {
    var value = loss
    var gradient = gradient
    for index in 0..<weights {
        value += penalty / 2 * theta[index] * theta[index]
        gradient[index] += penalty * theta[index]
    }
    let scale = 1 / Double(max(N, 1))
    return (value * scale, gradient.map { $0 * scale })
}
