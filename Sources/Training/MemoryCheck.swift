import Engine
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
        // cgroup v1 writes "no limit" as a number near 2^63.
        if let max = number(in: "/sys/fs/cgroup/memory/memory.limit_in_bytes"), max < 1 << 62 {
            let used = number(in: "/sys/fs/cgroup/memory/memory.usage_in_bytes") ?? 0
            limits.append(MemoryLimit(bytes: Swift.max(0, max - used), source: "the cgroup memory limit (memory.limit_in_bytes)"))
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
        // "VmSize:\t    3708 kB": tabs and spaces both separate.
        let kilobytes = line.dropFirst(key.count).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
        return kilobytes.map { $0 * 1024 }
    }
}

/// Refuses an `image_size` the machine cannot hold before any image is decoded.
/// The estimate: every train and test image as CHW Float32 (decoded straight
/// into one array), plus the largest model's first stage at its batch
/// size (`firstStageBytes`), tripled for the rest of the network (calibrated
/// where training was measured; see there).
public enum MemoryCheck {
    public static func needed(_ manifest: Manifest, trainRows: Int, testRows: Int) -> Int {
        let d = manifest.data
        let pixels = d.imageHeight.multipliedReportingOverflow(by: d.imageWidth)
        let image = d.channels.multipliedReportingOverflow(by: pixels.partialValue * 4)
        let dataset = (trainRows + testRows).multipliedReportingOverflow(by: image.partialValue)
        let activations = manifest.models.map { firstStageBytes($0, pixels: pixels.partialValue) }.max() ?? 0
        guard !pixels.overflow, !image.overflow, !dataset.overflow else { return Int.max }
        let total = dataset.partialValue.addingReportingOverflow(activations)
        return total.overflow ? Int.max : total.partialValue
    }

    /// The stem output and first stage at the stem's resolution (about six
    /// tensors per block: convolutions, batch norms, activations), for the
    /// network the engine builds from `model` (named networks keep their own stages).
    static func firstStageBytes(_ model: ModelSpec, pixels: Int) -> Int {
        let (width, reduction, blocks): (Int, Int, Int)
        switch Components.architecture(model.arch) {
        case .resnet(let config):
            (width, blocks) = (config.widths.first ?? 64, config.blocks.first ?? 2)
            reduction = config.stem == .conv7Pool ? 16 : 1
        case .efficientNet:
            // A stride-2 stem of 32 channels; its first stages expand more but are smaller.
            (width, reduction, blocks) = (32, 4, 2)
        }
        // Three times the first stage: under ulimit -v 3000000, resnet_ref trained at 160 px and aborted at 200 px;
        // this factor puts the line between them (later stages, gradients, im2col workspace, thread arenas).
        let bytes = (3 * model.batchSize * width * (3 + 6 * blocks) * 4).multipliedReportingOverflow(by: pixels / reduction)
        return bytes.overflow ? Int.max : bytes.partialValue
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

    static func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) + " (\(bytes) bytes)" }
}
