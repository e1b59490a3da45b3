import Foundation
import XCTest
@testable import Engine

final class CheckpointTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// weight [2, 3], bias [3], a batch-norm style buffer [3] and a scalar buffer.
    private func makeStore(offset: Float = 0, weightShape: [Int] = [2, 3], extra: String? = nil) -> ParameterStore {
        var parameters = [
            Parameter(name: "head.weight", value: Tensor(shape: weightShape, scalars: (0..<6).map { Float($0) * 0.5 - 1 + offset })),
            Parameter(name: "head.bias", value: Tensor(shape: [3], scalars: [0.25, -0.125, 3e-8].map { $0 + offset }), decays: false),
            Parameter(name: "bn.running_mean", value: Tensor(shape: [3], scalars: [1, 2, 3].map { $0 + offset }), isBuffer: true),
            Parameter(name: "bn.batches", value: Tensor(shape: [], scalars: [7 + offset]), isBuffer: true),
        ]
        if let extra { parameters.append(Parameter(name: extra, value: Tensor(zeros: [1]))) }
        return ParameterStore(parameters)
    }

    private func saved(_ store: ParameterStore, _ name: String = "model.fwckpt") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Checkpoint.save(store, metadata: ["arch": "resnet_ref", "manifest": "abc123", "empty": ""], to: url)
        return url
    }

    /// Loads into a fresh store and returns the error, checking nothing was changed.
    private func loadError(_ url: URL, into store: ParameterStore? = nil,
                           file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
        let target = store ?? makeStore(offset: 100)
        let before = target.all.map(\.value)
        do {
            try Checkpoint.load(from: url, into: target)
            XCTFail("load succeeded", file: file, line: line)
            return nil
        } catch let error as CheckpointError {
            XCTAssertEqual(target.all.map(\.value), before, "a failed load changed parameters", file: file, line: line)
            XCTAssertTrue(error.description.contains(url.path), error.description, file: file, line: line)
            XCTAssertTrue(error.description.contains("Fix:"), error.description, file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    private func rewrite(_ url: URL, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: url))
        change(&bytes)
        try Data(bytes).write(to: url)
    }

    func testRoundTripRestoresParametersBuffersAndMetadata() throws {
        let original = makeStore()
        let url = try saved(original)
        let restored = makeStore(offset: 100)
        let metadata = try Checkpoint.load(from: url, into: restored)
        XCTAssertEqual(metadata, ["arch": "resnet_ref", "manifest": "abc123", "empty": ""])
        XCTAssertEqual(restored.all.map(\.value), original.all.map(\.value))
        XCTAssertEqual(restored["bn.batches"]?.value.shape, [])
    }

    func testSaveReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws {
        _ = try saved(makeStore(offset: 5))
        let url = try saved(makeStore())
        let restored = makeStore(offset: 100)
        try Checkpoint.load(from: url, into: restored)
        XCTAssertEqual(restored.all.map(\.value), makeStore().all.map(\.value))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.fwckpt"])
    }

    func testHeaderBytes() throws {
        let url = try saved(makeStore())
        let bytes = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(Array(bytes[0..<8]), Array("FWCKPT01".utf8))
        XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0])
        XCTAssertEqual(ByteReader.littleEndian(bytes[12..<20]), UInt64(bytes.count))
        // The first metadata key in sorted order is "arch": count 3, then length 4, "arch".
        XCTAssertEqual(Array(bytes[20..<32]), [3, 0, 0, 0, 4, 0, 0, 0] + Array("arch".utf8))
    }

    func testCRC32KnownVector() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)[...]), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([][...]), 0)
        XCTAssertEqual(CRC32.checksumBytewise(Array("123456789".utf8)[...]), 0xCBF4_3926)
        // The eight-byte path against the byte-wise definition, at every alignment and tail length.
        var random = SeededRandom(seed: 3)
        let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for start in 0..<9 {
            for end in [start, start + 7, start + 8, start + 9, 991, 1000] {
                XCTAssertEqual(CRC32.checksum(bytes[start..<end]), CRC32.checksumBytewise(bytes[start..<end]))
            }
        }
    }

    func testFlippedByteIsAChecksumMismatch() throws {
        let url = try saved(makeStore())
        try rewrite(url) { $0[$0.count - 10] ^= 0x40 }
        guard case .checksumMismatch(let path, let stored, let computed) = loadError(url) else {
            return XCTFail("expected a checksum mismatch")
        }
        XCTAssertEqual(path, url.path)
        XCTAssertNotEqual(stored, computed)
    }

    func testTruncatedFile() throws {
        let url = try saved(makeStore())
        let fullSize = try Data(contentsOf: url).count
        try rewrite(url) { $0.removeLast(13) }
        XCTAssertEqual(loadError(url), .truncated(path: url.path, expectedBytes: fullSize, actualBytes: fullSize - 13))
        try rewrite(url) { $0.removeLast($0.count - 5) }
        XCTAssertEqual(loadError(url), .truncated(path: url.path, expectedBytes: Checkpoint.headerLength, actualBytes: 5))
        try Data().write(to: url)
        XCTAssertEqual(loadError(url), .truncated(path: url.path, expectedBytes: Checkpoint.headerLength, actualBytes: 0))
    }

    func testWrongMagicIsNotACheckpoint() throws {
        let url = folder.appendingPathComponent("train.csv")
        try Data("id,label\n1,cat\n2,dog\n".utf8).write(to: url)
        XCTAssertEqual(loadError(url), .notACheckpoint(path: url.path))
        let saved = try saved(makeStore())
        try rewrite(saved) { $0[0] = UInt8(ascii: "X") }
        XCTAssertEqual(loadError(saved), .notACheckpoint(path: saved.path))
    }

    func testNewerFormatVersionIsUnsupported() throws {
        let url = try saved(makeStore())
        try rewrite(url) { $0[8] = 2 }
        XCTAssertEqual(loadError(url), .unsupportedVersion(path: url.path, version: 2))
    }

    func testShapeMismatchNamesBothShapes() throws {
        let url = try saved(makeStore())
        let error = loadError(url, into: makeStore(offset: 100, weightShape: [3, 2]))
        XCTAssertEqual(error, .shapeMismatch(path: url.path, name: "head.weight", model: [3, 2], checkpoint: [2, 3]))
        XCTAssertTrue(error?.description.contains("[2, 3]") ?? false)
        XCTAssertTrue(error?.description.contains("[3, 2]") ?? false)
    }

    func testMissingAndUnexpectedParameters() throws {
        let url = try saved(makeStore())
        XCTAssertEqual(loadError(url, into: makeStore(offset: 100, extra: "head.scale")),
                       .missingParameter(path: url.path, name: "head.scale"))
        let withExtra = try saved(makeStore(extra: "neck.gem.p"), "extra.fwckpt")
        XCTAssertEqual(loadError(withExtra), .unexpectedParameter(path: withExtra.path, name: "neck.gem.p"))
    }

    func testMissingFileIsUnreadable() {
        let url = folder.appendingPathComponent("absent.fwckpt")
        guard case .unreadable(let path, _) = loadError(url) else { return XCTFail("expected unreadable") }
        XCTAssertEqual(path, url.path)
    }

    func testSavingIntoAMissingFolderFails() {
        let url = folder.appendingPathComponent("no-such-folder/model.fwckpt")
        XCTAssertThrowsError(try Checkpoint.save(makeStore(), metadata: [:], to: url)) { error in
            guard case .unwritable(let path, _)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
        }
    }
}
