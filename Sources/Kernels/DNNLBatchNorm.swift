import CDNNL

// Batch normalisation through oneDNN, for activations in oneDNN's blocked
// layout (or plain NCHW), with the ReLU that follows it fused: the forward pass
// writes a bit mask (the workspace) that the backward pass reads. Same
// semantics as BatchNorm.swift: training normalises with the batch's mean and
// biased variance, which it returns; evaluation uses the running statistics;
// the backward pass adds into dGamma and dBeta and overwrites dInput.

enum BatchNormPass: Hashable { case trainForward, evalForward, backward }

struct BatchNormPlanKey: Hashable {
    var shape: NormShape
    var layout: ActivationLayout
    var pass: BatchNormPass
    var relu: Bool
    var epsilon: Float
    var threads = ComputeThreads.current
}

public func dnnlBatchNormTrainForward(input x: [Float], gamma: [Float], beta: [Float], output y: inout [Float],
                                      mean: inout [Float], variance: inout [Float], workspace: inout [UInt8],
                                      shape s: NormShape, layout: ActivationLayout, epsilon: Float, relu: Bool) {
    checkBuffers(x.count, y.count, gamma.count, beta.count, s, "dnnlBatchNormTrainForward")
    if mean.count != s.C { mean = [Float](repeating: 0, count: s.C) }
    if variance.count != s.C { variance = [Float](repeating: 0, count: s.C) }
    let key = BatchNormPlanKey(shape: s, layout: layout, pass: .trainForward, relu: relu, epsilon: epsilon)
    DNNLRuntime.shared.run(threads: key.threads) { runtime in
        let plan = runtime.plan(.batchNorm(key)) { BatchNormPlan.make(key, engine: $0) }
        let bytes = plan.argumentBytes[DNNL_ARG_WORKSPACE] ?? 0
        if workspace.count != bytes { workspace = [UInt8](repeating: 0, count: bytes) }
        let scaleShift = gamma + beta
        x.withUnsafeBufferPointer { xb in scaleShift.withUnsafeBufferPointer { ssb in
        y.withUnsafeMutableBufferPointer { yb in mean.withUnsafeMutableBufferPointer { mb in
        variance.withUnsafeMutableBufferPointer { vb in workspace.withUnsafeMutableBufferPointer { wsb in
            var pointers: [Int32: UnsafeMutableRawPointer] = [
                DNNL_ARG_SRC: mutable(xb), DNNL_ARG_SCALE_SHIFT: mutable(ssb),
                DNNL_ARG_DST: UnsafeMutableRawPointer(yb.baseAddress!), DNNL_ARG_MEAN: UnsafeMutableRawPointer(mb.baseAddress!),
                DNNL_ARG_VARIANCE: UnsafeMutableRawPointer(vb.baseAddress!)]
            if bytes > 0 { pointers[DNNL_ARG_WORKSPACE] = UnsafeMutableRawPointer(wsb.baseAddress!) }
            plan.execute(pointers, runtime)
        }}}}}}
    }
}

public func dnnlBatchNormEvalForward(input x: [Float], gamma: [Float], beta: [Float],
                                     runningMean: [Float], runningVariance: [Float], output y: inout [Float],
                                     shape s: NormShape, layout: ActivationLayout, epsilon: Float, relu: Bool) {
    checkBuffers(x.count, y.count, gamma.count, beta.count, s, "dnnlBatchNormEvalForward")
    precondition(runningMean.count == s.C && runningVariance.count == s.C, "dnnlBatchNormEvalForward: statistics do not match \(s)")
    let key = BatchNormPlanKey(shape: s, layout: layout, pass: .evalForward, relu: relu, epsilon: epsilon)
    DNNLRuntime.shared.run(threads: key.threads) { runtime in
        let plan = runtime.plan(.batchNorm(key)) { BatchNormPlan.make(key, engine: $0) }
        let scaleShift = gamma + beta
        x.withUnsafeBufferPointer { xb in scaleShift.withUnsafeBufferPointer { ssb in
        runningMean.withUnsafeBufferPointer { mb in runningVariance.withUnsafeBufferPointer { vb in
        y.withUnsafeMutableBufferPointer { yb in
            plan.execute([DNNL_ARG_SRC: mutable(xb), DNNL_ARG_SCALE_SHIFT: mutable(ssb),
                          DNNL_ARG_MEAN: mutable(mb), DNNL_ARG_VARIANCE: mutable(vb),
                          DNNL_ARG_DST: UnsafeMutableRawPointer(yb.baseAddress!)], runtime)
        }}}}}
    }
}

