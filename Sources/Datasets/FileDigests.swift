import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file's contents as a 64-bit digest, with the size and modification
/// time (nanoseconds) it had when its bytes were read.
public struct FileDigest: Sendable, Hashable {
    public var path: String
    public var size: Int
    public var modified: Int64
    public var digest: UInt64

    public init(path: String, size: Int, modified: Int64, digest: UInt64) {
        (self.path, self.size, self.modified, self.digest) = (path, size, modified, digest)
    }

    /// 16 hex digits.
    public var hex: String {
        let digits = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Streaming digests of whole files (a 64-bit multiply-rotate hash over
/// little-endian words, xxHash64's round and avalanche): it tells changed
/// bytes from unchanged ones, it is no defence against a forger. A file
/// whose path, size and modification time match `cache` is not read again.
public enum FileDigests {
    static let chunkSize = 1 << 20

    public static func compute(_ files: [URL], cache: [String: FileDigest] = [:], threads: Int) throws -> [FileDigest] {
        let workers = max(1, min(threads, files.count))
        let chunk = (files.count + workers - 1) / workers
        let results = Slots<Result<[FileDigest], DatasetError>>(count: workers, initial: .success([]))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (worker * chunk)..<min(files.count, (worker + 1) * chunk)
            results.store(worker, Result { () throws(DatasetError) in
                var digests: [FileDigest] = []
                for file in files[range] { digests.append(try digest(file, cache: cache)) }
                return digests
            })
        }
        return try results.all().flatMap { try $0.get() }
    }

    /// The file's digest, from `cache` when its size and modification time are unchanged.
    public static func digest(_ file: URL, cache: [String: FileDigest] = [:]) throws(DatasetError) -> FileDigest {
        let (size, modified) = try status(file)
        if let cached = cache[file.path], cached.size == size, cached.modified == modified { return cached }
        return FileDigest(path: file.path, size: size, modified: modified, digest: try hash(file))
    }

    private static func status(_ file: URL) throws(DatasetError) -> (size: Int, modified: Int64) {
        var info = stat()
        guard stat(file.path, &info) == 0 else {
            throw DatasetError(file: file.path, message: "cannot read the file's size and time to fingerprint the data",
                               fix: "check that the file exists and is readable")
        }
        return (Int(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    private static func hash(_ file: URL) throws(DatasetError) -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw DatasetError(file: file.path, message: "cannot open the file to fingerprint the data", fix: "check that it is readable")
        }
        defer { try? handle.close() }
        var hasher = StreamHasher()
        do {
            while let data = try handle.read(upToCount: chunkSize), !data.isEmpty { hasher.add(data) }
        } catch {
            throw DatasetError(file: file.path, message: "cannot read the file to fingerprint the data (\(error.localizedDescription))",
                               fix: "check that it is readable")
        }
        return hasher.finish()
    }
}

/// xxHash64's single-lane round over 8-byte words, the tail bytes and the length folded in.
struct StreamHasher {
    static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87, prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private var state: UInt64 = 0x27D4_EB2F_1656_67C5
    private var length: UInt64 = 0
    private var pending: [UInt8] = []

    mutating func add(_ chunk: Data) {
        length &+= UInt64(chunk.count)
        // Chunks are whole words but the last; a leftover tail is rare and short.
        let data = pending.isEmpty ? chunk : Data(pending) + chunk
        let words = data.count / 8
        data.withUnsafeBytes { raw in
            for word in 0..<words { round(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self))) }
        }
        pending = [UInt8](data.suffix(data.count - words * 8))
    }

    private mutating func round(_ word: UInt64) {
        let mixed = state &+ word &* Self.prime2
        state = (mixed << 31 | mixed >> 33) &* Self.prime1
    }

    mutating func finish() -> UInt64 {
        for byte in pending { round(UInt64(byte) &* Self.prime3) }
        var h = state ^ length
        h = (h ^ (h >> 33)) &* Self.prime2
        h = (h ^ (h >> 29)) &* Self.prime3
        return h ^ (h >> 32)
    }
}

/// Per-worker results of a parallel loop, guarded by a lock.
final class Slots<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T]
    init(count: Int, initial: T) { values = [T](repeating: initial, count: count) }
    func store(_ index: Int, _ value: T) { lock.withLock { values[index] = value } }
    func all() -> [T] { lock.withLock { values } }
}
