import Foundation

// Generalized-mean (GeM) pooling (Radenović et al. 2018), the global pooling
// of image retrieval and many Kaggle heads: y = (mean max(x, ε)^p)^(1/p) per
// plane, average pooling at p = 1 and max pooling as p → ∞. Plane sums are
// accumulated in Double. Shape letters as in Pooling.swift.

/// output[n, c] = (mean over plane (n, c) of max(x, ε)^p)^(1/p)
public func gemPoolForward(input x: [Float], p: Float, epsilon: Float, output y: inout [Float], shape s: GlobalPoolShape) {
    precondition(x.count == s.inputCount && y.count == s.outputCount && p > 0,
                 "gemPoolForward: input \(x.count), output \(y.count) values, p \(p); \(s) needs \(s.inputCount), \(s.outputCount), p > 0")
    let HW = s.H * s.W
    x.withUnsafeBufferPointer { xb in
        for plane in 0..<s.outputCount {
            var sum = 0.0
            for i in 0..<HW { sum += pow(Double(max(xb[plane * HW + i], epsilon)), Double(p)) }
            y[plane] = Float(pow(sum / Double(HW), 1 / Double(p)))
        }
    }
}

/// dInput (overwritten) and the returned dL/dp, summed over every plane:
/// with m = mean(x̂^p), x̂ = max(x, ε) and y = m^(1/p),
/// dy/dx = y/m · x̂^(p−1)/HW where x > ε (0 where clamped), and
/// dy/dp = y · (mean(x̂^p · ln x̂)/(p·m) − ln m / p²).
public func gemPoolBackward(input x: [Float], p: Float, epsilon: Float, dOutput dy: [Float], dInput dx: inout [Float],
                            shape s: GlobalPoolShape) -> Float {
    precondition(x.count == s.inputCount && dx.count == s.inputCount && dy.count == s.outputCount && p > 0,
                 "gemPoolBackward: input \(x.count), dInput \(dx.count), dOutput \(dy.count) values; \(s) needs \(s.inputCount), \(s.inputCount), \(s.outputCount)")
    let (HW, pd) = (s.H * s.W, Double(p))
    var dP = 0.0
    x.withUnsafeBufferPointer { xb in dx.withUnsafeMutableBufferPointer { dxb in
        for plane in 0..<s.outputCount {
            let (xp, dxp) = (xb.baseAddress! + plane * HW, dxb.baseAddress! + plane * HW)
            var sum = 0.0, weightedLogs = 0.0
            for i in 0..<HW {
                let clamped = Double(max(xp[i], epsilon))
                let power = pow(clamped, pd)
                sum += power
                weightedLogs += power * log(clamped)
            }
            let m = sum / Double(HW)
            let y = pow(m, 1 / pd)
            dP += Double(dy[plane]) * y * (weightedLogs / Double(HW) / (pd * m) - log(m) / (pd * pd))
            let scale = Double(dy[plane]) * y / m / Double(HW)
            for i in 0..<HW {
                dxp[i] = xp[i] > epsilon ? Float(scale * pow(Double(xp[i]), pd - 1)) : 0
            }
        }
    }}
    return Float(dP)
}
