// Elementwise kernels: activations, residual add, per-channel bias.
// Shape letters: N batch, C channels, HW spatial positions per channel.
// Large arrays are split across the compute threads in contiguous ranges.

/// Below this many values a kernel stays on the calling thread.
private let parallelThreshold = 1 << 16

@inline(__always)
private func elementwise(_ count: Int, _ body: (Range<Int>) -> Void) {
    if count < parallelThreshold { body(0..<count); return }
    // Ranges aligned to 16 values keep every thread's stores on its own cache lines.
    let blocks = (count + 15) / 16
    parallelChunks(blocks) { _, range in body((range.lowerBound * 16)..<min(count, range.upperBound * 16)) }
}

/// y = max(x, 0)
public func reluForward(_ x: [Float], _ y: inout [Float]) {
    precondition(x.count == y.count, "reluForward: \(x.count) inputs, \(y.count) outputs")
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
        let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
        elementwise(xb.count) { range in for i in range { yp[i] = max(xp[i], 0) } }
    }}
}

/// dx = y > 0 ? dy : 0, from the forward output y.
public func reluBackward(output y: [Float], dOutput dy: [Float], dInput dx: inout [Float]) {
    precondition(y.count == dy.count && dx.count == dy.count, "reluBackward: sizes differ")
    y.withUnsafeBufferPointer { yb in dy.withUnsafeBufferPointer { dyb in dx.withUnsafeMutableBufferPointer { dxb in
        let (yp, dyp, dxp) = (yb.baseAddress!, dyb.baseAddress!, dxb.baseAddress!)
        elementwise(yb.count) { range in
            for i in range {
                let g = dyp[i]  // load unconditionally so the select vectorises
                dxp[i] = yp[i] > 0 ? g : 0
            }
        }
    }}}
}

/// a = max(a + b, 0): a residual connection followed by ReLU, in one pass.
public func addReLUInPlace(_ a: inout [Float], _ b: [Float]) {
    precondition(a.count == b.count, "addReLUInPlace: \(a.count) vs \(b.count) values")
    a.withUnsafeMutableBufferPointer { ab in b.withUnsafeBufferPointer { bb in
        let (ap, bp) = (ab.baseAddress!, bb.baseAddress!)
        elementwise(ab.count) { range in for i in range { ap[i] = max(ap[i] + bp[i], 0) } }
    }}
}

/// a += b
public func addInPlace(_ a: inout [Float], _ b: [Float]) {
    precondition(a.count == b.count, "addInPlace: \(a.count) vs \(b.count) values")
    a.withUnsafeMutableBufferPointer { ab in b.withUnsafeBufferPointer { bb in
        let (ap, bp) = (ab.baseAddress!, bb.baseAddress!)
        elementwise(ab.count) { range in for i in range { ap[i] += bp[i] } }
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
