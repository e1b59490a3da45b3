import Foundation

/// Saves and loads every parameter and buffer of a `ParameterStore`.
///
/// Layout, all integers little-endian:
///   magic "FWCKPT01" (8 bytes) · UInt32 format version · UInt64 file length in bytes
///   UInt32 metadata count · per entry: key, value (UTF-8 strings, UInt32 length prefix), sorted by key
///   UInt32 tensor count · per tensor: name · UInt32 rank · rank × Int64 dims · Float32 data
///   UInt32 CRC32 (IEEE) of every byte before it
/// The stored length tells a truncated file from a corrupt one.
public enum Checkpoint {
    public static let magic: [UInt8] = Array("FWCKPT01".utf8)
    public static let formatVersion: UInt32 = 1
    /// Magic, version and length: the bytes needed before anything else can be judged.
    static let headerLength = 8 + 4 + 8

    /// Writes to a temporary file beside `url`, then renames it over `url`, so a
    /// crash leaves either the old checkpoint or the new one, never half of one.
    public static func save(_ store: ParameterStore, metadata: [String: String], to url: URL) throws {
        let bytes = encode(store, metadata: metadata)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CheckpointError.unwritable(path: url.path, reason: "cannot create \(temporary.path)")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
            guard rename(temporary.path, url.path) == 0 else {
                throw CheckpointError.unwritable(path: url.path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Reads `url` into the store's parameters and buffers and returns the metadata.
    /// The whole file is validated (format, checksum, names and shapes) before any
    /// parameter changes, so a failed load leaves the model as it was.
    @discardableResult
    public static func load(from url: URL, into store: ParameterStore) throws -> [String: String] {
        let contents = try read(from: url)
        try validate(contents.tensors, against: store, path: url.path)
        for parameter in store.all {
            parameter.value = contents.tensors[parameter.name]!
        }
        return contents.metadata
    }

    /// Every tensor of the file by name, and its metadata: the format and checksum
    /// are checked, not the match to any model (fine-tuning loads what fits).
    public static func read(from url: URL) throws -> (metadata: [String: String], tensors: [String: Tensor]) {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw CheckpointError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try decode(bytes, path: url.path)
    }

    /// The file's bytes; exposed to the module so tests can damage them on purpose.
    static func encode(_ store: ParameterStore, metadata: [String: String]) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(headerLength + 64 + store.all.reduce(0) { $0 + 64 + 4 * $1.value.count })
        writer.bytes.append(contentsOf: magic)
        writer.append(formatVersion)
        let lengthOffset = writer.bytes.count
        writer.append(UInt64(0))
        writer.append(UInt32(metadata.count))
        for key in metadata.keys.sorted() {
            writer.append(key)
            writer.append(metadata[key]!)
        }
        writer.append(UInt32(store.all.count))
        for parameter in store.all {
            writer.append(parameter.name)
            writer.append(UInt32(parameter.value.rank))
            for dim in parameter.value.shape { writer.append(UInt64(bitPattern: Int64(dim))) }
            writer.append(parameter.value.scalars)
        }
        writer.overwrite(UInt64(writer.bytes.count + 4), at: lengthOffset)
        writer.append(CRC32.checksum(writer.bytes[...]))
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> (metadata: [String: String], tensors: [String: Tensor]) {
        try checkEnvelope(bytes, path: path)
        var reader = ByteReader(bytes: bytes[..<(bytes.count - 4)], offset: headerLength, path: path)
        var metadata: [String: String] = [:]
        for _ in 0..<(try reader.uint32()) {
            let key = try reader.string()
            metadata[key] = try reader.string()
        }
        var tensors: [String: Tensor] = [:]
        for _ in 0..<(try reader.uint32()) {
            let name = try reader.string()
            let tensor = try reader.tensor(named: name)
            guard tensors.updateValue(tensor, forKey: name) == nil else {
                throw CheckpointError.malformed(path: path, reason: "tensor \"\(name)\" appears twice")
            }
        }
        guard reader.isAtEnd else {
            throw CheckpointError.malformed(path: path, reason: "\(reader.remaining) unused bytes before the checksum")
        }
        return (metadata, tensors)
    }

    /// Magic, version, length and checksum, in the order that gives the most
    /// useful message: a wrong file, then a newer format, then a cut-off copy.
    private static func checkEnvelope(_ bytes: [UInt8], path: String) throws {
        let prefix = Array(bytes.prefix(magic.count))
        guard prefix == Array(magic.prefix(prefix.count)) else {
            throw CheckpointError.notACheckpoint(path: path)
        }
        guard bytes.count >= headerLength else {
            throw CheckpointError.truncated(path: path, expectedBytes: headerLength, actualBytes: bytes.count)
        }
        var header = ByteReader(bytes: bytes[...], offset: magic.count, path: path)
        let version = try header.uint32()
        guard version == formatVersion else {
            throw CheckpointError.unsupportedVersion(path: path, version: version)
        }
        let declared = try header.uint64()
        if UInt64(bytes.count) < declared {
            throw CheckpointError.truncated(path: path, expectedBytes: Int(clamping: declared), actualBytes: bytes.count)
        }
        let stored = bytes.count >= headerLength + 4
            ? ByteReader.littleEndian(bytes[(bytes.count - 4)...]) : 0
        let computed = CRC32.checksum(bytes[..<max(bytes.count - 4, 0)])
        guard UInt64(bytes.count) == declared, stored == computed else {
            throw CheckpointError.checksumMismatch(path: path, stored: UInt32(truncatingIfNeeded: stored), computed: computed)
        }
    }

    /// Every store entry must be in the file with its shape, and nothing else.
    private static func validate(_ tensors: [String: Tensor], against store: ParameterStore, path: String) throws {
        for parameter in store.all {
            guard let tensor = tensors[parameter.name] else {
                throw CheckpointError.missingParameter(path: path, name: parameter.name)
            }
            guard tensor.shape == parameter.shape else {
                throw CheckpointError.shapeMismatch(path: path, name: parameter.name,
                                                    model: parameter.shape, checkpoint: tensor.shape)
            }
        }
        let known = Set(store.all.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw CheckpointError.unexpectedParameter(path: path, name: extra)
        }
    }
}

/// What can go wrong with a checkpoint file, with the path and a fix.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case notACheckpoint(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case checksumMismatch(path: String, stored: UInt32, computed: UInt32)
    case malformed(path: String, reason: String)
    case missingParameter(path: String, name: String)
    case unexpectedParameter(path: String, name: String)
    case shapeMismatch(path: String, name: String, model: [Int], checkpoint: [Int])
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        let retrain = "delete the file so the task trains again, or restore a good copy"
        let otherModel = "the checkpoint was saved from a different model; check the manifest's model settings (backbone, head, number of classes) or retrain"
        switch self {
        case .notACheckpoint(let path):
            return "\(path) is not a Foldwise checkpoint (it does not start with FWCKPT01). Fix: pass a file written by Foldwise's checkpoint saving."
        case .unsupportedVersion(let path, let version):
            return "\(path) uses checkpoint format version \(version); this build reads version \(Checkpoint.formatVersion). Fix: load it with the Foldwise release that wrote it, or retrain."
        case .truncated(let path, let expected, let actual):
            return "\(path) is truncated: \(actual) of \(expected) bytes. Fix: the write or copy was interrupted; \(retrain)."
        case .checksumMismatch(let path, let stored, let computed):
            return "\(path) is corrupt: stored CRC32 \(hex(stored)), computed \(hex(computed)). Fix: \(retrain)."
        case .malformed(let path, let reason):
            return "\(path) is malformed: \(reason). Fix: \(retrain)."
        case .missingParameter(let path, let name):
            return "\(path) has no tensor \"\(name)\", which the model needs. Fix: \(otherModel)."
        case .unexpectedParameter(let path, let name):
            return "\(path) holds tensor \"\(name)\", which the model does not have. Fix: \(otherModel)."
        case .shapeMismatch(let path, let name, let model, let checkpoint):
            return "\(path): tensor \"\(name)\" has shape \(checkpoint) in the checkpoint but \(model) in the model. Fix: \(otherModel)."
        case .unreadable(let path, let reason):
            return "cannot read checkpoint \(path): \(reason). Fix: check that the file exists and is readable."
        case .unwritable(let path, let reason):
            return "cannot write checkpoint \(path): \(reason). Fix: check that the folder exists, is writable and has free space."
        }
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}

/// Little-endian appends to a growing byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func append(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func append(_ scalars: [Float]) {
        #if _endian(little)
        // The in-memory layout already is the file's: one bulk copy.
        scalars.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for scalar in scalars { append(scalar.bitPattern) }
        #endif
    }

