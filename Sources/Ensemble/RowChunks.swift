import Dispatch
import Foundation
import Kernels

/// Rows per chunk of an objective evaluation. Fixed, so the sums (and so every
/// fit) are the same whatever the thread count; a multiple of the 64-row blocks.
let rowsPerChunk = 8192

/// `body` over 0..<N cut into chunks of `rowsPerChunk` rows, on up to
/// `ComputeThreads.current` threads; the results come back in chunk order, so
/// callers add them up in the same order every time.
func mapRowChunks<T: Sendable>(_ N: Int, _ body: @Sendable (Range<Int>) -> T) -> [T] {
    let chunks = stride(from: 0, to: N, by: rowsPerChunk).map { $0..<min($0 + rowsPerChunk, N) }
    let threads = min(ComputeThreads.current, chunks.count)
    if threads <= 1 { return chunks.map(body) }
    let slots = ChunkResults<T>(count: chunks.count)
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
        for index in stride(from: thread, to: chunks.count, by: threads) { slots.store(body(chunks[index]), at: index) }
    }
    return slots.values
}

/// One result per chunk, written from several threads under a lock.
private final class ChunkResults<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]

    init(count: Int) { slots = [T?](repeating: nil, count: count) }

    func store(_ value: T, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }

    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
