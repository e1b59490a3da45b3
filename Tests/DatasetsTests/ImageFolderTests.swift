import Datasets
import Foundation
import XCTest

final class ImageFolderTests: XCTestCase {
    func testDetectsTheJPEGExtensionOnDisk() throws {
        let dir = try temporaryDirectory()
        for name in ["a.JPG", "b.JPG", "c.jpeg", "notes.txt"] { try writeText("x", named: name, in: dir) }
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        XCTAssertEqual(folder.fileExtension, "JPG")
        XCTAssertEqual(try folder.url(for: "a").lastPathComponent, "a.JPG")
    }

    func testExplicitExtensionWithOrWithoutDot() throws {
        let dir = try temporaryDirectory()
        try writeText("x", named: "a.jpg", in: dir)
        XCTAssertEqual(try ImageFolder(directory: dir, fileExtension: ".jpg").fileExtension, "jpg")
        XCTAssertEqual(try ImageFolder(directory: dir, fileExtension: "jpg").url(for: "a").lastPathComponent, "a.jpg")
    }

    func testIDThatAlreadyHasTheExtension() throws {
        let dir = try temporaryDirectory()
        try writeText("x", named: "a.jpg", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        XCTAssertEqual(try folder.url(for: "a.jpg").lastPathComponent, "a.jpg")
    }

    func testMissingImageNamesIDPathAndCSVLine() throws {
        let dir = try temporaryDirectory()
        try writeText("x", named: "a.jpg", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        let csv = URL(fileURLWithPath: "/data/train.csv")
        XCTAssertThrowsError(try folder.url(for: "zz", csv: csv, line: 12)) { error in
            let error = error as! DatasetError
            XCTAssertEqual(error.file, dir.appendingPathComponent("zz.jpg").path)
            XCTAssertTrue(error.message.contains("no image for id 'zz' (train.csv line 12)"), error.message)
        }
    }

    func testMissingFolderAndFolderWithoutJPEGs() throws {
        let dir = try temporaryDirectory()
        let missing = dir.appendingPathComponent("nope")
        XCTAssertThrowsError(try ImageFolder(directory: missing, fileExtension: nil)) { error in
            XCTAssertEqual((error as! DatasetError).file, missing.path)
        }
        try writeText("x", named: "a.png", in: dir)
        XCTAssertThrowsError(try ImageFolder(directory: dir, fileExtension: nil)) { error in
            XCTAssertTrue((error as! DatasetError).message.contains("no .jpg or .jpeg"))
        }
    }

    func testAnIDWithAPathIsRefusedAsSuchAndControlCharactersAreEscaped() throws {
        let dir = try temporaryDirectory()
        try writeText("x", named: "a.jpg", in: dir)
        let folder = try ImageFolder(directory: dir, fileExtension: nil)
        XCTAssertThrowsError(try folder.url(for: "../test/img_0006")) { error in
            XCTAssertTrue("\(error)".contains("holds a path separator") && "\(error)".contains("without folders"), "\(error)")
        }
        XCTAssertThrowsError(try folder.url(for: "img\u{0}_5\n")) { error in
            XCTAssertTrue("\(error)".contains("no image for id 'img\\0_5\\n'"), "\(error)")
        }
    }
}
