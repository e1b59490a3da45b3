import CJPEG
import Foundation

/// Pixels of a decoded image: row-major, channels interleaved (HWC), 0...255.
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var components: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, components: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * components,
                     "DecodedImage: \(width)x\(height)x\(components) needs \(width * height * components) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.components = components
        self.pixels = pixels
    }
}

/// JPEG decoding and encoding through libjpeg-turbo (the CJPEG bridge turns
/// libjpeg's longjmp errors into DatasetErrors that name the file).
public enum JPEG {
    /// Width, height and stored channel count, read from the header only.
    public static func info(data: Data, name: String = "<memory>") throws -> (width: Int, height: Int, components: Int) {
        var info = CJPEGInfo()
        let (status, message) = withMessageBuffer { message, capacity in
            data.withUnsafeBytes { bytes in
                cjpeg_read_info(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &info, message, capacity)
            }
        }
        if status != Int32(CJPEG_OK) { throw corrupt(name, message) }
        return (Int(info.width), Int(info.height), Int(info.components))
    }

    /// The default of `data.max_image_pixels`: 40 megapixels, about 120 MB as RGB.
    public static let defaultMaxPixels = 40_000_000

    /// Decodes to `components` channels (1 grey, 3 RGB) or, when nil, to the
    /// stored count (grey stays grey, colour becomes RGB). An image of more than
    /// `maxPixels` pixels is refused from its header, before anything is allocated.
    public static func decode(data: Data, components: Int? = nil, name: String = "<memory>",
                              maxPixels: Int = defaultMaxPixels) throws -> DecodedImage {
        let header = try info(data: data, name: name)
        try checkPixels(width: header.width, height: header.height, maxPixels: maxPixels, name: name)
        return try decode(data: data, header: header, components: components, name: name)
    }

    /// Decodes `data` whose header the caller has read (and checked against its limits).
    static func decode(data: Data, header: (width: Int, height: Int, components: Int), components: Int?,
                       name: String) throws -> DecodedImage {
        let channels = components ?? (header.components == 1 ? 1 : 3)
        precondition(channels == 1 || channels == 3, "JPEG.decode: components must be 1 or 3, got \(channels)")
        let capacity = header.width * header.height * channels
        var info = CJPEGInfo()
        var status: Int32 = 0
        var message = ""
        let pixels = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            (status, message) = withMessageBuffer { text, textCapacity in
                data.withUnsafeBytes { bytes in
                    cjpeg_decode(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, Int32(channels),
                                 buffer.baseAddress, capacity, &info, text, textCapacity)
                }
            }
            initialized = status == Int32(CJPEG_OK) ? capacity : 0
        }
        if status != Int32(CJPEG_OK) { throw corrupt(name, message) }
        return DecodedImage(width: header.width, height: header.height, components: channels, pixels: pixels)
    }

    public static func decode(file: URL, components: Int? = nil, maxPixels: Int = defaultMaxPixels) throws -> DecodedImage {
        try decode(data: readFile(file, maxPixels: maxPixels), components: components, name: file.path, maxPixels: maxPixels)
    }

    /// Refuses a header declaring more than `maxPixels` pixels.
    static func checkPixels(width: Int, height: Int, maxPixels: Int, name: String) throws {
        let pixels = width * height
        guard pixels > maxPixels else { return }
        let megapixels = String(format: "%.1f", Double(pixels) / 1e6)
        throw DatasetError(file: name,
                           message: "the image is \(width)×\(height) (\(megapixels) megapixels), over the limit of \(maxPixels) pixels",
                           fix: "shrink the image, or raise `data.max_image_pixels` in the manifest if it is genuine")
    }

    /// Encodes grey (1) or RGB (3) pixels; quality 1...100.
    public static func encode(_ image: DecodedImage, quality: Int = 95) throws -> Data {
        var capacity = image.pixels.count + 4096
        while true {
            var written = 0
            var status: Int32 = 0
            var message = ""
            var output = [UInt8](repeating: 0, count: capacity)
            output.withUnsafeMutableBufferPointer { outputBuffer in
                image.pixels.withUnsafeBufferPointer { input in
                    (status, message) = withMessageBuffer { text, textCapacity in
                        cjpeg_encode(input.baseAddress, Int32(image.width), Int32(image.height),
                                     Int32(image.components), Int32(quality), outputBuffer.baseAddress,
                                     capacity, &written, text, textCapacity)
                    }
                }
            }
            if status == Int32(CJPEG_BUFFER_TOO_SMALL) {
                capacity = written
                continue
            }
            if status != Int32(CJPEG_OK) {
                throw DatasetError(file: "<memory>", message: "cannot encode the image as JPEG: \(message)",
                                   fix: "pass 1 or 3 components and a positive width and height")
            }
            return Data(output[0..<written])
        }
    }

    /// Encodes and writes atomically.
    public static func write(_ image: DecodedImage, to url: URL, quality: Int = 95) throws {
        let data = try encode(image, quality: quality)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw DatasetError(file: url.path, message: "cannot write the JPEG (\(error.localizedDescription))",
                               fix: "check that the folder exists and is writable")
        }
    }

    /// An image file, refused unread when it is larger than any JPEG of
    /// `maxPixels` could be (3 bytes a pixel, uncompressed, plus 1 MiB of markers).
    static func readFile(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> Data {
        let limit = maxPixels.multipliedReportingOverflow(by: 3)
        return try DataFile.read(url, what: "image", fix: "check that the file exists and is readable",
                                 maxBytes: limit.overflow ? Int.max : limit.partialValue + (1 << 20),
                                 limitKey: "data.max_image_pixels (the limit is 3 bytes a pixel plus 1 MiB)")
    }

    private static func corrupt(_ name: String, _ message: String) -> DatasetError {
        DatasetError(file: name, message: "not a readable JPEG: \(message)",
                     fix: "the file is corrupt or truncated; re-export it as JPEG or remove its row from the CSV")
    }

    /// Runs `body` with a C buffer for the bridge's error message.
    private static func withMessageBuffer(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> (Int32, String) {
        var buffer = [CChar](repeating: 0, count: 256)
        let status = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return (status, String(decoding: bytes, as: UTF8.self))
    }
}
