// Convolution by im2col + sgemm, forward and backward, with groups as in
// PyTorch (weight [F, C/groups, R, S]; group g maps channels g·C/groups… to
// filters g·F/groups…); depthwise convolutions take the direct loops of
// DepthwiseConv.swift instead.
// Shape letters: N batch, C input channels, H W input size, F filters (output
// channels), R S kernel height and width, P Q output height and width,
// Cg Fg channels and filters of one group.
// Threads split the batch; each runs single-threaded sgemm on batches of
// images whose im2col columns sit side by side, so every gemm is wide enough
// to run near peak even when P·Q is small. A grouped convolution runs one
// gemm per group on its own channels.

public struct ConvShape: Sendable, Hashable {
    public var N, C, H, W, F, R, S, stride, padding, groups: Int

    public init(N: Int, C: Int, H: Int, W: Int, F: Int, R: Int, S: Int, stride: Int, padding: Int, groups: Int = 1) {
        precondition(groups >= 1 && C % groups == 0 && F % groups == 0,
                     "ConvShape: \(groups) groups must divide both \(C) channels and \(F) filters")
        (self.N, self.C, self.H, self.W, self.F, self.R, self.S) = (N, C, H, W, F, R, S)
        (self.stride, self.padding, self.groups) = (stride, padding, groups)
    }

    public var P: Int { (H + 2 * padding - R) / stride + 1 }
    public var Q: Int { (W + 2 * padding - S) / stride + 1 }
    public var Cg: Int { C / groups }
    public var Fg: Int { F / groups }
    /// Rows of one group's im2col matrix, one per (c, r, s): also the length of one filter.
    public var CRS: Int { Cg * R * S }
    /// Stride 1 with "same" padding: every im2col row is the input plane
    /// shifted by a constant offset, so it is copied as one contiguous band.
    var preservesSize: Bool { stride == 1 && P == H && Q == W }
    /// Every channel convolved with its own filter: gemms would have one row.
    var isDepthwise: Bool { groups > 1 && groups == C && groups == F }
    /// Images per gemm: enough columns (≥ 1024) for an efficient sgemm.
    var imagesPerGemm: Int { max(1, min(N, (1024 + P * Q - 1) / (P * Q))) }
}

