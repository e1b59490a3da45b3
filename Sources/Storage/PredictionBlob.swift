import Foundation

/// The stored form of a prediction array: Float32 little-endian bytes and
/// their CRC-32 (IEEE 802.3, as in zlib and PNG), so a damaged blob is
/// detected on read instead of silently entering the OOF matrix.
enum PredictionBlob {
    /// Encoding tag stored beside every blob, so a later format can coexist.
    static let encoding = "float32-le"

    static func encode(_ values: [Float]) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return Data(bytes)
    }

    /// Returns nil when the byte count is not a whole number of Float32 values.
    static func decode(_ data: Data) -> [Float]? {
        guard data.count % 4 == 0 else { return nil }
        let bytes = [UInt8](data)
        var values = [Float]()
        values.reserveCapacity(bytes.count / 4)
        var index = 0
        while index < bytes.count {
            let bits = UInt32(bytes[index])
                | UInt32(bytes[index + 1]) << 8
                | UInt32(bytes[index + 2]) << 16
                | UInt32(bytes[index + 3]) << 24
            values.append(Float(bitPattern: bits))
            index += 4
        }
        return values
    }

    /// Row indices as int64 little-endian bytes (exact at any data set size).
    static func encode(rows: [Int]) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(rows.count * 8)
        for row in rows {
            let bits = UInt64(bitPattern: Int64(row))
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        }
        return Data(bytes)
    }

    static func decodeRows(_ data: Data) -> [Int]? {
        guard data.count % 8 == 0 else { return nil }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: 8).map { start in
            var bits: UInt64 = 0
            for offset in 0..<8 { bits |= UInt64(bytes[start + offset]) << UInt64(offset * 8) }
            return Int(Int64(bitPattern: bits))
        }
    }

    static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { entry in
        var value = UInt32(entry)
        for _ in 0..<8 {
            value = (value & 1) != 0 ? (0xEDB8_8320 ^ (value >> 1)) : (value >> 1)
        }
        return value
    }

    static func shapeJSON(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ",") + "]"
    }

    static func shape(fromJSON text: String) -> [Int]? {
        try? JSONDecoder().decode([Int].self, from: Data(text.utf8))
    }
}
