import CDNNL

// A oneDNN convolution primitive for one shape and direction, with the reorders
// between the engine's plain layouts (NCHW activations, [F, C/groups, R, S]
// weights) and the layouts oneDNN chooses (format `any`: blocked nChw16c and
// friends on AVX-512). Reordering at every call is the drop-in stage; keeping
// activations and weights in oneDNN's layouts between layers is the next step
// of issue 12, and where most of the speed is.

enum ConvDirection: Hashable { case forward, backwardData, backwardWeights }

/// oneDNN sizes a primitive's work split for the OpenMP team at creation, so the team size
/// is part of the key: a primitive made for 2 threads would still ask for 2 after a change to 1.
struct ConvPlanKey: Hashable {
    var shape: ConvShape
    var direction: ConvDirection
    var bias: Bool
    var threads = ComputeThreads.current
}

/// One argument of a primitive: a memory over the engine's plain buffer and, when oneDNN chose
/// another layout, a memory in that layout plus the reorder between the two. Both are bound to
/// buffers per call: the plain one to the engine's array, the chosen one to the runtime's arena.
final class DNNLOperand {
    let arg: Int32
    let isInput: Bool
    private let plain: dnnl_memory_t
    let chosen: dnnl_memory_t
    /// Bytes of the chosen layout's buffer; 0 when it is the plain one.
    let chosenBytes: Int
    private let reorder: dnnl_primitive_t?

    init(arg: Int32, isInput: Bool, plain plainDesc: dnnl_memory_desc_t, chosen chosenDesc: UnsafePointer<dnnl_memory_desc_t>,
         engine: dnnl_engine_t) {
        var plainDesc = plainDesc
        (self.arg, self.isInput) = (arg, isInput)
        var plain: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&plain, &plainDesc, engine, nil), "memory_create (plain)")
        self.plain = plain!
        if dnnl_memory_desc_equal(&plainDesc, chosenDesc) != 0 {
            (chosen, chosenBytes, reorder) = (plain!, 0, nil)
            return
        }
        var chosen: dnnl_memory_t?
        dnnlCheck(dnnl_memory_create(&chosen, chosenDesc, engine, nil), "memory_create (chosen)")
        self.chosen = chosen!
        chosenBytes = dnnl_memory_desc_get_size(chosenDesc)
        var pd: dnnl_primitive_desc_t?
        if isInput {
            dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &plainDesc, engine, chosenDesc, engine, nil), "reorder in")
        } else {
            dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, chosenDesc, engine, &plainDesc, engine, nil), "reorder out")
        }
        defer { dnnl_primitive_desc_destroy(pd) }
        var reorder: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&reorder, pd), "reorder primitive_create")
        self.reorder = reorder
    }

    func bind(_ pointer: UnsafeMutableRawPointer, arena: UnsafeMutableRawPointer, _ stream: dnnl_stream_t) {
        dnnlCheck(dnnl_memory_set_data_handle_v2(plain, pointer, stream), "memory_set_data_handle (plain)")
        if chosenBytes > 0 { dnnlCheck(dnnl_memory_set_data_handle_v2(chosen, arena, stream), "memory_set_data_handle (chosen)") }
    }

    func reorderIn(_ stream: dnnl_stream_t) {
        if isInput, let reorder { dnnlExecute(reorder, stream, [(DNNL_ARG_FROM, plain), (DNNL_ARG_TO, chosen)]) }
    }

    func reorderOut(_ stream: dnnl_stream_t) {
        if !isInput, let reorder { dnnlExecute(reorder, stream, [(DNNL_ARG_FROM, chosen), (DNNL_ARG_TO, plain)]) }
    }

    deinit {
        if let reorder {
            dnnl_primitive_destroy(reorder)
            dnnl_memory_destroy(chosen)
        }
        dnnl_memory_destroy(plain)
    }
}

final class ConvPlan {
    private let primitive: dnnl_primitive_t
    private let operands: [DNNLOperand]
    private let scratchpad: dnnl_memory_t?
    /// Where the scratchpad and each operand's chosen-layout buffer sit in the runtime's arena.
    private let arenaOffsets: [Int]
    private let arenaBytes: Int

