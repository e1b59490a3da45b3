import CDNNL

// What every oneDNN primitive the engine runs shares: its arguments bound to
// the engine's buffers per call, reorders where oneDNN chose another layout
// than the engine's buffer has, a user-managed scratchpad, and all of these in
// the runtime's one arena (primitives run one at a time on the oneDNN thread).

/// An argument of a primitive: its oneDNN argument number, whether the primitive reads or writes
/// it, and the layout of the engine's buffer that will be bound to it.
struct DNNLArgument {
    var arg: Int32
    var isInput: Bool
    var desc: dnnl_memory_desc_t

    static func input(_ arg: Int32, _ desc: dnnl_memory_desc_t) -> DNNLArgument { DNNLArgument(arg: arg, isInput: true, desc: desc) }
    static func output(_ arg: Int32, _ desc: dnnl_memory_desc_t) -> DNNLArgument { DNNLArgument(arg: arg, isInput: false, desc: desc) }
}

/// Primitive attributes with a user-managed scratchpad (bound to the runtime's arena).
final class DNNLAttributes {
    let value: dnnl_primitive_attr_t

    init() {
        var attr: dnnl_primitive_attr_t?
        dnnlCheck(dnnl_primitive_attr_create(&attr), "primitive_attr_create")
        dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "set_scratchpad_mode")
        value = attr!
    }

    deinit { dnnl_primitive_attr_destroy(value) }
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

/// A created primitive with its operands, ready to run on buffers handed in per call.
final class DNNLPlan {
    private let primitive: dnnl_primitive_t
    private let operands: [DNNLOperand]
    private let scratchpad: dnnl_memory_t?
    /// Where the scratchpad and each operand's chosen-layout buffer sit in the runtime's arena.
    private let arenaOffsets: [Int]
    private let arenaBytes: Int
    /// Bytes of each argument's buffer in the primitive's own layout (e.g. a workspace the caller keeps).
    let argumentBytes: [Int32: Int]
    /// oneDNN's name for the implementation it picked (e.g. "jit:avx2"; "ref:any" is its slow reference).
    let implementation: String
    /// How many times it ran.
    private(set) var executions = 0

    init(_ pd: dnnl_primitive_desc_t, _ args: [DNNLArgument], engine: dnnl_engine_t, what: @autoclosure () -> String) {
        operands = args.map { a in
            DNNLOperand(arg: a.arg, isInput: a.isInput, plain: a.desc,
                        chosen: dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, a.arg), engine: engine)
        }
        var bytes: [Int32: Int] = [:]
        for a in args { bytes[a.arg] = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, a.arg)) }
        argumentBytes = bytes
        var name: UnsafePointer<CChar>?
        implementation = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success
            ? name.map { String(cString: $0) } ?? "unknown" : "unknown"
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
        dnnlCheck(dnnl_primitive_create(&primitive, pd), "primitive_create: " + what())
        self.primitive = primitive!
    }

    /// Runs the primitive on the engine's buffers, `pointers[arg]` for each argument.
    func execute(_ pointers: [Int32: UnsafeMutableRawPointer], _ runtime: DNNLRuntime) {
        executions += 1
        let stream = runtime.stream
        let arena = runtime.arena(bytes: arenaBytes)
        for (operand, offset) in zip(operands, arenaOffsets.dropFirst()) {
            guard let pointer = pointers[operand.arg] else { preconditionFailure("DNNLPlan: no buffer for argument \(operand.arg)") }
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
}

/// The key of a cached primitive: which operation, its shape, direction and layouts.
enum DNNLPlanKey: Hashable {
    case conv(ConvPlanKey)
    case batchNorm(BatchNormPlanKey)
}

@inline(__always)
private func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
