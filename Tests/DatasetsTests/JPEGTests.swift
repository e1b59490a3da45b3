import Datasets
import Foundation
import XCTest

final class JPEGTests: XCTestCase {
    private func gradient(width: Int, height: Int, components: Int) -> DecodedImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<components { pixels.append(UInt8(min(255, x * 6 + y * 3 + c * 30))) }
            }
        }
        return DecodedImage(width: width, height: height, components: components, pixels: pixels)
    }

    private func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func testGreyRoundTripThroughMemory() throws {
        let image = gradient(width: 16, height: 8, components: 1)
        let data = try JPEG.encode(image, quality: 100)
        let info = try JPEG.info(data: data)
        XCTAssertEqual(info.width, 16)
        XCTAssertEqual(info.height, 8)
        XCTAssertEqual(info.components, 1)
        let decoded = try JPEG.decode(data: data)
        XCTAssertEqual(decoded.components, 1)
        XCTAssertEqual(decoded.pixels.count, 128)
        XCTAssertLessThanOrEqual(maxDifference(decoded.pixels, image.pixels), 2)
    }

    func testRGBRoundTripThroughAFile() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("rgb.jpg")
        let image = gradient(width: 16, height: 16, components: 3)
        try JPEG.write(image, to: url, quality: 100)
        let decoded = try JPEG.decode(file: url)
        XCTAssertEqual([decoded.width, decoded.height, decoded.components], [16, 16, 3])
        // Chroma is stored at half resolution, so colour edges blur a little.
        XCTAssertLessThanOrEqual(maxDifference(decoded.pixels, image.pixels), 12)
    }

    func testConstantImagesDecodeExactlyAndConvertBetweenGreyAndRGB() throws {
        let dir = try temporaryDirectory()
        let url = try writeConstantJPEG([200, 200, 200], width: 8, height: 8, named: "grey-looking.jpg", in: dir)
        let rgb = try JPEG.decode(file: url)
        XCTAssertEqual(rgb.components, 3)
        XCTAssertEqual(Set(rgb.pixels), [200])
        let grey = try JPEG.decode(file: url, components: 1)
        XCTAssertEqual(grey.components, 1)
        XCTAssertEqual(Set(grey.pixels), [200])
    }

    func testTruncatedFileIsAnErrorNamingTheFile() throws {
        let dir = try temporaryDirectory()
        let noise = DecodedImage(width: 64, height: 64, components: 1, pixels: (0..<4096).map { UInt8($0 * 37 % 251) })
        let data = [UInt8](try JPEG.encode(noise, quality: 90))
        let cut = data.count * 3 / 4
        let startOfScan = (0..<(data.count - 1)).first { data[$0] == 0xFF && data[$0 + 1] == 0xDA }!
        XCTAssertLessThan(startOfScan, cut, "the cut must fall inside the compressed pixels, where libjpeg only warns")
        let url = dir.appendingPathComponent("truncated.jpg")
        try Data(data.prefix(cut)).write(to: url)
        XCTAssertThrowsError(try JPEG.decode(file: url)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, url.path)
            XCTAssertTrue(error.message.contains("not a readable JPEG"), error.message)
            XCTAssertTrue(error.fix.contains("corrupt or truncated"))
        }
    }

    func testGarbageIsAnErrorNamingTheFile() throws {
        let dir = try temporaryDirectory()
        let url = try writeText("this is not an image", named: "garbage.jpg", in: dir)
        XCTAssertThrowsError(try JPEG.decode(file: url)) { error in
            XCTAssertEqual((error as! DatasetError).file, url.path)
        }
        XCTAssertThrowsError(try JPEG.decode(data: Data()))
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try JPEG.decode(file: URL(fileURLWithPath: "/nonexistent/a.jpg"))) { error in
            XCTAssertEqual((error as! DatasetError).file, "/nonexistent/a.jpg")
        }
    }
}
