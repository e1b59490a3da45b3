import Engine
import Foundation

/// An array read from a .npy file, converted to Float (and kept as Int too
/// when the file holds integers or booleans, so large ids stay exact).
public struct NPYArray: Sendable, Equatable {
    public var shape: [Int]
    public var floats: [Float]
    public var integers: [Int]?
    /// The numpy dtype string, e.g. "<f4".
    public var descr: String
}

/// NumPy's .npy format (version 1.0 written; 1.0–3.0 read), little-endian, C order.
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Writes float32 ('<f4') data with the tensor's shape.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        var payload = [UInt8]()
        payload.reserveCapacity(tensor.count * 4)
        for value in tensor.scalars { appendLittleEndian(value.bitPattern, to: &payload) }
        try writeFile(header(descr: "<f4", shape: tensor.shape) + payload, to: url)
    }

    /// Writes int64 ('<i8') data.
    public static func write(ints: [Int], shape: [Int], to url: URL) throws {
        precondition(shape.reduce(1, *) == ints.count, "NPY.write: shape \(shape) does not hold \(ints.count) values")
        var payload = [UInt8]()
        payload.reserveCapacity(ints.count * 8)
        for value in ints { appendLittleEndian(UInt64(bitPattern: Int64(value)), to: &payload) }
        try writeFile(header(descr: "<i8", shape: shape) + payload, to: url)
    }

    public static func read(_ url: URL) throws -> NPYArray {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw DatasetError(file: url.path, message: "cannot read the .npy file (\(error.localizedDescription))",
                               fix: "check the path")
        }
        return try NPYReader(bytes: bytes, file: url.path).read()
    }

    /// Magic, version 1.0, header length, then the header dict padded with
    /// spaces and a newline so the data starts on a 64-byte boundary.
    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dimensions = shape.map(String.init).joined(separator: ", ")
        let tuple = shape.count == 1 ? "(\(dimensions),)" : "(\(dimensions))"
        var dictionary = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(tuple), }"
        let unpadded = magic.count + 4 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var result = magic + [1, 0]
        appendLittleEndian(UInt16(dictionary.utf8.count), to: &result)
        return result + Array(dictionary.utf8)
    }

    /// Temp file then rename, so a crash never leaves half a file under the real name.
    private static func writeFile(_ bytes: [UInt8], to url: URL) throws {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw DatasetError(file: url.path, message: "cannot write the .npy file (\(error.localizedDescription))",
                               fix: "check that the folder exists and is writable")
        }
    }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// Parses a .npy file's bytes; every failure names the file and the fix.
private struct NPYReader {
    let bytes: [UInt8]
    let file: String

    func read() throws -> NPYArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == NPY.magic else {
            throw failure("not a .npy file (it does not start with \\x93NUMPY)", fix: "save the array with numpy.save")
        }
        let (headerLength, headerStart): (Int, Int)
        switch bytes[6] {
        case 1: (headerLength, headerStart) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw truncated() }
            (headerLength, headerStart) = ((8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }, 12)
        default:
            throw failure("unsupported .npy version \(bytes[6]).\(bytes[7])", fix: "save the array with numpy.save")
        }
        guard bytes.count >= headerStart + headerLength else { throw truncated() }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let descr = try quotedValue(of: "descr", in: header)
        if try flag("fortran_order", in: header) {
            throw failure("the array is in Fortran (column-major) order",
                          fix: "save numpy.ascontiguousarray(array) instead")
        }
        let shape = try shapeValue(in: header)
        return try decode(descr: descr, shape: shape, dataStart: headerStart + headerLength)
    }

    private func decode(descr: String, shape: [Int], dataStart: Int) throws -> NPYArray {
        if descr.hasPrefix(">") {
            throw failure("the array is big-endian ('\(descr)')", fix: "save array.astype('<\(descr.dropFirst())') instead")
        }
        let kind = String(descr.drop { "<|=".contains($0) })
        let sizes = ["f4": 4, "f8": 8, "i4": 4, "i8": 8, "u1": 1, "b1": 1]
        guard let size = sizes[kind] else {
            throw failure("unsupported dtype '\(descr)'", fix: "save the array as float32, float64, int32, int64, uint8 or bool")
        }
        let count = shape.reduce(1, *)
        guard bytes.count - dataStart >= count * size else { throw truncated() }
        var floats = [Float](repeating: 0, count: count)
        var integers: [Int]? = kind.hasPrefix("f") ? nil : [Int](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let offset = dataStart + i * size
                switch kind {
                case "f4": floats[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                case "f8": floats[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
                case "i4": integers![i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                case "i8": integers![i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                default: integers![i] = Int(raw[offset])
                }
                if let integers { floats[i] = Float(integers[i]) }
            }
        }
        return NPYArray(shape: shape, floats: floats, integers: integers, descr: descr)
    }

    private func quotedValue(of key: String, in header: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") else { throw missing(key) }
        let rest = header[keyRange.upperBound...].drop { $0 == ":" || $0 == " " }
        guard let quote = rest.first, quote == "'" || quote == "\"" else { throw missing(key) }
        return String(rest.dropFirst().prefix { $0 != quote })
    }

    private func flag(_ key: String, in header: String) throws -> Bool {
        guard let keyRange = header.range(of: "'\(key)'") else { throw missing(key) }
        let rest = header[keyRange.upperBound...].drop { $0 == ":" || $0 == " " }
        if rest.hasPrefix("True") { return true }
        if rest.hasPrefix("False") { return false }
        throw missing(key)
    }

    private func shapeValue(in header: String) throws -> [Int] {
        guard let keyRange = header.range(of: "'shape'"),
              let open = header[keyRange.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else { throw missing("shape") }
        let parts = header[header.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = parts.compactMap { Int($0) }
        guard shape.count == parts.count, shape.allSatisfy({ $0 >= 0 }) else { throw missing("shape") }
        return shape
    }

    private func missing(_ key: String) -> DatasetError {
        failure("the .npy header has no readable '\(key)'", fix: "save the array with numpy.save")
    }

    private func truncated() -> DatasetError {
        failure("the .npy file is truncated", fix: "write the file again")
    }

    private func failure(_ message: String, fix: String) -> DatasetError {
        DatasetError(file: file, message: message, fix: fix)
    }
}
