import Foundation
import Manifests

/// The memory this process may still use, and what sets that limit.
public struct MemoryLimit: Sendable, Equatable {
    public var bytes: Int
    /// `ulimit -v`, the cgroup's memory.max or MemAvailable, for the message.
    public var source: String

    public init(bytes: Int, source: String) { (self.bytes, self.source) = (bytes, source) }

    /// The tightest of the address-space limit (less what is mapped already),
    /// the cgroup v2 limit (less what the group uses) and /proc/meminfo's MemAvailable.
    public static func current() -> MemoryLimit? {
        var limits: [MemoryLimit] = []
        var rlimit = rlimit()
        // RLIM_INFINITY is all ones; Swift imports the C macro as -1, which a UInt cannot hold.
        if getrlimit(Int32(RLIMIT_AS.rawValue), &rlimit) == 0, rlimit.rlim_cur != rlim_t.max {
            let mapped = procField("/proc/self/status", "VmSize:") ?? 0
            limits.append(MemoryLimit(bytes: max(0, Int(clamping: rlimit.rlim_cur) - mapped), source: "the address-space limit (ulimit -v)"))
        }
        if let max = number(in: "/sys/fs/cgroup/memory.max") {
            let used = number(in: "/sys/fs/cgroup/memory.current") ?? 0
            limits.append(MemoryLimit(bytes: Swift.max(0, max - used), source: "the cgroup memory limit (memory.max)"))
        }
        if let available = procField("/proc/meminfo", "MemAvailable:") {
            limits.append(MemoryLimit(bytes: available, source: "the memory available (MemAvailable)"))
        }
        return limits.min { $0.bytes < $1.bytes }
    }

    /// A file holding one number ("max" or unreadable: nil).
    private static func number(in path: String) -> Int? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// `Key:   123 kB` in a /proc file, in bytes.
    private static func procField(_ path: String, _ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return nil }
        let kilobytes = line.dropFirst(key.count).split(separator: " ").first.flatMap { Int($0) }
        return kilobytes.map { $0 * 1024 }
    }
}

/// Refuses an `image_size` the machine cannot hold before any image is decoded.
/// The estimate is a lower bound: every train and test image as CHW Float32
/// (the decoded data set) plus, for the largest batch, the input batch and the
/// first layer's output and their gradients (at least four batch-sized tensors).
public enum MemoryCheck {
    public static func needed(_ manifest: Manifest, trainRows: Int, testRows: Int) -> Int {
        let d = manifest.data
        let image = d.channels.multipliedReportingOverflow(by: d.imageHeight * d.imageWidth * 4).partialValue
        let batch = manifest.models.map(\.batchSize).max() ?? 1
        let (dataset, o1) = (trainRows + testRows).multipliedReportingOverflow(by: image)
        let (activations, o2) = (4 * batch).multipliedReportingOverflow(by: image)
        return o1 || o2 ? Int.max : dataset.addingReportingOverflow(activations).partialValue
    }

    public static func check(_ manifest: Manifest, trainRows: Int, testRows: Int,
                             limit: MemoryLimit? = MemoryLimit.current()) throws {
        guard let limit else { return }
        let bytes = needed(manifest, trainRows: trainRows, testRows: testRows)
        guard bytes > limit.bytes else { return }
        let d = manifest.data
        throw ManifestError(file: manifest.file?.path ?? "the manifest", line: nil, keyPath: "data.image_size",
                            message: "image_size \(d.imageHeight)×\(d.imageWidth) × \(d.channels) channel(s) for \(trainRows + testRows) images "
                                + "needs at least \(gigabytes(bytes)) of memory (decoded images and a batch's activations), "
                                + "but \(limit.source) leaves \(gigabytes(limit.bytes))",
                            fix: "lower data.image_size (or the models' batch_size), or run where more memory is available")
    }

    static func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB (%d bytes)", Double(bytes) / 1e9, bytes) }
}
