// Elementwise kernels: activations, residual add, per-channel bias.
// Shape letters: N batch, C channels, HW spatial positions per channel.

/// y = max(x, 0)
public func reluForward(_ x: [Float], _ y: inout [Float]) {
    precondition(x.count == y.count, "reluForward: \(x.count) inputs, \(y.count) outputs")
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
        for i in 0..<xb.count { yb[i] = max(xb[i], 0) }
    }}
}

/// dx = y > 0 ? dy : 0, from the forward output y.
public func reluBackward(output y: [Float], dOutput dy: [Float], dInput dx: inout [Float]) {
    precondition(y.count == dy.count && dx.count == dy.count, "reluBackward: sizes differ")
    y.withUnsafeBufferPointer { yb in dy.withUnsafeBufferPointer { dyb in dx.withUnsafeMutableBufferPointer { dxb in
        for i in 0..<yb.count {
            let g = dyb[i]
            dxb[i] = yb[i] > 0 ? g : 0
        }
    }}}
}

/// a += b
public func addInPlace(_ a: inout [Float], _ b: [Float]) {
    precondition(a.count == b.count, "addInPlace: \(a.count) vs \(b.count) values")
    a.withUnsafeMutableBufferPointer { ab in b.withUnsafeBufferPointer { bb in
        for i in 0..<ab.count { ab[i] += bb[i] }
    }}
}

/// y[n, c, :] += bias[c]
public func addChannelBias(_ bias: [Float], to y: inout [Float], N: Int, C: Int, HW: Int) {
    precondition(bias.count == C && y.count == N * C * HW, "addChannelBias: sizes differ")
    bias.withUnsafeBufferPointer { bb in y.withUnsafeMutableBufferPointer { yb in
        for n in 0..<N { for c in 0..<C {
            let b = bb[c], base = (n * C + c) * HW
            for i in 0..<HW { yb[base + i] += b }
        }}
    }}
}

/// sums[c] += Σ_{n, i} x[n, c, i]
public func accumulateChannelSums(_ x: [Float], into sums: inout [Float], N: Int, C: Int, HW: Int) {
    precondition(sums.count == C && x.count == N * C * HW, "accumulateChannelSums: sizes differ")
    x.withUnsafeBufferPointer { xb in sums.withUnsafeMutableBufferPointer { sb in
        for n in 0..<N { for c in 0..<C {
            let base = (n * C + c) * HW
            var s: Float = 0
            for i in 0..<HW { s += xb[base + i] }
            sb[c] += s
        }}
    }}
}