/// Unfolds group `group`'s channels of `count` images starting at `image` into col[CRS, count·P·Q].
@inline(__always)
func im2col(_ x: UnsafePointer<Float>, image: Int, count: Int, group: Int, _ s: ConvShape, _ col: UnsafeMutablePointer<Float>) {
    let (P, Q, PQ) = (s.P, s.Q, s.P * s.Q)
    let width = count * PQ
    for g in 0..<count {
        let xn = x + (image + g) * s.C * s.H * s.W + group * s.Cg * s.H * s.W
        for c in 0..<s.Cg {
            let xc = xn + c * s.H * s.W
            for r in 0..<s.R {
                for t in 0..<s.S {
                    let row = col + ((c * s.R + r) * s.S + t) * width + g * PQ
                    if s.preservesSize {
                        copyShiftedPlane(xc, row, r: r, t: t, s)
                        continue
                    }
                    for p in 0..<P {
                        let y = p * s.stride - s.padding + r
                        let out = row + p * Q
                        if y < 0 || y >= s.H {
                            out.update(repeating: 0, count: Q)
                            continue
                        }
                        let xr = xc + y * s.W
                        if s.stride == 1 {
                            // x index = q - padding + t: copy the in-range run, zero the edges.
                            let q0 = max(0, s.padding - t), q1 = min(Q, s.W + s.padding - t)
                            if q0 > 0 { out.update(repeating: 0, count: q0) }
                            if q1 > q0 { (out + q0).update(from: xr + (q0 - s.padding + t), count: q1 - q0) }
                            if q1 < Q { (out + max(q0, q1)).update(repeating: 0, count: Q - max(q0, q1)) }
                        } else {
                            for q in 0..<Q {
                                let xi = q * s.stride - s.padding + t
                                out[q] = (xi >= 0 && xi < s.W) ? xr[xi] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Folds col[CRS, count·P·Q] back, adding into group `group`'s channels of `count` images of dx starting at `image`.
@inline(__always)
func col2im(_ col: UnsafeMutablePointer<Float>, image: Int, count: Int, group: Int, _ s: ConvShape,
            _ dx: UnsafeMutablePointer<Float>) {
    let (P, Q, PQ) = (s.P, s.Q, s.P * s.Q)
    let width = count * PQ
    for g in 0..<count {
        let dxn = dx + (image + g) * s.C * s.H * s.W + group * s.Cg * s.H * s.W
        for c in 0..<s.Cg {
            let dxc = dxn + c * s.H * s.W
            for r in 0..<s.R {
                for t in 0..<s.S {
                    let row = col + ((c * s.R + r) * s.S + t) * width + g * PQ
                    if s.preservesSize {
                        addShiftedPlane(row, dxc, r: r, t: t, s)
                        continue
                    }
                    for p in 0..<P {
                        let y = p * s.stride - s.padding + r
                        if y < 0 || y >= s.H { continue }
                        let dxr = dxc + y * s.W
                        let src = row + p * Q
                        if s.stride == 1 {
                            let q0 = max(0, s.padding - t), q1 = min(Q, s.W + s.padding - t)
                            if q1 > q0 {
                                let d = dxr + (q0 - s.padding + t)
                                for q in 0..<(q1 - q0) { d[q] += src[q0 + q] }
                            }
                        } else {
                            for q in 0..<Q {
                                let xi = q * s.stride - s.padding + t
                                if xi >= 0 && xi < s.W { dxr[xi] += src[q] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The band of output rows whose input row y = p - padding + r is inside the image.
@inline(__always)
private func band(r: Int, _ s: ConvShape) -> Range<Int> {
    max(0, s.padding - r)..<min(s.P, s.H + s.padding - r)
}

/// im2col row (r, t) of one channel when the output has the input's size:
/// out[p·W + q] = x[(p + r - pad)·W + q + t - pad], zero where that is outside.
@inline(__always)
private func copyShiftedPlane(_ xc: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, r: Int, t: Int, _ s: ConvShape) {
    let (W, rows) = (s.W, band(r: r, s))
    let shift = (r - s.padding) * W + (t - s.padding)
    out.update(repeating: 0, count: rows.lowerBound * W)
    (out + rows.upperBound * W).update(repeating: 0, count: (s.P - rows.upperBound) * W)
    guard !rows.isEmpty else { return }
    // Copy the whole band at once (skipping the end elements that would read
    // outside the plane), then zero the columns that wrapped around a row edge.
    let lo = rows.lowerBound * W, hi = rows.upperBound * W
    let first = lo + max(0, s.padding - t), last = hi - max(0, t - s.padding)
    (out + first).update(from: xc + first + shift, count: last - first)
    zeroWrappedColumns(out, rows: rows, t: t, s)
}

/// col2im for row (r, t) of one channel when the output has the input's size;
/// the wrapped columns of `col` are zeroed first (col is scratch).
@inline(__always)
private func addShiftedPlane(_ col: UnsafeMutablePointer<Float>, _ dxc: UnsafeMutablePointer<Float>, r: Int, t: Int, _ s: ConvShape) {
    let (W, rows) = (s.W, band(r: r, s))
    guard !rows.isEmpty else { return }
    zeroWrappedColumns(col, rows: rows, t: t, s)
    let shift = (r - s.padding) * W + (t - s.padding)
    let lo = rows.lowerBound * W, hi = rows.upperBound * W
    let first = lo + max(0, s.padding - t), last = hi - max(0, t - s.padding)
    let (src, dst) = (col + first, dxc + first + shift)
    for i in 0..<(last - first) { dst[i] += src[i] }
}

@inline(__always)
private func zeroWrappedColumns(_ out: UnsafeMutablePointer<Float>, rows: Range<Int>, t: Int, _ s: ConvShape) {
    let W = s.W
    if t < s.padding {
        for p in rows { (out + p * W).update(repeating: 0, count: s.padding - t) }
    } else if t > s.padding {
        for p in rows { (out + p * W + W - (t - s.padding)).update(repeating: 0, count: t - s.padding) }
    }
}

/// Scratch memory for the convolution kernels, reused across steps by the layer
/// that owns it; grows to the largest size asked for and never shrinks.
public struct Workspace {
    var storage: [Float] = []
    public init() {}

    mutating func reserve(_ count: Int) {
        if storage.count < count { storage = [Float](repeating: 0, count: count) }
    }
}

public func convForward(input x: [Float], weight w: [Float], bias: [Float]?, output y: inout [Float],
                        shape s: ConvShape, workspace: inout Workspace) {
    let (PQ, B, CRS, F, Fg) = (s.P * s.Q, s.imagesPerGemm, s.CRS, s.F, s.Fg)
    precondition(x.count == s.N * s.C * s.H * s.W && w.count == F * CRS && y.count == s.N * F * PQ,
                 "convForward: buffers do not match \(s)")
    if s.isDepthwise {
        x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in y.withUnsafeMutableBufferPointer { yb in
            depthwiseConvForward(xb.baseAddress!, wb.baseAddress!, yb.baseAddress!, s, &workspace)
        }}}
        if let bias { addChannelBias(bias, to: &y, N: s.N, C: F, HW: PQ) }
        return
    }
    let perThread = CRS * B * PQ + F * B * PQ
    let threads = min(ComputeThreads.current, s.N)
    workspace.reserve(perThread * threads)
    x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in
    y.withUnsafeMutableBufferPointer { yb in workspace.storage.withUnsafeMutableBufferPointer { ws in
        let (xp, wp, yp, wsp) = (xb.baseAddress!, wb.baseAddress!, yb.baseAddress!, ws.baseAddress!)
        parallelChunks(s.N) { t, images in
            let col = wsp + t * perThread, tmp = col + CRS * B * PQ
            var n = images.lowerBound
            while n < images.upperBound {
                let b = min(B, images.upperBound - n)
                // [F, b·PQ]: group g's filters are rows g·Fg..<(g+1)·Fg.
                let out = b == 1 ? yp + n * F * PQ : tmp
                for g in 0..<s.groups {
                    im2col(xp, image: n, count: b, group: g, s, col)
                    sgemm(transA: false, transB: false, M: Fg, N: b * PQ, K: CRS, alpha: 1,
                          A: wp + g * Fg * CRS, lda: CRS, B: col, ldb: b * PQ, beta: 0,
                          C: out + g * Fg * b * PQ, ldc: b * PQ)
                }
                if b > 1 { scatterImages(tmp, yp, image: n, count: b, F: F, PQ: PQ) }
                n += b
            }
        }
    }}}}
    if let bias { addChannelBias(bias, to: &y, N: s.N, C: F, HW: PQ) }
}

/// dWeight and dBias are added into; dInput (when computed) is overwritten.
/// dInput of a size-preserving convolution is itself a convolution of dOutput
/// with the flipped, transposed weights (grouped like the forward): an im2col
/// of dOutput and a gemm with K = Fg·R·S, instead of a gemm with K = Fg
/// followed by a scatter-add (col2im).
public func convBackward(input x: [Float], weight w: [Float], dOutput dy: [Float],
                         dInput: inout [Float], computeDInput: Bool,
                         dWeight: inout [Float], dBias: inout [Float]?,
                         shape s: ConvShape, workspace: inout Workspace) {
    let (PQ, F) = (s.P * s.Q, s.F)
    precondition(dy.count == s.N * F * PQ && dWeight.count == F * s.CRS, "convBackward: buffers do not match \(s)")
    if computeDInput && dInput.count != x.count { dInput = [Float](repeating: 0, count: x.count) }
    if s.isDepthwise {
        x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in dy.withUnsafeBufferPointer { dyb in
        dInput.withUnsafeMutableBufferPointer { dxb in dWeight.withUnsafeMutableBufferPointer { dwb in
            depthwiseConvBackward(xb.baseAddress!, wb.baseAddress!, dyb.baseAddress!,
                                  computeDInput ? dxb.baseAddress! : nil, dwb.baseAddress!, s, &workspace)
        }}}}}
    } else {
        gemmConvBackward(x, w, dy, &dInput, computeDInput: computeDInput, &dWeight, s, &workspace)
    }
    if dBias != nil { accumulateChannelSums(dy, into: &dBias!, N: s.N, C: F, HW: PQ) }
}

private func gemmConvBackward(_ x: [Float], _ w: [Float], _ dy: [Float], _ dInput: inout [Float], computeDInput: Bool,
                              _ dWeight: inout [Float], _ s: ConvShape, _ workspace: inout Workspace) {
    let (PQ, B, CRS, F, Cg, Fg) = (s.P * s.Q, s.imagesPerGemm, s.CRS, s.F, s.Cg, s.Fg)
    let transposed = computeDInput && s.preservesSize
    let dyShape = ConvShape(N: s.N, C: F, H: s.P, W: s.Q, F: s.C, R: s.R, S: s.S, stride: 1, padding: s.padding,
                            groups: s.groups)
    let flipped = transposed ? flippedTransposedWeights(w, s) : []
    let threads = min(ComputeThreads.current, s.N)
    let colSize = CRS * B * PQ, dColSize = max(CRS, dyShape.CRS) * B * PQ
    let perThread = colSize + dColSize + F * B * PQ + F * CRS + s.C * B * PQ
    workspace.reserve(perThread * threads)
    x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in dy.withUnsafeBufferPointer { dyb in
    flipped.withUnsafeBufferPointer { fb in
    dInput.withUnsafeMutableBufferPointer { dxb in workspace.storage.withUnsafeMutableBufferPointer { ws in
        let (xp, wp, dyp, wsp) = (xb.baseAddress!, wb.baseAddress!, dyb.baseAddress!, ws.baseAddress!)
        let (dxp, fp) = (dxb.baseAddress, fb.baseAddress)
        parallelChunks(s.N) { t, images in
            let col = wsp + t * perThread, dCol = col + colSize
            let dyB = dCol + dColSize, dW = dyB + F * B * PQ, dxB = dW + F * CRS
            dW.update(repeating: 0, count: F * CRS)
            if computeDInput && !transposed {
                (dxp! + images.lowerBound * s.C * s.H * s.W).update(repeating: 0, count: images.count * s.C * s.H * s.W)
            }
            var n = images.lowerBound
            while n < images.upperBound {
                let b = min(B, images.upperBound - n)
                let dyn: UnsafePointer<Float>
                if b == 1 { dyn = dyp + n * F * PQ } else {
                    gatherImages(dyp, dyB, image: n, count: b, F: F, PQ: PQ)
                    dyn = UnsafePointer(dyB)
                }
                for g in 0..<s.groups {
                    let dyg = dyn + g * Fg * b * PQ
                    im2col(xp, image: n, count: b, group: g, s, col)
                    sgemm(transA: false, transB: true, M: Fg, N: CRS, K: b * PQ, alpha: 1,
                          A: dyg, lda: b * PQ, B: col, ldb: b * PQ, beta: 1, C: dW + g * Fg * CRS, ldc: CRS)
                    if transposed {
                        im2col(dyp, image: n, count: b, group: g, dyShape, dCol)
                        let out = (b == 1 ? dxp! + n * s.C * PQ : dxB) + g * Cg * b * PQ
                        sgemm(transA: false, transB: false, M: Cg, N: b * PQ, K: dyShape.CRS, alpha: 1,
                              A: fp! + g * Cg * dyShape.CRS, lda: dyShape.CRS, B: dCol, ldb: b * PQ, beta: 0,
                              C: out, ldc: b * PQ)
                    } else if computeDInput {
                        sgemm(transA: true, transB: false, M: CRS, N: b * PQ, K: Fg, alpha: 1,
                              A: wp + g * Fg * CRS, lda: CRS, B: dyg, ldb: b * PQ, beta: 0, C: dCol, ldc: b * PQ)
                        col2im(dCol, image: n, count: b, group: g, s, dxp!)
                    }
                }
                if transposed && b > 1 { scatterImages(dxB, dxp!, image: n, count: b, F: s.C, PQ: PQ) }
                n += b
            }
        }
        // Reduce the per-thread weight gradients in a fixed order (deterministic).
        dWeight.withUnsafeMutableBufferPointer { dwb in
            for t in 0..<threads {
                let part = wsp + t * perThread + colSize + dColSize + F * B * PQ
                for i in 0..<(F * CRS) { dwb[i] += part[i] }
            }
        }
    }}}}}}
}

/// W'[g·Cg + c, f, r, t] = W[g·Fg + f, c, R-1-r, S-1-t]: the weights of the
/// transposed convolution, [C, Fg, R, S] with the forward's groups.
private func flippedTransposedWeights(_ w: [Float], _ s: ConvShape) -> [Float] {
    var out = [Float](repeating: 0, count: w.count)
    let (Cg, Fg, R, S) = (s.Cg, s.Fg, s.R, s.S)
    for g in 0..<s.groups { for f in 0..<Fg { for c in 0..<Cg { for r in 0..<R { for t in 0..<S {
        out[(((g * Cg + c) * Fg + f) * R + r) * S + t] = w[(((g * Fg + f) * Cg + c) * R + (R - 1 - r)) * S + (S - 1 - t)]
    }}}}}
    return out
}

/// tmp[F, b·PQ] -> y[n..n+b, F, PQ]
@inline(__always)
private func scatterImages(_ tmp: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, image: Int, count: Int, F: Int, PQ: Int) {
    for f in 0..<F {
        for b in 0..<count {
            (y + ((image + b) * F + f) * PQ).update(from: tmp + f * count * PQ + b * PQ, count: PQ)
        }
    }
}

/// dy[n..n+b, F, PQ] -> dyB[F, b·PQ]
@inline(__always)
private func gatherImages(_ dy: UnsafePointer<Float>, _ dyB: UnsafeMutablePointer<Float>, image: Int, count: Int, F: Int, PQ: Int) {
    for f in 0..<F {
        for b in 0..<count {
            (dyB + f * count * PQ + b * PQ).update(from: dy + ((image + b) * F + f) * PQ, count: PQ)
        }
    }
}
