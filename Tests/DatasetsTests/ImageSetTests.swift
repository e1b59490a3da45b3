import Datasets
import Foundation
import XCTest

final class ImageSetTests: XCTestCase {
    private let greySpec = ImageSpec(height: 2, width: 2, channels: 1, mean: [0.5], std: [0.5])

    func testDecodesResizesAndNormalises() throws {
        let dir = try temporaryDirectory()
        try writeConstantJPEG([0], width: 8, height: 8, named: "black.jpg", in: dir)
        try writeConstantJPEG([255], width: 8, height: 8, named: "white.jpg", in: dir)
        try writeConstantJPEG([51], width: 4, height: 6, named: "dark.jpg", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        let set = try ImageSet.decode(ids: ["white", "black", "dark"], folder: folder, spec: greySpec, csv: nil, threads: 2)
        XCTAssertEqual(set.count, 3)
        XCTAssertEqual(set.spec, greySpec)
        assertAll(set.image(0), equal: 1)
        assertAll(set.image(1), equal: -1)
        assertAll(set.image(2), equal: (51.0 / 255 - 0.5) / 0.5)
    }

    func testRGBChannelsAreNormalisedSeparately() throws {
        let dir = try temporaryDirectory()
        try writeConstantJPEG([255, 255, 255], width: 8, height: 8, named: "a.jpg", in: dir)
        let spec = ImageSpec(height: 3, width: 3, channels: 3, mean: [0.5, 0, 1], std: [0.5, 2, 1])
        let set = try ImageSet.decode(ids: ["a"], folder: ImageFolder(directory: dir, fileExtension: "jpg"),
                                      spec: spec, csv: nil, threads: 1)
        let image = Array(set.image(0))
        assertAll(image[0..<9], equal: 1)
        assertAll(image[9..<18], equal: 0.5)
        assertAll(image[18..<27], equal: 0)
    }

    func testOneAndTwoThreadsGiveTheSameImages() throws {
        let dir = try temporaryDirectory()
        for i in 0..<5 { try writeConstantJPEG([UInt8(i * 50)], width: 4, height: 4, named: "i\(i).jpg", in: dir) }
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        let ids = (0..<5).map { "i\($0)" }
        let one = try ImageSet.decode(ids: ids, folder: folder, spec: greySpec, csv: nil, threads: 1)
        let two = try ImageSet.decode(ids: ids, folder: folder, spec: greySpec, csv: nil, threads: 2)
        XCTAssertEqual((0..<5).map { Array(one.image($0)) }, (0..<5).map { Array(two.image($0)) })
    }

    func testChannelMismatchNamesFileFoundExpectedAndFix() throws {
        let dir = try temporaryDirectory()
        let url = try writeConstantJPEG([10, 20, 30], width: 8, height: 8, named: "colour.jpg", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        XCTAssertThrowsError(try ImageSet.decode(ids: ["colour"], folder: folder, spec: greySpec, csv: nil, threads: 1)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, url.path)
            XCTAssertTrue(error.message.contains("has 3 channels but the manifest expects 1"), error.message)
            XCTAssertTrue(error.fix.contains("channels to 3"), error.fix)
        }
    }

    func testMissingImageNamesIDPathAndCSVLine() throws {
        let dir = try temporaryDirectory()
        try writeConstantJPEG([0], width: 4, height: 4, named: "a.jpg", in: dir)
        let csv = try writeText("id,label\na,0\nghost,1\n", named: "train.csv", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        XCTAssertThrowsError(try ImageSet.decode(ids: ["a", "ghost"], folder: folder, spec: greySpec, csv: csv, threads: 1)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, dir.appendingPathComponent("ghost.jpg").path)
            XCTAssertTrue(error.message.contains("'ghost'"), error.message)
            XCTAssertTrue(error.message.contains("train.csv line 3"), error.message)
        }
    }

    func testAllProblemsAreReportedTogether() throws {
        let dir = try temporaryDirectory()
        try writeConstantJPEG([0], width: 4, height: 4, named: "good.jpg", in: dir)
        let truncated = try JPEG.encode(DecodedImage(width: 32, height: 32, components: 1,
                                                     pixels: (0..<1024).map { UInt8($0 % 251) }))
        try truncated.prefix(truncated.count / 2).write(to: dir.appendingPathComponent("cut.jpg"))
        try writeText("garbage", named: "bad.jpg", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        XCTAssertThrowsError(try ImageSet.decode(ids: ["good", "cut", "bad", "gone"], folder: folder, spec: greySpec,
                                                 csv: nil, threads: 2)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, dir.path)
            XCTAssertTrue(error.message.hasPrefix("3 of 4 images cannot be used"), error.message)
            for name in ["cut.jpg", "bad.jpg", "gone.jpg"] { XCTAssertTrue(error.message.contains(name), name) }
            XCTAssertFalse(error.message.contains("good.jpg"))
        }
    }

    func testCopyIntoBuffer() {
        let spec = ImageSpec(height: 1, width: 2, channels: 1)
        let set = ImageSet(spec: spec, scalars: [1, 2, 3, 4])
        var buffer: [Float] = [0, 0, 0]
        set.copy(1, into: &buffer, at: 1)
        XCTAssertEqual(buffer, [0, 3, 4])
    }

    private func assertAll<C: Collection>(_ values: C, equal expected: Double, line: UInt = #line) where C.Element == Float {
        XCTAssertFalse(values.isEmpty, line: line)
        for value in values { XCTAssertEqual(Double(value), expected, accuracy: 1e-5, line: line) }
    }
}
