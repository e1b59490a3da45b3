import CDNNL

// Convolution through oneDNN, a drop-in for convForward / convBackward in
// Conv.swift (same grouping, same accumulation rules; activations nchw or in
// oneDNN's blocked layouts), the default backend where the CPU has oneDNN's
// blocked kernels. The OpenBLAS path stays the reference the tests compare against. One call runs one primitive over the whole batch with
// oneDNN's own OpenMP team (see DNNLRuntime.swift); nothing here splits the
// batch across the engine's threads.
// Shape letters as in Conv.swift: N batch, C channels, H W input size,
// F filters, R S kernel size, P Q output size.

public func dnnlConvForward(input x: [Float], weight w: [Float], bias: [Float]?, output y: inout [Float], shape s: ConvShape,
                            layouts: ConvLayouts = .plain) {
    precondition(x.count == s.N * s.C * s.H * s.W && w.count == s.F * s.CRS && y.count == s.N * s.F * s.P * s.Q
                 && (bias?.count ?? s.F) == s.F, "dnnlConvForward: buffers do not match \(s)")
    let key = ConvPlanKey(shape: s, direction: .forward, bias: bias != nil, layouts: layouts)
    let b = bias ?? []
    x.withUnsafeBufferPointer { xb in w.withUnsafeBufferPointer { wb in b.withUnsafeBufferPointer { bb in
    y.withUnsafeMutableBufferPointer { yb in
        var pointers = [DNNL_ARG_SRC: mutable(xb), DNNL_ARG_WEIGHTS: mutable(wb), DNNL_ARG_DST: UnsafeMutableRawPointer(yb.baseAddress!)]
        if bias != nil { pointers[DNNL_ARG_BIAS] = mutable(bb) }
        runConvPlan(key, pointers)
    }}}}
}

/// dWeight and dBias are added into; dInput (when computed) is overwritten, as in convBackward.
public func dnnlConvBackward(input x: [Float], weight w: [Float], dOutput dy: [Float],
                             dInput: inout [Float], computeDInput: Bool,
                             dWeight: inout [Float], dBias: inout [Float]?, shape s: ConvShape,
                             layouts: ConvLayouts = .plain) {
    precondition(x.count == s.N * s.C * s.H * s.W && w.count == s.F * s.CRS && dy.count == s.N * s.F * s.P * s.Q
                 && dWeight.count == s.F * s.CRS && (dBias?.count ?? s.F) == s.F, "dnnlConvBackward: buffers do not match \(s)")
    if computeDInput {
        if dInput.count != x.count { dInput = [Float](repeating: 0, count: x.count) }
        let key = ConvPlanKey(shape: s, direction: .backwardData, bias: false, layouts: layouts)
        w.withUnsafeBufferPointer { wb in dy.withUnsafeBufferPointer { dyb in dInput.withUnsafeMutableBufferPointer { dxb in
            runConvPlan(key, [DNNL_ARG_DIFF_DST: mutable(dyb), DNNL_ARG_WEIGHTS: mutable(wb), DNNL_ARG_DIFF_SRC: UnsafeMutableRawPointer(dxb.baseAddress!)])
        }}}
    }
    let key = ConvPlanKey(shape: s, direction: .backwardWeights, bias: dBias != nil, layouts: layouts)
    let (weights, biases) = (dWeight.count, dBias == nil ? 0 : s.F)
    DNNLRuntime.shared.run(threads: key.threads) { runtime in
        // oneDNN overwrites its gradients; the engine's contract adds them, so they land in
        // the runtime's reused scratch first.
        let scratch = runtime.scratch(floats: weights + biases)
        x.withUnsafeBufferPointer { xb in dy.withUnsafeBufferPointer { dyb in
            var pointers = [DNNL_ARG_SRC: mutable(xb), DNNL_ARG_DIFF_DST: mutable(dyb),
                            DNNL_ARG_DIFF_WEIGHTS: UnsafeMutableRawPointer(scratch)]
            if biases > 0 { pointers[DNNL_ARG_DIFF_BIAS] = UnsafeMutableRawPointer(scratch + weights) }
            runtime.plan(.conv(key)) { ConvPlan.make(key, engine: $0) }.execute(pointers, runtime)
        }}
        dWeight.withUnsafeMutableBufferPointer { d in for i in 0..<weights { d[i] += scratch[i] } }
        for f in 0..<biases { dBias![f] += scratch[weights + f] }
    }
}

/// The layouts to run a convolution in: `preferred` when oneDNN has a fast kernel for it in
/// every direction, else plain (nchw at the boundary, reordered inside). Grouped convolutions
/// whose groups are narrower than a channel block, for one, have only oneDNN's reference
/// kernel in blocked layouts, which is orders of magnitude slower.
/// `inputGradient`: whether backward-data will run (not for a network's first layer).
public func dnnlConvLayouts(_ s: ConvShape, bias: Bool, inputGradient: Bool, preferred: ConvLayouts) -> ConvLayouts {
    guard preferred != .plain else { return .plain }
    let directions: [ConvDirection] = inputGradient ? [.forward, .backwardData, .backwardWeights] : [.forward, .backwardWeights]
    let fast = DNNLRuntime.shared.run(threads: ComputeThreads.current) { runtime in
        directions.allSatisfy { direction in
            let key = ConvPlanKey(shape: s, direction: direction, bias: bias && direction != .backwardData, layouts: preferred)
            return !runtime.plan(.conv(key)) { ConvPlan.make(key, engine: $0) }.implementation.hasPrefix("ref")
        }
    }
    return fast ? preferred : .plain
}

/// Finds or creates the plan for `key` and runs it, on the oneDNN thread.
private func runConvPlan(_ key: ConvPlanKey, _ pointers: [Int32: UnsafeMutableRawPointer]) {
    DNNLRuntime.shared.run(threads: key.threads) { runtime in
        runtime.plan(.conv(key)) { ConvPlan.make(key, engine: $0) }.execute(pointers, runtime)
    }
}

/// oneDNN's C API takes non-const pointers also for the buffers it only reads.
@inline(__always)
func mutable<T>(_ buffer: UnsafeBufferPointer<T>) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(mutating: buffer.baseAddress!)
}
