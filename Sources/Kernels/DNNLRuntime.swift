import CDNNL
import Dispatch
import Foundation

// oneDNN's engine, stream, primitive cache and shared arena.
// oneDNN runs on GNU OpenMP, whose thread team belongs to the thread that
// calls it: every oneDNN call goes through `DNNLRuntime.shared.run` on one
// dedicated thread, so there is one team, sized to ComputeThreads.current
// (omp_set_num_threads), and the cache and arena need no lock. Callers
// wait for the call, so the engine's own batch-split threads never run beside
// oneDNN's team on the same work.

final class DNNLRuntime: @unchecked Sendable {
    static let shared = DNNLRuntime()

    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// Primitives by shape and direction, created on first use. A run sees a handful of
    /// shapes (a network's layers × train/eval batch sizes); past the capacity the cache
    /// starts over rather than tracking recency.
    var plans: [DNNLPlanKey: DNNLPlan] = [:]
    let capacity = 1024
    private var arena: UnsafeMutableRawPointer?
    private var arenaBytes = 0
    private var scratchBuffer: UnsafeMutablePointer<Float>?
    private var scratchFloats = 0
    private var teamSize = 0
    private let thread = DedicatedThread(name: "foldwise.dnnl")

    private init() {
        var engine: dnnl_engine_t?
        dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create")
        var stream: dnnl_stream_t?
        dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        (self.engine, self.stream) = (engine!, stream!)
        nativeLayout = DNNLRuntime.probeLayout(engine!)
    }

    /// See ActivationLayout.native: the layout oneDNN's forward convolution picks for a
    /// 32-channel 3×3 case when left to choose.
    let nativeLayout: ActivationLayout?

    /// Creates a primitive descriptor only (nothing runs), so any thread may ask.
    private static func probeLayout(_ engine: dnnl_engine_t) -> ActivationLayout? {
        var x = dnnlMemoryDesc([2, 32, 8, 8], dnnl_format_tag_any), y = x
        var w = dnnlMemoryDesc([32, 32, 3, 3], dnnl_format_tag_any), b = dnnl_memory_desc_t()
        var desc = dnnl_convolution_desc_t()
        dnnlCheck(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct, &x, &w, &b, &y,
                                                     [1, 1], [1, 1], [1, 1]), "convolution_forward_desc_init (layout probe)")
        var pd: dnnl_primitive_desc_t?
        dnnlCheck(dnnl_primitive_desc_create(&pd, &desc, nil, engine, nil), "convolution pd (layout probe)")
        defer { dnnl_primitive_desc_destroy(pd) }
        let chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)!
        return [ActivationLayout.nChw16c, .nChw8c].first { layout in
            var candidate = dnnlMemoryDesc([2, 32, 8, 8], layout.dnnlTag)
            return dnnl_memory_desc_equal(&candidate, chosen) != 0
        }
    }

    /// The plan for `key`, created by `make` on first use.
    func plan(_ key: DNNLPlanKey, _ make: (dnnl_engine_t) -> DNNLPlan) -> DNNLPlan {
        if let plan = plans[key] { return plan }
        if plans.count >= capacity { plans.removeAll() }
        let plan = make(engine)
        plans[key] = plan
        return plan
    }

    /// Runs `body` on the oneDNN thread with an OpenMP team of `threads`; the caller waits.
    func run<T>(threads: Int, _ body: (DNNLRuntime) -> T) -> T {
        thread.run {
            if threads != teamSize {
                omp_set_num_threads(Int32(threads))
                teamSize = threads
            }
            return body(self)
        }
    }

    /// Floats the caller may use until its `run` returns (e.g. gradients oneDNN overwrites, before
    /// they are added into the engine's): reused across calls, grows, never shrinks. Not the arena,
    /// which the primitive uses meanwhile.
    func scratch(floats: Int) -> UnsafeMutablePointer<Float> {
        if floats > scratchFloats || scratchBuffer == nil {
            scratchBuffer?.deallocate()
            scratchFloats = max(floats, 16)
            scratchBuffer = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
        }
        return scratchBuffer!
    }

    /// One buffer for every primitive's scratchpad and its operands in oneDNN's layouts: primitives
    /// run one at a time, so memory is the largest primitive's, not the sum over the cache.
    /// Grows, never shrinks.
    func arena(bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > arenaBytes || arena == nil {
            arena?.deallocate()
            arena = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
            arenaBytes = max(bytes, 64)
        }
        return arena!
    }
}

/// oneDNN fails only on an unsupported descriptor or a broken installation: stop with the call.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ call: @autoclosure () -> String) {
    precondition(status == dnnl_success,
                 "oneDNN \(call()) failed with status \(status.rawValue); fix: run with FOLDWISE_ENGINE=blas "
                 + "(the OpenBLAS path), and check that scripts/setup installed libdnnl-dev 2.6")
}

/// A plain f32 memory descriptor, e.g. NCHW activations or OIHW weights; `dnnl_format_tag_any`
/// lets the primitive choose its layout.
func dnnlMemoryDesc(_ dims: [Int], _ tag: dnnl_format_tag_t) -> dnnl_memory_desc_t {
    var desc = dnnl_memory_desc_t()
    let dims = dims.map(Int64.init)
    dnnlCheck(dnnl_memory_desc_init_by_tag(&desc, Int32(dims.count), dims, dnnl_f32, tag), "memory_desc_init_by_tag \(dims)")
    return desc
}

func dnnlExecute(_ primitive: dnnl_primitive_t, _ stream: dnnl_stream_t, _ args: [(Int32, dnnl_memory_t)]) {
    let list = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
    dnnlCheck(dnnl_primitive_execute(primitive, stream, Int32(list.count), list), "primitive_execute")
}

/// A thread that runs the closures handed to `run`, one at a time, while their callers wait.
final class DedicatedThread: @unchecked Sendable {
    private let callers = NSLock()
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var job: (() -> Void)?

    init(name: String) {
        let thread = Thread { [self] in
            while true {
                started.wait()
                job?()
                finished.signal()
            }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    func run<T>(_ body: () -> T) -> T {
        callers.lock()
        defer { callers.unlock() }
        return withoutActuallyEscaping(body) { body in
            var result: T?
            job = { result = body() }
            started.signal()
            finished.wait()
            job = nil
            return result!
        }
    }
}
