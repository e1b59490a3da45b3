@testable import Datasets
import Engine
import Foundation
import XCTest

final class NPYTests: XCTestCase {
    func testFloatRoundTrip() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("oof.npy")
        let tensor = Tensor(shape: [2, 3], scalars: [0, 1.5, -2, 3.25, 1e-8, 65504])
        try NPY.write(tensor, to: url)
        let array = try NPY.read(url)
        XCTAssertEqual(array.shape, [2, 3])
        XCTAssertEqual(array.floats, tensor.scalars)
        XCTAssertEqual(array.descr, "<f4")
        XCTAssertNil(array.integers)
        XCTAssertEqual(try Data(contentsOf: url).count, 128 + 6 * 4, "header padded to a multiple of 64 bytes")
    }

    func testIntegerRoundTripKeepsExactValues() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("folds.npy")
        try NPY.write(ints: [0, -1, 1 << 40, 4], shape: [4], to: url)
        let array = try NPY.read(url)
        XCTAssertEqual(array.shape, [4])
        XCTAssertEqual(array.integers, [0, -1, 1 << 40, 4])
        XCTAssertEqual(array.descr, "<i8")
    }

    func testHeaderBytes() {
        let header = NPY.header(descr: "<f4", shape: [3])
        XCTAssertEqual(Array(header[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        XCTAssertEqual(header.count % 64, 0)
        XCTAssertEqual(Int(header[8]) | Int(header[9]) << 8, header.count - 10)
        let text = String(decoding: header[10...], as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), text)
        XCTAssertTrue(text.hasSuffix(" \n"))
        XCTAssertTrue(String(decoding: NPY.header(descr: "<f4", shape: []), as: UTF8.self).contains("'shape': ()"))
    }

    func testReadsOtherDtypes() throws {
        let dir = try temporaryDirectory()
        let cases: [(String, [UInt8], [Float])] = [
            ("<f8", withUnsafeBytes(of: (2.5).bitPattern.littleEndian, Array.init), [2.5]),
            ("<i4", withUnsafeBytes(of: Int32(-7).littleEndian, Array.init), [-7]),
            ("|u1", [200], [200]),
            ("|b1", [1], [1]),
        ]
        for (descr, payload, expected) in cases {
            let url = dir.appendingPathComponent("x.npy")
            try Data(NPY.header(descr: descr, shape: [1]) + payload).write(to: url)
            XCTAssertEqual(try NPY.read(url).floats, expected, descr)
        }
    }

    func testClearErrors() throws {
        let dir = try temporaryDirectory()
        let badMagic = try writeText("PK not numpy at all", named: "bad.npy", in: dir)
        assertError(try NPY.read(badMagic), file: badMagic, contains: "not a .npy file")

        let fortran = dir.appendingPathComponent("fortran.npy")
        let header = NPY.header(descr: "<f4", shape: [1])
        let dictionary = String(decoding: header[10...], as: UTF8.self).replacingOccurrences(of: "False", with: "True ")
        try Data(header[0..<10] + Array(dictionary.utf8) + [0, 0, 0, 0]).write(to: fortran)
        assertError(try NPY.read(fortran), file: fortran, contains: "Fortran")

        let bigEndian = dir.appendingPathComponent("big.npy")
        try Data(NPY.header(descr: ">f4", shape: [1]) + [0, 0, 0, 0]).write(to: bigEndian)
        assertError(try NPY.read(bigEndian), file: bigEndian, contains: "big-endian")

        let truncated = dir.appendingPathComponent("short.npy")
        try Data(NPY.header(descr: "<f4", shape: [4]) + [0, 0]).write(to: truncated)
        assertError(try NPY.read(truncated), file: truncated, contains: "truncated")
    }

    func testNumpyReadsWhatWeWrite() throws {
        let dir = try temporaryDirectory()
        let floats = dir.appendingPathComponent("p.npy")
        let ints = dir.appendingPathComponent("i.npy")
        try NPY.write(Tensor(shape: [2, 2], scalars: [0.5, -1, 2, 3]), to: floats)
        try NPY.write(ints: [7, -8, 9], shape: [3], to: ints)
        let script = "import sys, numpy; [print(numpy.load(p).dtype, numpy.load(p).shape, numpy.load(p).ravel().tolist()) for p in sys.argv[1:]]"
        guard let output = try runPython(["-c", script, floats.path, ints.path]) else {
            throw XCTSkip("python3 with numpy is not available")
        }
        XCTAssertEqual(output, "float32 (2, 2) [0.5, -1.0, 2.0, 3.0]\nint64 (3,) [7, -8, 9]\n")
    }

    func testWeReadWhatNumpyWrites() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("np.npy")
        let script = "import sys, numpy; numpy.save(sys.argv[1], numpy.arange(6, dtype=numpy.float64).reshape(3, 2) / 4)"
        guard try runPython(["-c", script, url.path]) != nil else { throw XCTSkip("python3 with numpy is not available") }
        let array = try NPY.read(url)
        XCTAssertEqual(array.shape, [3, 2])
        XCTAssertEqual(array.floats, [0, 0.25, 0.5, 0.75, 1, 1.25])
    }

    /// Standard output of python3, or nil when python3 or numpy is missing.
    private func runPython(_ arguments: [String]) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = ["python3", "-c", "import numpy"]
            probe.standardError = Pipe()
            try? probe.run()
            probe.waitUntilExit()
            if probe.terminationStatus != 0 { return nil }
            XCTFail("python3 failed on: \(arguments)")
            return ""
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func assertError<T>(_ expression: @autoclosure () throws -> T, file: URL, contains text: String,
                                line: UInt = #line) {
        XCTAssertThrowsError(try expression(), line: line) { error in
            guard let error = error as? DatasetError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(error.file, file.path, line: line)
            XCTAssertTrue(error.message.contains(text), error.message, line: line)
        }
    }
}
