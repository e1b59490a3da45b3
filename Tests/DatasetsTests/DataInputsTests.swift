import Foundation
import XCTest
@testable import Datasets

/// Bad data files end in a `DatasetError` naming the file (and line), before
/// anything large is allocated.
final class DataInputsTests: XCTestCase {
    private func datasetError(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> DatasetError? {
        do {
            _ = try body()
            XCTFail("no error", file: file, line: line)
        } catch let error as DatasetError {
            return error
        } catch {
            XCTFail("not a DatasetError: \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: Files

    func testDevZeroIsNotACSV() {
        let error = datasetError { try CSVFile.load(URL(fileURLWithPath: "/dev/zero")) }
        XCTAssertEqual(error?.file, "/dev/zero")
        XCTAssertTrue(error?.message.contains("not a regular file") == true, "\(String(describing: error))")
    }

    func testNonUTF8CSVNamesItsLine() throws {
        let url = try temporaryDirectory().appendingPathComponent("latin1.csv")
        try Data("id,label\na,1\nb,".utf8 + [0xE9] + Data("\n".utf8)).write(to: url)
        let error = datasetError { try CSVFile.load(url) }
        XCTAssertEqual(error?.line, 3)
        XCTAssertTrue(error?.message.contains("column 3") == true, "\(String(describing: error))")
    }

    func testAFolderInPlaceOfAnImage() throws {
        let folder = try temporaryDirectory().appendingPathComponent("a.jpg")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let error = datasetError { try JPEG.decode(file: folder) }
        XCTAssertTrue(error?.message.contains("this is a folder") == true, "\(String(describing: error))")
    }

    // MARK: Images

    /// A grey JPEG whose frame header is rewritten, as a hostile or unusual file would be.
    private func greyJPEG(editing edit: (inout [UInt8], Int) -> Void) throws -> URL {
        let directory = try temporaryDirectory()
        let url = try writeConstantJPEG([128], width: 8, height: 8, named: "x.jpg", in: directory)
        var bytes = [UInt8](try Data(contentsOf: url))
        let frame = try XCTUnwrap((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        edit(&bytes, frame)
        try Data(bytes).write(to: url)
        return url
    }

    func testPixelLimitIsCheckedFromTheHeader() throws {
        let url = try greyJPEG { bytes, frame in
            bytes.replaceSubrange((frame + 5)..<(frame + 9), with: [0xEA, 0x60, 0xEA, 0x60]) // 60000 × 60000
        }
        let start = Date()
        let error = datasetError { try JPEG.decode(file: url) }
        XCTAssertTrue(error?.message.contains("60000×60000 (3600.0 megapixels)") == true, "\(String(describing: error))")
        XCTAssertTrue(error?.fix.contains("data.max_image_pixels") == true)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        let small = try greyJPEG { _, _ in }
        XCTAssertNotNil(datasetError { try ImageSet.load(small, spec: ImageSpec(height: 4, width: 4, channels: 1), maxPixels: 63) })
        XCTAssertNoThrow(try ImageSet.load(small, spec: ImageSpec(height: 4, width: 4, channels: 1), maxPixels: 64))
    }

    func testCMYKSaysConvertNotSetChannels() throws {
        let url = try greyJPEG { bytes, frame in
            let header: [UInt8] = [0xFF, 0xC0, 0, 20] + Array(bytes[(frame + 4)..<(frame + 9)]) + [4]
                + (1...4).flatMap { [UInt8($0), 0x11, 0] }
            bytes.replaceSubrange(frame..<(frame + 13), with: header)
            let scan = (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA }!
            let scanHeader: [UInt8] = [0xFF, 0xDA, 0, 14, 4] + (1...4).flatMap { [UInt8($0), 0] } + [0, 63, 0]
            bytes.replaceSubrange(scan..<(scan + 10), with: scanHeader)
        }
        let error = datasetError { try ImageSet.load(url, spec: ImageSpec(height: 4, width: 4, channels: 3)) }
        XCTAssertTrue(error?.message.contains("CMYK") == true, "\(String(describing: error))")
        XCTAssertTrue(error?.fix.contains("convert the image to RGB") == true, "\(String(describing: error))")
        XCTAssertFalse(error?.fix.contains("channels to 4") == true)
    }

    // MARK: Labels and folds

    func testOneLabelSpelledTwoWaysIsRefused() throws {
        let url = try writeText("id,label\na,5\nb,0\nc,5.0\n", named: "train.csv", in: try temporaryDirectory())
        let error = datasetError { try TrainTable.load(csv: url, idColumn: "id", labelColumn: "label", groupColumn: nil) }
        XCTAssertEqual(error?.line, 4)
        XCTAssertTrue(error?.message.contains("`5.0` is the number `5` (line 2)") == true, "\(String(describing: error))")
    }

    func testFoldsNeedRowsGroupsAndClassRows() {
        let file = URL(fileURLWithPath: "train.csv")
        let labels = Array(repeating: [0, 1], count: 25).flatMap { $0 }
        var error = datasetError {
            try FoldCheck.check(folds: 100, labels: labels, classNames: ["a", "b"], groups: nil, stratify: true, file: file)
        }
        XCTAssertTrue(error?.message.contains("only 50 training rows") == true, "\(String(describing: error))")
        error = datasetError {
            try FoldCheck.check(folds: 5, labels: labels + [2, 2], classNames: ["a", "b", "c"], groups: nil, stratify: true, file: file)
        }
        XCTAssertTrue(error?.message.contains("class 'c' has 2 training rows") == true, "\(String(describing: error))")
        XCTAssertTrue(error?.fix.contains("at most 2") == true)
        XCTAssertNoThrow(try FoldCheck.check(folds: 5, labels: labels + [2, 2], classNames: ["a", "b", "c"], groups: nil,
                                             stratify: false, file: file))
        error = datasetError {
            try FoldCheck.check(folds: 5, labels: labels, classNames: ["a", "b"], groups: labels.map { "\($0)" },
                                stratify: false, file: file)
        }
        XCTAssertTrue(error?.message.contains("2 distinct groups") == true, "\(String(describing: error))")
        XCTAssertNoThrow(try FoldCheck.check(folds: 25, labels: labels, classNames: ["a", "b"], groups: nil, stratify: true, file: file))
    }
}
