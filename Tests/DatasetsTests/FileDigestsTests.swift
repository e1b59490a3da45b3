import Foundation
import XCTest
@testable import Datasets

/// File digests change with any byte, not with the way the bytes are read,
/// and a cached digest is used only while size and modification time match.
final class FileDigestsTests: XCTestCase {
    private func write(_ bytes: [UInt8], _ name: String, in folder: URL) throws -> URL {
        let file = folder.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }

    func testEveryByteAndTheLengthCount() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("digests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bytes = (0..<(FileDigests.chunkSize + 13)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var flipped = bytes
        flipped[FileDigests.chunkSize + 5] ^= 1
        let digests = try FileDigests.compute([try write(bytes, "a", in: folder), try write(flipped, "b", in: folder),
                                               try write(bytes + [0], "c", in: folder), try write(bytes, "d", in: folder)], threads: 2)
        XCTAssertEqual(Set(digests.map(\.digest)).count, 3, "one flipped bit and one more zero byte each change it")
        XCTAssertEqual(digests[0].digest, digests[3].digest)
        XCTAssertEqual(digests[0].size, bytes.count)
        XCTAssertEqual(digests[0].hex.count, 16)
        // Data fed in odd pieces digests the same as in whole words.
        var pieces = StreamHasher()
        pieces.add(Data(bytes[..<7]))
        pieces.add(Data(bytes[7...]))
        XCTAssertEqual(pieces.finish(), digests[0].digest)
    }

    func testACachedDigestIsUsedOnlyWhileSizeAndTimeMatch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("digests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try write([1, 2, 3], "image.jpg", in: folder)
        var cached = try FileDigests.digest(file)
        cached.digest = 42
        XCTAssertEqual(try FileDigests.digest(file, cache: [file.path: cached]).digest, 42, "unchanged: not read again")
        _ = try write([1, 2, 4], "image.jpg", in: folder)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: file.path)
        XCTAssertNotEqual(try FileDigests.digest(file, cache: [file.path: cached]).digest, 42, "rewritten: read again")
    }
}
