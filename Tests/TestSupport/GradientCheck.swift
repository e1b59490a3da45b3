import Engine

extension SeededRandom {
    /// A tensor of values uniform in [-scale, scale).
    public mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = uniform(-scale, scale) }
        return t
    }
}

/// Largest |a - b| relative to the largest |b| (at least `floor`); infinity when the counts differ.
public func relativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-12) -> Float {
    guard a.count == b.count else { return .infinity }
    let scale = max(b.map(abs).max() ?? 0, floor)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

/// The largest disagreement between an analytic and a finite-difference gradient.
public struct GradientCheckResult: CustomStringConvertible {
    public var worstName = ""
    public var worstIndex = 0
    public var analytic: Float = 0
    public var numeric: Float = 0
    public var error: Float = 0

    public var description: String {
        "worst: \(worstName)[\(worstIndex)] analytic \(analytic) numeric \(numeric) (error \(error))"
    }

    mutating func record(_ name: String, _ index: Int, analytic a: Float, numeric n: Float) {
        // Relative error with an absolute floor: tiny gradients are compared absolutely.
        let e = abs(a - n) / max(1e-2, abs(a) + abs(n))
        if e > error { (worstName, worstIndex, analytic, numeric, error) = (name, index, a, n, e) }
    }
}

/// Checks `layer.backward` against central finite differences of the scalar
/// L = Σ output · probe, for the input and every trainable parameter.
/// `samples` bounds the number of checked coordinates per tensor.
public func checkLayerGradients(_ layer: any Layer, input: Tensor, mode: Mode = .train,
                                epsilon: Float = 1e-2, samples: Int = 40,
                                seed: UInt64 = 7) -> GradientCheckResult {
    var random = SeededRandom(seed: seed)
    let out0 = layer.forward(input, mode: mode)
    var probe = random.tensor(out0.shape)
    probe.layout = out0.layout  // dOutput comes laid out as the output (oneDNN's blocked layouts)
    func lossAt(_ x: Tensor) -> Double {
        let y = layer.forward(x, mode: mode)
        var s = 0.0
        for i in 0..<y.count { s += Double(y[i]) * Double(probe[i]) }
        return s
    }
    for p in layer.parameters { p.zeroGrad() }
    _ = layer.forward(input, mode: mode)
    let dInput = layer.backward(probe)

    var result = GradientCheckResult()
    for i in sampleIndices(input.count, samples, &random) {
        var plus = input, minus = input
        plus[i] += epsilon
        minus[i] -= epsilon
        let numeric = Float((lossAt(plus) - lossAt(minus)) / Double(2 * epsilon))
        result.record("input", i, analytic: dInput[i], numeric: numeric)
    }
    for p in layer.parameters where !p.isBuffer {
        let analytic = p.grad
        let saved = p.value
        for i in sampleIndices(p.value.count, samples, &random) {
            p.value[i] = saved[i] + epsilon
            let lp = lossAt(input)
            p.value[i] = saved[i] - epsilon
            let lm = lossAt(input)
            p.value[i] = saved[i]
            result.record(p.name, i, analytic: analytic[i], numeric: Float((lp - lm) / Double(2 * epsilon)))
        }
    }
    return result
}

/// Checks a loss's dLogits against central finite differences of its value.
public func checkLossGradients(_ loss: any Loss, logits: Tensor, targets: Targets,
                               epsilon: Float = 1e-2) -> GradientCheckResult {
    let (_, dLogits) = loss.evaluate(logits: logits, targets: targets)
    var result = GradientCheckResult()
    for i in 0..<logits.count {
        var plus = logits, minus = logits
        plus[i] += epsilon
        minus[i] -= epsilon
        let lp = Double(loss.evaluate(logits: plus, targets: targets).value)
        let lm = Double(loss.evaluate(logits: minus, targets: targets).value)
        result.record("logits", i, analytic: dLogits[i], numeric: Float((lp - lm) / Double(2 * epsilon)))
    }
    return result
}

private func sampleIndices(_ count: Int, _ samples: Int, _ random: inout SeededRandom) -> [Int] {
    if count <= samples { return Array(0..<count) }
    return (0..<samples).map { _ in Int(random.next() % UInt64(count)) }
}