    mutating func append(_ string: String) {
        let utf8 = Array(string.utf8)
        append(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    mutating func overwrite(_ value: UInt64, at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * index)) }
    }
}

/// Bounds-checked little-endian reads; running past the end is a malformed file
/// (the length and checksum were already verified, so the writer was wrong).
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int
    let path: String

    var remaining: Int { bytes.endIndex - offset }
    var isAtEnd: Bool { offset == bytes.endIndex }

    static func littleEndian(_ slice: ArraySlice<UInt8>) -> UInt64 {
        slice.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func take(_ count: Int, for what: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw CheckpointError.malformed(path: path, reason: "\(what) needs \(count) bytes at offset \(offset), \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func uint32() throws -> UInt32 { UInt32(Self.littleEndian(try take(4, for: "a count"))) }
    mutating func uint64() throws -> UInt64 { Self.littleEndian(try take(8, for: "a length")) }

    mutating func string() throws -> String {
        let length = Int(try uint32())
        guard let string = String(bytes: try take(length, for: "a string"), encoding: .utf8) else {
            throw CheckpointError.malformed(path: path, reason: "a name or metadata entry at offset \(offset - length) is not UTF-8")
        }
        return string
    }

    mutating func tensor(named name: String) throws -> Tensor {
        let rank = Int(try uint32())
        guard rank <= remaining / 8 else {
            throw CheckpointError.malformed(path: path, reason: "tensor \"\(name)\" claims rank \(rank)")
        }
        var shape: [Int] = []
        for _ in 0..<rank {
            let dim = Int64(bitPattern: try uint64())
            guard (0...Int64(Int32.max)).contains(dim) else {
                throw CheckpointError.malformed(path: path, reason: "tensor \"\(name)\" has dimension \(dim)")
            }
            shape.append(Int(dim))
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, dim in
            let (product, overflowed) = acc.0.multipliedReportingOverflow(by: dim)
            return (product, acc.1 || overflowed)
        }
        guard !overflow, count <= remaining / 4 else {
            throw CheckpointError.malformed(path: path, reason: "tensor \"\(name)\" of shape \(shape) does not fit in the file")
        }
        let data = try take(4 * count, for: "tensor \"\(name)\"")
        var scalars = [Float](repeating: 0, count: count)
        #if _endian(little)
        scalars.withUnsafeMutableBytes { $0.copyBytes(from: data) }
        #else
        var index = data.startIndex
        for i in 0..<count {
            let bits = UInt32(data[index]) | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2]) << 16 | UInt32(data[index + 3]) << 24
            scalars[i] = Float(bitPattern: bits)
            index += 4
        }
        #endif
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// CRC-32 (IEEE 802.3, as zlib and PNG): reflected polynomial 0xEDB88320,
/// computed eight bytes at a time ("slicing-by-8"), about 4× the byte-wise loop.
enum CRC32 {
    /// Eight 256-entry tables, one after another: table k advances a byte through k more zero bytes.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var c = UInt32(index)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            tables[index] = c
        }
        for k in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(k - 1) * 256 + index]
                tables[k * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        let t = tables
        var crc: UInt32 = 0xFFFF_FFFF
        var i = bytes.startIndex
        while i + 8 <= bytes.endIndex {
            let low = crc ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            let high = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
            crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
            i += 8
        }
        while i < bytes.endIndex {
            crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
            i += 1
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The plain byte-at-a-time definition, kept as the reference for tests.
    static func checksumBytewise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = tables[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
