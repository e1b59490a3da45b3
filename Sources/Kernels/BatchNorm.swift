// Batch normalisation over NCHW (2-d) or NC (1-d, HW = 1), optionally fused
// with a following ReLU so the pair costs one pass forward and one backward.
// Shape letters: N batch, C channels, HW positions per channel, M = N·HW
// values per channel.

public struct NormShape: Sendable, Hashable {
    public var N, C, HW: Int
    public init(N: Int, C: Int, HW: Int) { (self.N, self.C, self.HW) = (N, C, HW) }
    public var M: Int { N * HW }
}

/// Training mode: normalises with the batch statistics, which it returns in
/// `mean` and `variance` (biased, as used for normalising) and `invStd`.
public func batchNormTrainForward(input x: [Float], gamma: [Float], beta: [Float], output y: inout [Float],
                                  mean: inout [Float], variance: inout [Float], invStd: inout [Float],
                                  shape s: NormShape, epsilon: Float, relu: Bool) {
    precondition(x.count == s.N * s.C * s.HW && y.count == x.count && gamma.count == s.C,
                 "batchNormTrainForward: buffers do not match \(s)")
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
    mean.withUnsafeMutableBufferPointer { mb in variance.withUnsafeMutableBufferPointer { vb in
    invStd.withUnsafeMutableBufferPointer { ib in
        let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
        let (mp, vp, ip) = (mb.baseAddress!, vb.baseAddress!, ib.baseAddress!)
        parallelChunks(s.C) { _, channels in
            for c in channels {
                var sum = 0.0
                for n in 0..<s.N {
                    let base = xp + (n * s.C + c) * s.HW
                    var part: Float = 0
                    for i in 0..<s.HW { part += base[i] }
                    sum += Double(part)
                }
                let mu = Float(sum / Double(s.M))
                var squares = 0.0
                for n in 0..<s.N {
                    let base = xp + (n * s.C + c) * s.HW
                    var part: Float = 0
                    for i in 0..<s.HW { let d = base[i] - mu; part += d * d }
                    squares += Double(part)
                }
                let v = Float(squares / Double(s.M))
                let inv = 1 / (v + epsilon).squareRoot()
                (mp[c], vp[c], ip[c]) = (mu, v, inv)
                normalise(xp, yp, c: c, s, scale: gamma[c] * inv, shift: beta[c] - mu * gamma[c] * inv, relu: relu)
            }
        }
    }}}}}
}

/// Inference mode: normalises with the running statistics.
public func batchNormEvalForward(input x: [Float], gamma: [Float], beta: [Float],
                                 runningMean: [Float], runningVariance: [Float], output y: inout [Float],
                                 shape s: NormShape, epsilon: Float, relu: Bool) {
    precondition(x.count == s.N * s.C * s.HW && y.count == x.count, "batchNormEvalForward: buffers do not match \(s)")
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
        let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
        parallelChunks(s.C) { _, channels in
            for c in channels {
                let inv = 1 / (runningVariance[c] + epsilon).squareRoot()
                normalise(xp, yp, c: c, s, scale: gamma[c] * inv, shift: beta[c] - runningMean[c] * gamma[c] * inv, relu: relu)
            }
        }
    }}
}

@inline(__always)
private func normalise(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, c: Int, _ s: NormShape,
                       scale: Float, shift: Float, relu: Bool) {
    for n in 0..<s.N {
        let off = (n * s.C + c) * s.HW
        let (xi, yi) = (x + off, y + off)
        if relu {
            for i in 0..<s.HW { yi[i] = max(xi[i] * scale + shift, 0) }
        } else {
            for i in 0..<s.HW { yi[i] = xi[i] * scale + shift }
        }
    }
}

/// Backward of the training-mode forward. `reluOutput` is the output of a
/// forward with the fused ReLU (it masks dOutput); nil when there was none.
/// dGamma and dBeta are added into; dInput is overwritten.
public func batchNormBackward(input x: [Float], reluOutput: [Float]?, gamma: [Float], mean: [Float], invStd: [Float],
                              dOutput dy: [Float], dInput dx: inout [Float],
                              dGamma: inout [Float], dBeta: inout [Float], shape s: NormShape) {
    precondition(dy.count == x.count && dx.count == x.count && (reluOutput?.count ?? x.count) == x.count,
                 "batchNormBackward: buffers do not match \(s)")
    let relu = reluOutput != nil
    let y = reluOutput ?? dy  // without ReLU the mask is never read
    x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in dy.withUnsafeBufferPointer { dyb in
    dx.withUnsafeMutableBufferPointer { dxb in
    dGamma.withUnsafeMutableBufferPointer { dgb in dBeta.withUnsafeMutableBufferPointer { dbb in
        let (xp, yp, dyp, dxp) = (xb.baseAddress!, yb.baseAddress!, dyb.baseAddress!, dxb.baseAddress!)
        let (dgp, dbp) = (dgb.baseAddress!, dbb.baseAddress!)
        parallelChunks(s.C) { _, channels in
            for c in channels {
                let (mu, inv) = (mean[c], invStd[c])
                var sumDy = 0.0, sumDyXhat = 0.0
                for n in 0..<s.N {
                    let off = (n * s.C + c) * s.HW
                    var a: Float = 0, b: Float = 0
                    for i in 0..<s.HW {
                        let g = maskedGradient(dyp[off + i], yp[off + i], relu)
                        a += g
                        b += g * (xp[off + i] - mu)
                    }
                    sumDy += Double(a)
                    sumDyXhat += Double(b) * Double(inv)
                }
                dbp[c] += Float(sumDy)
                dgp[c] += Float(sumDyXhat)
                let k = gamma[c] * inv / Float(s.M)
                let (mDy, mDyXhat) = (Float(sumDy), Float(sumDyXhat))
                for n in 0..<s.N {
                    let off = (n * s.C + c) * s.HW
                    for i in 0..<s.HW {
                        let g = maskedGradient(dyp[off + i], yp[off + i], relu)
                        let xhat = (xp[off + i] - mu) * inv
                        dxp[off + i] = k * (Float(s.M) * g - mDy - xhat * mDyXhat)
                    }
                }
            }
        }
    }}}}}}
}

@inline(__always)
private func maskedGradient(_ dy: Float, _ y: Float, _ relu: Bool) -> Float {
    relu ? (y > 0 ? dy : 0) : dy
}