/// Backward of a training forward that returned `mean`, `variance` and `workspace`.
public func dnnlBatchNormBackward(input x: [Float], gamma: [Float], mean: [Float], variance: [Float], workspace: [UInt8],
                                  dOutput dy: [Float], dInput dx: inout [Float], dGamma: inout [Float], dBeta: inout [Float],
                                  shape s: NormShape, layout: ActivationLayout, epsilon: Float, relu: Bool) {
    checkBuffers(x.count, dy.count, gamma.count, dGamma.count, s, "dnnlBatchNormBackward")
    precondition(dx.count == x.count && dBeta.count == s.C && mean.count == s.C && variance.count == s.C,
                 "dnnlBatchNormBackward: buffers do not match \(s)")
    let key = BatchNormPlanKey(shape: s, layout: layout, pass: .backward, relu: relu, epsilon: epsilon)
    // oneDNN overwrites the parameter gradients; the engine's contract adds them.
    var dScaleShift = [Float](repeating: 0, count: 2 * s.C)
    let scaleShift = gamma + [Float](repeating: 0, count: s.C)
    DNNLRuntime.shared.run(threads: key.threads) { runtime in
        let plan = runtime.plan(.batchNorm(key)) { BatchNormPlan.make(key, engine: $0) }
        precondition(workspace.count == plan.argumentBytes[DNNL_ARG_WORKSPACE] ?? 0,
                     "dnnlBatchNormBackward: the workspace is not the training forward's")
        x.withUnsafeBufferPointer { xb in scaleShift.withUnsafeBufferPointer { ssb in mean.withUnsafeBufferPointer { mb in
        variance.withUnsafeBufferPointer { vb in workspace.withUnsafeBufferPointer { wsb in dy.withUnsafeBufferPointer { dyb in
        dx.withUnsafeMutableBufferPointer { dxb in dScaleShift.withUnsafeMutableBufferPointer { dssb in
            var pointers: [Int32: UnsafeMutableRawPointer] = [
                DNNL_ARG_SRC: mutable(xb), DNNL_ARG_SCALE_SHIFT: mutable(ssb), DNNL_ARG_MEAN: mutable(mb),
                DNNL_ARG_VARIANCE: mutable(vb), DNNL_ARG_DIFF_DST: mutable(dyb),
                DNNL_ARG_DIFF_SRC: UnsafeMutableRawPointer(dxb.baseAddress!),
                DNNL_ARG_DIFF_SCALE_SHIFT: UnsafeMutableRawPointer(dssb.baseAddress!)]
            if !workspace.isEmpty { pointers[DNNL_ARG_WORKSPACE] = mutable(wsb) }
            plan.execute(pointers, runtime)
        }}}}}}}}
    }
    for c in 0..<s.C {
        dGamma[c] += dScaleShift[c]
        dBeta[c] += dScaleShift[s.C + c]
    }
}

private func checkBuffers(_ x: Int, _ y: Int, _ gamma: Int, _ beta: Int, _ s: NormShape, _ function: String) {
    precondition(x == s.N * s.C * s.HW && y == x && gamma == s.C && beta == s.C, "\(function): buffers do not match \(s)")
}

