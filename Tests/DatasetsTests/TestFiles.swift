import Datasets
import Foundation
import XCTest

/// Temporary folders and small fixture files made at test time.
extension XCTestCase {
    /// A fresh folder removed when the test ends.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("foldwise-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Writes `text` to `name` inside `directory` and returns its URL.
    @discardableResult
    func writeText(_ text: String, named name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// A width×height JPEG of one constant value per channel (constant blocks decode exactly).
    @discardableResult
    func writeConstantJPEG(_ values: [UInt8], width: Int, height: Int, named name: String, in directory: URL) throws -> URL {
        let pixels = (0..<(width * height)).flatMap { _ in values }
        let url = directory.appendingPathComponent(name)
        try JPEG.write(DecodedImage(width: width, height: height, components: values.count, pixels: pixels), to: url, quality: 100)
        return url
    }
}
