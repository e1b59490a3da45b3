// Pooling over NCHW Float32 tensors, forward and backward.
// Shape letters: N batch, C channels, H W input size, K kernel (a K×K window),
// S stride, P zero padding, outH outW output size (floor mode, like torch).
// A "plane" is one (n, c) image of H·W values; every kernel works plane by
// plane, so threads split the N·C planes and never touch the same memory.
// Argmax indices are positions inside their plane (h·W + w), as in torch.

public struct PoolShape: Sendable, Equatable {
    public var N, C, H, W: Int
    public var kernel, stride, padding: Int

    public init(N: Int, C: Int, H: Int, W: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(N >= 0 && C >= 0 && H >= 1 && W >= 1,
                     "PoolShape: N \(N) C \(C) H \(H) W \(W) must be non-negative with H, W >= 1")
        precondition(kernel >= 1 && stride >= 1, "PoolShape: kernel \(kernel) and stride \(stride) must be >= 1")
        // Like torch: every window then holds at least one real (unpadded) value.
        precondition(padding >= 0 && 2 * padding <= kernel,
                     "PoolShape: padding \(padding) must be between 0 and half the kernel \(kernel)")
        precondition(H + 2 * padding >= kernel && W + 2 * padding >= kernel,
                     "PoolShape: input \(H)×\(W) with padding \(padding) is smaller than the kernel \(kernel)")
        (self.N, self.C, self.H, self.W) = (N, C, H, W)
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
    }

    public var outH: Int { (H + 2 * padding - kernel) / stride + 1 }
    public var outW: Int { (W + 2 * padding - kernel) / stride + 1 }
    public var inputCount: Int { N * C * H * W }
    public var outputCount: Int { N * C * outH * outW }
}

/// The in-bounds part of one window: rows h0..<h1, columns w0..<w1.
@inline(__always)
private func window(_ oh: Int, _ ow: Int, _ s: PoolShape) -> (h0: Int, h1: Int, w0: Int, w1: Int) {
    let top = oh * s.stride - s.padding, left = ow * s.stride - s.padding
    return (max(top, 0), min(top + s.kernel, s.H), max(left, 0), min(left + s.kernel, s.W))
}

/// Splits `planes` over the compute threads when there is enough work to pay for it.
@inline(__always)
private func forEachPlaneChunk(_ planes: Int, work: Int, _ body: (Range<Int>) -> Void) {
    if work < 1 << 16 {
        if planes > 0 { body(0..<planes) }
        return
    }
    parallelChunks(planes) { _, range in body(range) }
}

