// Depthwise convolution (groups == C == F): every channel is convolved with
// its own R×S filter. As im2col + gemm each product would be a one-row
// matrix, and a loop over one plane has rows too short to vectorise at the
// small sizes of late stages (4×4, 2×2). So each image is transposed to
// channels-last ([H, W, C]) and every tap becomes a multiply-add over all C
// channels at once, whatever the spatial size; the result is transposed back.
// Threads split the batch, each with its own slice of the workspace.
// Shape letters as in Conv.swift.

/// src[rows, columns] -> dst[columns, rows]
@inline(__always)
private func transpose(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    for i in 0..<rows { for j in 0..<columns { dst[j * rows + i] = src[i * columns + j] } }
}

/// Calls body(p, q, r, t, iy, ix) for every output position and tap whose input position is inside the image.
@inline(__always)
private func forEachTap(_ s: ConvShape, _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    for p in 0..<s.P {
        for r in 0..<s.R {
            let iy = p * s.stride - s.padding + r
            if iy < 0 || iy >= s.H { continue }
            for q in 0..<s.Q {
                for t in 0..<s.S {
                    let ix = q * s.stride - s.padding + t
                    if ix >= 0 && ix < s.W { body(p, q, r, t, iy, ix) }
                }
            }
        }
    }
}

/// w[C, 1, R, S] -> [R·S, C]
private func channelsLastWeights(_ w: UnsafePointer<Float>, _ s: ConvShape) -> [Float] {
    [Float](unsafeUninitializedCapacity: s.C * s.R * s.S) { out, count in
        transpose(w, out.baseAddress!, rows: s.C, columns: s.R * s.S)
        count = s.C * s.R * s.S
    }
}

/// y (overwritten, no bias) from x and w[C, 1, R, S].
func depthwiseConvForward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          _ s: ConvShape, _ workspace: inout Workspace) {
    let (C, HW, PQ) = (s.C, s.H * s.W, s.P * s.Q)
    let perThread = (HW + PQ) * C
    workspace.reserve(perThread * min(ComputeThreads.current, s.N))
    let weights = channelsLastWeights(w, s)
    weights.withUnsafeBufferPointer { wb in workspace.storage.withUnsafeMutableBufferPointer { ws in
        let (wT, wsp) = (wb.baseAddress!, ws.baseAddress!)
        parallelChunks(s.N) { thread, images in
            let xT = wsp + thread * perThread, yT = xT + HW * C
            for n in images {
                transpose(x + n * C * HW, xT, rows: C, columns: HW)
                yT.update(repeating: 0, count: PQ * C)
                forEachTap(s) { p, q, r, t, iy, ix in
                    let (out, input, k) = (yT + (p * s.Q + q) * C, xT + (iy * s.W + ix) * C, wT + (r * s.S + t) * C)
                    for c in 0..<C { out[c] += k[c] * input[c] }
                }
                transpose(yT, y + n * C * PQ, rows: PQ, columns: C)
            }
        }
    }}
}

/// dW (added into) and, when `dx` is given, dInput (overwritten). Each thread
/// sums its images' weight gradients apart; they are added in thread order
/// (deterministic for a given thread count).
func depthwiseConvBackward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                           _ dx: UnsafeMutablePointer<Float>?, _ dW: UnsafeMutablePointer<Float>, _ s: ConvShape,
                           _ workspace: inout Workspace) {
    let (C, HW, PQ, RS) = (s.C, s.H * s.W, s.P * s.Q, s.R * s.S)
    let perThread = (2 * HW + PQ + RS) * C
    let threads = min(ComputeThreads.current, s.N)
    workspace.reserve(perThread * threads)
    let weights = channelsLastWeights(w, s)
    weights.withUnsafeBufferPointer { wb in workspace.storage.withUnsafeMutableBufferPointer { ws in
        let (wT, wsp) = (wb.baseAddress!, ws.baseAddress!)
        parallelChunks(s.N) { thread, images in
            let xT = wsp + thread * perThread, dxT = xT + HW * C, dyT = dxT + HW * C, dWT = dyT + PQ * C
            dWT.update(repeating: 0, count: RS * C)
            for n in images {
                transpose(x + n * C * HW, xT, rows: C, columns: HW)
                transpose(dy + n * C * PQ, dyT, rows: C, columns: PQ)
                dxT.update(repeating: 0, count: HW * C)
                forEachTap(s) { p, q, r, t, iy, ix in
                    let (g, input, k) = (dyT + (p * s.Q + q) * C, xT + (iy * s.W + ix) * C, wT + (r * s.S + t) * C)
                    let (dk, dInput) = (dWT + (r * s.S + t) * C, dxT + (iy * s.W + ix) * C)
                    for c in 0..<C {
                        dk[c] += g[c] * input[c]
                        dInput[c] += k[c] * g[c]
                    }
                }
                if let dx { transpose(dxT, dx + n * C * HW, rows: HW, columns: C) }
            }
        }
        for thread in 0..<threads {
            let dWT = wsp + thread * perThread + (2 * HW + PQ) * C
            for c in 0..<C { for tap in 0..<RS { dW[c * RS + tap] += dWT[tap * C + c] } }
        }
    }}
}
