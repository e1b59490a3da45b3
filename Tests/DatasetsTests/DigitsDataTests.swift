import Datasets
import Foundation
import XCTest

/// The committed demo data (data/digits, made by scripts/make-digits) loads
/// through the same path a user's competition data takes.
final class DigitsDataTests: XCTestCase {
    private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data/digits")

    func testTrainingSplitLoadsAndDecodes() throws {
        let table = try TrainTable.load(csv: root.appendingPathComponent("train.csv"), idColumn: "id",
                                        labelColumn: "label", groupColumn: nil)
        XCTAssertEqual(table.ids.count, 1500)
        XCTAssertEqual(table.classNames, (0...9).map(String.init))
        let counts = (0...9).map { k in table.labels.filter { $0 == k }.count }
        XCTAssertGreaterThan(counts.min()!, 130)
        let folder = try ImageFolder(directory: root.appendingPathComponent("train"), fileExtension: nil)
        let images = try ImageSet.decode(ids: table.ids, folder: folder, spec: ImageSpec(height: 16, width: 16, channels: 1),
                                         csv: table.file, threads: 2)
        XCTAssertEqual(images.count, 1500)
        let info = try JPEG.info(data: Data(contentsOf: folder.url(for: table.ids[0])))
        XCTAssertEqual([info.width, info.height, info.components], [16, 16, 1])
        // Digits are light strokes on black: the darkest pixels are black, the brightest near white.
        let first = images.image(0)
        XCTAssertLessThan(first.min()!, 0.05)
        XCTAssertGreaterThan(first.max()!, 0.6)
    }

    func testTestSplitMatchesItsLabelsAndSubmission() throws {
        let test = try TestTable.load(csv: root.appendingPathComponent("sample_submission.csv"), idColumn: "id")
        XCTAssertEqual(test.ids.count, 297)
        XCTAssertEqual(test.columns, ["id", "label"])
        let labels = try heldOutLabels(csv: root.appendingPathComponent("test_labels.csv"), idColumn: "id",
                                       labelColumn: "label", ids: test.ids, classNames: (0...9).map(String.init))
        XCTAssertEqual(Set(labels), Set(0...9))
        let train = try TrainTable.load(csv: root.appendingPathComponent("train.csv"), idColumn: "id",
                                        labelColumn: "label", groupColumn: nil)
        XCTAssertTrue(Set(train.ids).isDisjoint(with: test.ids))
        let folder = try ImageFolder(directory: root.appendingPathComponent("test"), fileExtension: "jpg")
        for id in test.ids { XCTAssertNoThrow(try folder.url(for: id)) }
    }
}
