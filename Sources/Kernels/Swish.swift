import Foundation

// Swish / SiLU (Ramachandran et al. 2017; Elfwing et al. 2018): x·σ(x), the
// activation of EfficientNet. Threads split the values in blocks of 4096.

private let block = 4096

@inline(__always)
private func sigmoid(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

/// y = x·σ(x)
public func swishForward(_ x: [Float], _ y: inout [Float]) {
    precondition(x.count == y.count, "swishForward: \(x.count) inputs, \(y.count) outputs")
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
        let (xp, yp, count) = (xb.baseAddress!, yb.baseAddress!, xb.count)
        parallelChunks((count + block - 1) / block) { _, blocks in
            for i in (blocks.lowerBound * block)..<min(count, blocks.upperBound * block) { yp[i] = xp[i] * sigmoid(xp[i]) }
        }
    }}
}

/// dx = dy·σ(x)·(1 + x·(1 − σ(x))), from the forward input x.
public func swishBackward(input x: [Float], dOutput dy: [Float], dInput dx: inout [Float]) {
    precondition(x.count == dy.count && dx.count == dy.count, "swishBackward: sizes differ")
    x.withUnsafeBufferPointer { xb in dy.withUnsafeBufferPointer { dyb in dx.withUnsafeMutableBufferPointer { dxb in
        let (xp, dyp, dxp, count) = (xb.baseAddress!, dyb.baseAddress!, dxb.baseAddress!, xb.count)
        parallelChunks((count + block - 1) / block) { _, blocks in
            for i in (blocks.lowerBound * block)..<min(count, blocks.upperBound * block) {
                let g = sigmoid(xp[i])
                dxp[i] = dyp[i] * g * (1 + xp[i] * (1 - g))
            }
        }
    }}}
}
