import Engine
import Foundation

/// A mini-batch: images [n, C, H, W], their labels (empty when the loader
/// has none) and the image indices they came from.
public struct Batch: Sendable, Equatable {
    public var images: Tensor
    public var labels: [Int]
    public var rows: [Int]

    public init(images: Tensor, labels: [Int], rows: [Int]) {
        self.images = images
        self.labels = labels
        self.rows = rows
    }
}

/// One pass over `rows` in batches. Batches are assembled (and augmented) on
/// a background thread, at most `prefetch` ahead, while the caller trains.
/// Order and augmentation depend only on the seeds: batch b is shuffled by
/// `shuffleSeed` and augmented from the stream SeededRandom(augmentSeed, b),
/// so the thread's timing never changes a result. Iterating twice repeats
/// the same pass; derive the seeds from the epoch for a new one.
public final class BatchLoader: Sequence, Sendable {
    private let plan: BatchPlan
    private let prefetch: Int

    /// `labels[i]` is the label of image `rows[i]` (or pass [] for unlabelled
    /// rows). Without `shuffleSeed` the rows come in order and nothing is
    /// dropped; with it, `dropLast` drops a final short batch unless it is the
    /// only one. `prefetch` 0 assembles each batch on the calling thread.
    public init(images: ImageSet, rows: [Int], labels: [Int], batchSize: Int, shuffleSeed: UInt64?,
                augmentation: Augmentation?, augmentSeed: UInt64, dropLast: Bool, prefetch: Int = 2) {
        precondition(batchSize > 0, "BatchLoader: batchSize must be positive, got \(batchSize)")
        precondition(labels.isEmpty || labels.count == rows.count,
                     "BatchLoader: \(labels.count) labels for \(rows.count) rows; pass one label per row, in row order")
        precondition(rows.allSatisfy { $0 >= 0 && $0 < images.count },
                     "BatchLoader: a row is outside the \(images.count) images")
        let order = shuffleSeed.map { seededPermutation(rows.count, seed: $0) } ?? Array(0..<rows.count)
        var batchCount = (rows.count + batchSize - 1) / batchSize
        if shuffleSeed != nil && dropLast && rows.count % batchSize != 0 && rows.count > batchSize {
            batchCount -= 1
        }
        plan = BatchPlan(images: images, rows: order.map { rows[$0] },
                         labels: labels.isEmpty ? [] : order.map { labels[$0] },
                         batchSize: batchSize, batchCount: batchCount,
                         augmentation: augmentation, augmentSeed: augmentSeed)
        self.prefetch = Swift.max(0, prefetch)
    }

    public var batchCount: Int { plan.batchCount }

    /// Batch `index` of the pass, assembled on the calling thread.
    public func batch(_ index: Int) -> Batch { plan.batch(index) }

    public func makeIterator() -> Iterator {
        Iterator(plan: plan, prefetch: prefetch)
    }

    public struct Iterator: IteratorProtocol {
        private let plan: BatchPlan
        private let producer: Producer?
        private var nextIndex = 0

        init(plan: BatchPlan, prefetch: Int) {
            self.plan = plan
            self.producer = prefetch > 0 && plan.batchCount > 0 ? Producer(plan: plan, capacity: prefetch) : nil
        }

        public mutating func next() -> Batch? {
            if let producer { return producer.queue.take() }
            guard nextIndex < plan.batchCount else { return nil }
            defer { nextIndex += 1 }
            return plan.batch(nextIndex)
        }
    }
}

/// Everything needed to build any batch of a pass; pure, so any thread can build one.
struct BatchPlan: Sendable {
    let images: ImageSet
    let rows: [Int]
    let labels: [Int]
    let batchSize: Int
    let batchCount: Int
    let augmentation: Augmentation?
    let augmentSeed: UInt64

    func batch(_ index: Int) -> Batch {
        precondition(index >= 0 && index < batchCount, "BatchLoader: batch \(index) of \(batchCount)")
        let range = (index * batchSize)..<min(rows.count, (index + 1) * batchSize)
        let spec = images.spec
        var scalars = [Float](repeating: 0, count: range.count * spec.imageSize)
        var random = SeededRandom(augmentSeed, UInt64(index))
        for (slot, row) in rows[range].enumerated() {
            let offset = slot * spec.imageSize
            images.copy(row, into: &scalars, at: offset)
            augmentation?.apply(to: &scalars, at: offset, channels: spec.channels, height: spec.height,
                                width: spec.width, random: &random)
        }
        return Batch(images: Tensor(shape: [range.count, spec.channels, spec.height, spec.width], scalars: scalars),
                     labels: labels.isEmpty ? [] : Array(labels[range]), rows: Array(rows[range]))
    }
}

/// Owns the background thread of one iteration; stops it when the iterator
/// is dropped before the end of the pass.
final class Producer: Sendable {
    let queue: BatchQueue

    init(plan: BatchPlan, capacity: Int) {
        let queue = BatchQueue(capacity: capacity)
        self.queue = queue
        let thread = Thread {
            for index in 0..<plan.batchCount {
                if !queue.put(plan.batch(index)) { return }
            }
            queue.finish()
        }
        thread.name = "foldwise.batch-loader"
        thread.start()
    }

    deinit { queue.cancel() }
}

/// A bounded FIFO between the loader thread and the trainer.
final class BatchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Batch] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; false once the consumer has gone away.
    func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(batch)
        condition.broadcast()
        return true
    }

    /// Waits for the next batch; nil after the last one.
    func take() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        if items.isEmpty { return nil }
        let batch = items.removeFirst()
        condition.broadcast()
        return batch
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A Fisher–Yates permutation of 0..<count from its own seeded stream
/// (written out so it never changes with the standard library's shuffle).
public func seededPermutation(_ count: Int, seed: UInt64) -> [Int] {
    var order = Array(0..<count)
    var random = SeededRandom(seed: seed)
    for i in stride(from: count - 1, to: 0, by: -1) {
        order.swapAt(i, random.int(below: i + 1))
    }
    return order
}