/// output[n,c,oh,ow] = max over the window (padding never wins); NaN propagates.
public func maxPoolForward(input: [Float], output: inout [Float], argmax: inout [Int32], shape s: PoolShape) {
    precondition(input.count == s.inputCount && output.count == s.outputCount && argmax.count == s.outputCount,
                 "maxPoolForward: input \(input.count), output \(output.count), argmax \(argmax.count) values; \(s) needs \(s.inputCount), \(s.outputCount), \(s.outputCount)")
    let (HW, OHW) = (s.H * s.W, s.outH * s.outW)
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            argmax.withUnsafeMutableBufferPointer { a in
                let (x, y, a) = (x.baseAddress!, y.baseAddress!, a.baseAddress!)
                forEachPlaneChunk(s.N * s.C, work: s.outputCount * s.kernel * s.kernel) { planes in
                    for plane in planes {
                        let (xp, yp, ap) = (x + plane * HW, y + plane * OHW, a + plane * OHW)
                        for oh in 0..<s.outH {
                            for ow in 0..<s.outW {
                                let (h0, h1, w0, w1) = window(oh, ow, s)
                                var best = -Float.infinity, bestIndex = h0 * s.W + w0
                                for h in h0..<h1 {
                                    for w in w0..<w1 {
                                        let v = xp[h * s.W + w]
                                        if v > best || v.isNaN { (best, bestIndex) = (v, h * s.W + w) }
                                    }
                                }
                                yp[oh * s.outW + ow] = best
                                ap[oh * s.outW + ow] = Int32(bestIndex)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// dInput (overwritten) receives each dOutput at its window's argmax; overlapping windows add.
public func maxPoolBackward(dOutput: [Float], argmax: [Int32], dInput: inout [Float], shape s: PoolShape) {
    precondition(dOutput.count == s.outputCount && argmax.count == s.outputCount && dInput.count == s.inputCount,
                 "maxPoolBackward: dOutput \(dOutput.count), argmax \(argmax.count), dInput \(dInput.count) values; \(s) needs \(s.outputCount), \(s.outputCount), \(s.inputCount)")
    let (HW, OHW) = (s.H * s.W, s.outH * s.outW)
    dOutput.withUnsafeBufferPointer { dy in
        argmax.withUnsafeBufferPointer { a in
            dInput.withUnsafeMutableBufferPointer { dx in
                let (dy, a, dx) = (dy.baseAddress!, a.baseAddress!, dx.baseAddress!)
                forEachPlaneChunk(s.N * s.C, work: s.inputCount + s.outputCount) { planes in
                    for plane in planes {
                        let (dyp, ap, dxp) = (dy + plane * OHW, a + plane * OHW, dx + plane * HW)
                        dxp.update(repeating: 0, count: HW)
                        for o in 0..<OHW { dxp[Int(ap[o])] += dyp[o] }
                    }
                }
            }
        }
    }
}

/// output = window sum / K² (count_include_pad = true, torch's default).
public func avgPoolForward(input: [Float], output: inout [Float], shape s: PoolShape) {
    precondition(input.count == s.inputCount && output.count == s.outputCount,
                 "avgPoolForward: input \(input.count), output \(output.count) values; \(s) needs \(s.inputCount), \(s.outputCount)")
    let (HW, OHW) = (s.H * s.W, s.outH * s.outW)
    let scale = 1 / Float(s.kernel * s.kernel)
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            let (x, y) = (x.baseAddress!, y.baseAddress!)
            forEachPlaneChunk(s.N * s.C, work: s.outputCount * s.kernel * s.kernel) { planes in
                for plane in planes {
                    let (xp, yp) = (x + plane * HW, y + plane * OHW)
                    for oh in 0..<s.outH {
                        for ow in 0..<s.outW {
                            let (h0, h1, w0, w1) = window(oh, ow, s)
                            var sum: Float = 0
                            for h in h0..<h1 {
                                for w in w0..<w1 { sum += xp[h * s.W + w] }
                            }
                            yp[oh * s.outW + ow] = sum * scale
                        }
                    }
                }
            }
        }
    }
}

/// dInput (overwritten) = each dOutput / K² spread over its window's in-bounds values.
public func avgPoolBackward(dOutput: [Float], dInput: inout [Float], shape s: PoolShape) {
    precondition(dOutput.count == s.outputCount && dInput.count == s.inputCount,
                 "avgPoolBackward: dOutput \(dOutput.count), dInput \(dInput.count) values; \(s) needs \(s.outputCount), \(s.inputCount)")
    let (HW, OHW) = (s.H * s.W, s.outH * s.outW)
    let scale = 1 / Float(s.kernel * s.kernel)
    dOutput.withUnsafeBufferPointer { dy in
        dInput.withUnsafeMutableBufferPointer { dx in
            let (dy, dx) = (dy.baseAddress!, dx.baseAddress!)
            forEachPlaneChunk(s.N * s.C, work: s.outputCount * s.kernel * s.kernel) { planes in
                for plane in planes {
                    let (dyp, dxp) = (dy + plane * OHW, dx + plane * HW)
                    dxp.update(repeating: 0, count: HW)
                    for oh in 0..<s.outH {
                        for ow in 0..<s.outW {
                            let (h0, h1, w0, w1) = window(oh, ow, s)
                            let g = dyp[oh * s.outW + ow] * scale
                            for h in h0..<h1 {
                                for w in w0..<w1 { dxp[h * s.W + w] += g }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Global pooling reduces each H×W plane to one value: [N, C, H, W] -> [N, C].
public struct GlobalPoolShape: Sendable, Equatable {
    public var N, C, H, W: Int

    public init(N: Int, C: Int, H: Int, W: Int) {
        precondition(N >= 0 && C >= 0 && H >= 1 && W >= 1,
                     "GlobalPoolShape: N \(N) C \(C) H \(H) W \(W) must be non-negative with H, W >= 1")
        (self.N, self.C, self.H, self.W) = (N, C, H, W)
    }

    public var inputCount: Int { N * C * H * W }
    public var outputCount: Int { N * C }
}

/// output[n,c] = mean of plane (n, c).
public func globalAvgPoolForward(input: [Float], output: inout [Float], shape s: GlobalPoolShape) {
    precondition(input.count == s.inputCount && output.count == s.outputCount,
                 "globalAvgPoolForward: input \(input.count), output \(output.count) values; \(s) needs \(s.inputCount), \(s.outputCount)")
    let HW = s.H * s.W
    let scale = 1 / Float(HW)
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            let (x, y) = (x.baseAddress!, y.baseAddress!)
            forEachPlaneChunk(s.N * s.C, work: s.inputCount) { planes in
                for plane in planes {
                    let xp = x + plane * HW
                    // Eight running sums vectorise and lose less precision on large planes.
                    var lanes = SIMD8<Float>()
                    var i = 0
                    while i + 8 <= HW {
                        lanes += UnsafeRawPointer(xp + i).loadUnaligned(as: SIMD8<Float>.self)
                        i += 8
                    }
                    var sum = lanes.sum()
                    while i < HW { sum += xp[i]; i += 1 }
                    y[plane] = sum * scale
                }
            }
        }
    }
}

/// dInput (overwritten) = dOutput[n,c] / (H·W) everywhere in plane (n, c).
public func globalAvgPoolBackward(dOutput: [Float], dInput: inout [Float], shape s: GlobalPoolShape) {
    precondition(dOutput.count == s.outputCount && dInput.count == s.inputCount,
                 "globalAvgPoolBackward: dOutput \(dOutput.count), dInput \(dInput.count) values; \(s) needs \(s.outputCount), \(s.inputCount)")
    let HW = s.H * s.W
    let scale = 1 / Float(HW)
    dOutput.withUnsafeBufferPointer { dy in
        dInput.withUnsafeMutableBufferPointer { dx in
            let (dy, dx) = (dy.baseAddress!, dx.baseAddress!)
            forEachPlaneChunk(s.N * s.C, work: s.inputCount) { planes in
                for plane in planes {
                    (dx + plane * HW).update(repeating: dy[plane] * scale, count: HW)
                }
            }
        }
    }
}

/// output[n,c] = max of plane (n, c); argmax[n,c] is its position in the plane. NaN propagates.
public func globalMaxPoolForward(input: [Float], output: inout [Float], argmax: inout [Int32], shape s: GlobalPoolShape) {
    precondition(input.count == s.inputCount && output.count == s.outputCount && argmax.count == s.outputCount,
                 "globalMaxPoolForward: input \(input.count), output \(output.count), argmax \(argmax.count) values; \(s) needs \(s.inputCount), \(s.outputCount), \(s.outputCount)")
    let HW = s.H * s.W
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            argmax.withUnsafeMutableBufferPointer { a in
                let (x, y, a) = (x.baseAddress!, y.baseAddress!, a.baseAddress!)
                forEachPlaneChunk(s.N * s.C, work: s.inputCount) { planes in
                    for plane in planes {
                        let xp = x + plane * HW
                        var best = -Float.infinity, bestIndex = 0
                        for i in 0..<HW where xp[i] > best || xp[i].isNaN { (best, bestIndex) = (xp[i], i) }
                        y[plane] = best
                        a[plane] = Int32(bestIndex)
                    }
                }
            }
        }
    }
}

/// dInput (overwritten) is zero except dOutput[n,c] at each plane's argmax.
public func globalMaxPoolBackward(dOutput: [Float], argmax: [Int32], dInput: inout [Float], shape s: GlobalPoolShape) {
    precondition(dOutput.count == s.outputCount && argmax.count == s.outputCount && dInput.count == s.inputCount,
                 "globalMaxPoolBackward: dOutput \(dOutput.count), argmax \(argmax.count), dInput \(dInput.count) values; \(s) needs \(s.outputCount), \(s.outputCount), \(s.inputCount)")
    let HW = s.H * s.W
    dOutput.withUnsafeBufferPointer { dy in
        argmax.withUnsafeBufferPointer { a in
            dInput.withUnsafeMutableBufferPointer { dx in
                let (dy, a, dx) = (dy.baseAddress!, a.baseAddress!, dx.baseAddress!)
                forEachPlaneChunk(s.N * s.C, work: s.inputCount) { planes in
                    for plane in planes {
                        let dxp = dx + plane * HW
                        dxp.update(repeating: 0, count: HW)
                        dxp[Int(a[plane])] = dy[plane]
                    }
                }
            }
        }
    }
}
