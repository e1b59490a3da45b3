import CBLAS
import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels use. The engine parallelises over the batch
/// itself (each thread runs single-threaded BLAS on its own images), so
/// OpenBLAS is kept at one thread: its own workers would compete for the same
/// cores and spin for ~0.1 s after every call.
public enum ComputeThreads {
    private static let count = Atomic<Int>(1)

    public static var current: Int { count.load(ordering: .relaxed) }

    public static func set(_ threads: Int) {
        precondition(threads >= 1, "ComputeThreads.set: threads must be >= 1, got \(threads)")
        count.store(threads, ordering: .relaxed)
        openblas_set_num_threads(1)
    }

    /// The name of the OpenBLAS kernel in use (e.g. "Haswell", "SkylakeX").
    public static var blasCoreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name).trimmingCharacters(in: .whitespaces)
    }
}

/// Runs `body(chunk, range)` over `0..<count` split into contiguous ranges, one
/// per thread, and waits for all of them.
@inline(__always)
func parallelChunks(_ count: Int, _ body: (Int, Range<Int>) -> Void) {
    let threads = min(ComputeThreads.current, count)
    if threads <= 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = count * t / threads, hi = count * (t + 1) / threads
            if lo < hi { box.value(t, lo..<hi) }
        }
    }
}

/// Carries a non-Sendable closure into concurrentPerform: each chunk touches
/// disjoint memory, which the callers guarantee.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