private enum BatchNormPlan {
    static func make(_ key: BatchNormPlanKey, engine: dnnl_engine_t) -> DNNLPlan {
        let s = key.shape
        // [N, C, HW, 1] lies in memory as [N, C, H, W] does, in either layout.
        var data = dnnlMemoryDesc([s.N, s.C, s.HW, 1], key.layout.dnnlTag)
        let channels = dnnlMemoryDesc([s.C], dnnl_x)
        // γ and β packed as [2, C] (DNNL_ARG_SCALE_SHIFT): 2.6's separate scale and shift
        // arguments leave their gradients unwritten.
        let scaleShift = dnnlMemoryDesc([2, s.C], dnnl_nc)
        var flags = dnnl_use_scaleshift.rawValue | (key.relu ? dnnl_fuse_norm_relu.rawValue : 0)
        let attr = DNNLAttributes()
        let what = "batch normalisation \(key.pass) for \(s)"
        func forwardPD(_ kind: dnnl_prop_kind_t, _ flags: UInt32) -> dnnl_primitive_desc_t {
            var desc = dnnl_batch_normalization_desc_t()
            dnnlCheck(dnnl_batch_normalization_forward_desc_init(&desc, kind, &data, key.epsilon, flags), what)
            var pd: dnnl_primitive_desc_t?
            dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.value, engine, nil), what)
            return pd!
        }
        switch key.pass {
        case .trainForward:
            let pd = forwardPD(dnnl_forward_training, flags)
            defer { dnnl_primitive_desc_destroy(pd) }
            var args: [DNNLArgument] = [.input(DNNL_ARG_SRC, data), .input(DNNL_ARG_SCALE_SHIFT, scaleShift),
                                        .output(DNNL_ARG_DST, data), .output(DNNL_ARG_MEAN, channels),
                                        .output(DNNL_ARG_VARIANCE, channels)]
            if key.relu { args.append(.output(DNNL_ARG_WORKSPACE, workspaceDesc(pd))) }
            return DNNLPlan(pd, args, engine: engine, what: what)
        case .evalForward:
            flags |= dnnl_use_global_stats.rawValue
            let pd = forwardPD(dnnl_forward_inference, flags)
            defer { dnnl_primitive_desc_destroy(pd) }
            return DNNLPlan(pd, [.input(DNNL_ARG_SRC, data), .input(DNNL_ARG_SCALE_SHIFT, scaleShift),
                                 .input(DNNL_ARG_MEAN, channels), .input(DNNL_ARG_VARIANCE, channels),
                                 .output(DNNL_ARG_DST, data)], engine: engine, what: what)
        case .backward:
            let hint = forwardPD(dnnl_forward_training, flags)
            defer { dnnl_primitive_desc_destroy(hint) }
            var desc = dnnl_batch_normalization_desc_t()
            dnnlCheck(dnnl_batch_normalization_backward_desc_init(&desc, dnnl_backward, &data, &data, key.epsilon, flags), what)
            var pd: dnnl_primitive_desc_t?
            dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, attr.value, engine, hint), what)
            defer { dnnl_primitive_desc_destroy(pd) }
            var args: [DNNLArgument] = [.input(DNNL_ARG_SRC, data), .input(DNNL_ARG_SCALE_SHIFT, scaleShift), .input(DNNL_ARG_MEAN, channels),
                                        .input(DNNL_ARG_VARIANCE, channels), .input(DNNL_ARG_DIFF_DST, data),
                                        .output(DNNL_ARG_DIFF_SRC, data), .output(DNNL_ARG_DIFF_SCALE_SHIFT, scaleShift)]
            if key.relu { args.append(.input(DNNL_ARG_WORKSPACE, workspaceDesc(pd!))) }
            return DNNLPlan(pd!, args, engine: engine, what: what)
        }
    }

    /// The fused ReLU's mask, in the layout the primitive chose for it.
    private static func workspaceDesc(_ pd: dnnl_primitive_desc_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_WORKSPACE)!.pointee
    }
}