    init(_ key: ConvPlanKey, engine: dnnl_engine_t) {
        let s = key.shape
        let plain = ConvPlan.plainDescs(s)
        var attr: dnnl_primitive_attr_t?
        dnnlCheck(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        // Backward primitives need the forward one as a hint.
        var forward = ConvPlan.descriptor(s, .forward, bias: key.bias)
        var forwardPD: dnnl_primitive_desc_t?
        dnnlCheck(dnnl_primitive_desc_create(&forwardPD, &forward, attr, engine, nil), "convolution forward pd for \(s)")
        defer { dnnl_primitive_desc_destroy(forwardPD) }
        var pd = forwardPD
        if key.direction != .forward {
            var backward = ConvPlan.descriptor(s, key.direction, bias: key.bias)
            dnnlCheck(dnnl_primitive_desc_create(&pd, &backward, attr, engine, forwardPD), "convolution \(key.direction) pd for \(s)")
        }
        defer { if key.direction != .forward { dnnl_primitive_desc_destroy(pd) } }
        let args: [(Int32, Bool, dnnl_memory_desc_t)]
        switch key.direction {
        case .forward:
            args = [(DNNL_ARG_SRC, true, plain.x), (DNNL_ARG_WEIGHTS, true, plain.w), (DNNL_ARG_DST, false, plain.y)]
                + (key.bias ? [(DNNL_ARG_BIAS, true, plain.bias)] : [])
        case .backwardData:
            args = [(DNNL_ARG_DIFF_DST, true, plain.y), (DNNL_ARG_WEIGHTS, true, plain.w), (DNNL_ARG_DIFF_SRC, false, plain.x)]
        case .backwardWeights:
            args = [(DNNL_ARG_SRC, true, plain.x), (DNNL_ARG_DIFF_DST, true, plain.y), (DNNL_ARG_DIFF_WEIGHTS, false, plain.w)]
                + (key.bias ? [(DNNL_ARG_DIFF_BIAS, false, plain.bias)] : [])
        }
        operands = args.map { arg, isInput, desc in
            DNNLOperand(arg: arg, isInput: isInput, plain: desc,
                        chosen: dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg), engine: engine)
        }
        let scratchDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_SCRATCHPAD)!
        let scratchpadBytes = dnnl_memory_desc_get_size(scratchDesc)
        var offsets = [0], end = aligned(scratchpadBytes)
        for operand in operands {
            offsets.append(end)
            end += aligned(operand.chosenBytes)
        }
        (arenaOffsets, arenaBytes) = (offsets, end)
        var scratchpad: dnnl_memory_t?
        if scratchpadBytes > 0 {
            dnnlCheck(dnnl_memory_create(&scratchpad, scratchDesc, engine, nil), "memory_create (scratchpad)")
        }
        self.scratchpad = scratchpad
        var primitive: dnnl_primitive_t?
        dnnlCheck(dnnl_primitive_create(&primitive, pd), "convolution primitive_create for \(s)")
        self.primitive = primitive!
    }

    /// Runs the primitive on the engine's buffers, `pointers[arg]` for each argument.
    func execute(_ pointers: [Int32: UnsafeMutableRawPointer], _ runtime: DNNLRuntime) {
        let stream = runtime.stream
        let arena = runtime.arena(bytes: arenaBytes)
        for (operand, offset) in zip(operands, arenaOffsets.dropFirst()) {
            guard let pointer = pointers[operand.arg] else { preconditionFailure("ConvPlan: no buffer for argument \(operand.arg)") }
            operand.bind(pointer, arena: arena + offset, stream)
            operand.reorderIn(stream)
        }
        var args = operands.map { ($0.arg, $0.chosen) }
        if let scratchpad {
            dnnlCheck(dnnl_memory_set_data_handle_v2(scratchpad, arena, stream), "scratchpad set_data_handle")
            args.append((DNNL_ARG_SCRATCHPAD, scratchpad))
        }
        dnnlExecute(primitive, stream, args)
        for operand in operands { operand.reorderOut(stream) }
        dnnlCheck(dnnl_stream_wait(stream), "stream_wait")
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        if let scratchpad { dnnl_memory_destroy(scratchpad) }
    }

    /// The engine's layouts: x [N, C, H, W], w [F, Cg, R, S] (as [G, Fg, Cg, R, S] when grouped), y [N, F, P, Q].
    private static func plainDescs(_ s: ConvShape) -> (x: dnnl_memory_desc_t, w: dnnl_memory_desc_t, y: dnnl_memory_desc_t,
                                                      bias: dnnl_memory_desc_t) {
        (dnnlMemoryDesc([s.N, s.C, s.H, s.W], dnnl_nchw),
         s.groups > 1 ? dnnlMemoryDesc([s.groups, s.Fg, s.Cg, s.R, s.S], dnnl_goihw) : dnnlMemoryDesc([s.F, s.C, s.R, s.S], dnnl_oihw),
         dnnlMemoryDesc([s.N, s.F, s.P, s.Q], dnnl_nchw),
         dnnlMemoryDesc([s.F], dnnl_x))
    }

    /// The operation descriptor with every layout left to oneDNN. Right padding is the left
    /// padding: oneDNN's shape check divides like PyTorch's floor, so rows past the last
    /// output window are simply never read.
    private static func descriptor(_ s: ConvShape, _ direction: ConvDirection, bias: Bool) -> dnnl_convolution_desc_t {
        let any = dnnl_format_tag_any
        var x = dnnlMemoryDesc([s.N, s.C, s.H, s.W], any)
        var w = s.groups > 1 ? dnnlMemoryDesc([s.groups, s.Fg, s.Cg, s.R, s.S], any) : dnnlMemoryDesc([s.F, s.C, s.R, s.S], any)
        var y = dnnlMemoryDesc([s.N, s.F, s.P, s.Q], any)
        // A zero descriptor (ndims 0) means "no bias" to oneDNN.
        var b = bias ? dnnlMemoryDesc([s.F], any) : dnnl_memory_desc_t()
        let strides: [Int64] = [Int64(s.stride), Int64(s.stride)]
        let padding: [Int64] = [Int64(s.padding), Int64(s.padding)]
        var desc = dnnl_convolution_desc_t()
        let alg = dnnl_convolution_direct
        switch direction {
        case .forward:
            dnnlCheck(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, alg, &x, &w, &b, &y, strides, padding, padding),
                      "convolution_forward_desc_init for \(s)")
        case .backwardData:
            dnnlCheck(dnnl_convolution_backward_data_desc_init(&desc, alg, &x, &w, &y, strides, padding, padding),
                      "convolution_backward_data_desc_init for \(s)")
        case .backwardWeights:
            dnnlCheck(dnnl_convolution_backward_weights_desc_init(&desc, alg, &x, &w, &b, &y, strides, padding, padding),
                      "convolution_backward_weights_desc_init for \(s)")
        }
        return desc
    }
}

@inline(__always)
private func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
