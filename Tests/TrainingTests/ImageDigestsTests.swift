import Datasets
import Foundation
import XCTest
@testable import Training

/// The digests file round-trips, and a change is named by its file.
final class ImageDigestsTests: XCTestCase {
    let train = [FileDigest(path: "/d/train/1.jpg", size: 10, modified: 5, digest: 0xABC),
                 FileDigest(path: "/d/train/2.jpg", size: 11, modified: 6, digest: 0xDEF)]
    let test = [FileDigest(path: "/d/test/9.jpg", size: 12, modified: 7, digest: 0x123)]

    func testTheFileRoundTripsAndAnotherFormatReadsAsEmpty() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("digests-\(UUID().uuidString).tsv")
        defer { try? FileManager.default.removeItem(at: file) }
        let digests = ImageDigests(train: train, test: test)
        try digests.write(to: file)
        XCTAssertEqual(ImageDigests.read(file), Dictionary(uniqueKeysWithValues: (train + test).map { ($0.path, $0) }))
        try Data("something else\n".utf8).write(to: file)
        XCTAssertEqual(ImageDigests.read(file), [:])
    }

    func testTheFirstChangedOrNewImageIsNamed() {
        let recorded = Dictionary(uniqueKeysWithValues: (train + test).map { ($0.path, $0) })
        XCTAssertNil(ImageDigests(train: train, test: test).firstChange(from: recorded))
        var changed = test
        changed[0].digest = 0x124
        XCTAssertEqual(ImageDigests(train: train, test: changed).firstChange(from: recorded),
                       "test image /d/test/9.jpg changed (12 bytes, digest 0000000000000123 then; 12 bytes, digest 0000000000000124 now)")
        let moved = [FileDigest(path: "/e/train/1.jpg", size: 10, modified: 5, digest: 0xABC)]
        XCTAssertEqual(ImageDigests(train: moved, test: test).firstChange(from: recorded),
                       "train image /e/train/1.jpg is not among the images the results were computed from")
        XCTAssertEqual(ImageDigests(train: train, test: test).firstDifference(from: [0xABC, 0xDE0, 0x123]),
                       "train image /d/train/2.jpg differs from the coordinator's (digest 0000000000000def here, 0000000000000de0 there)")
        XCTAssertNil(ImageDigests(train: train, test: test).firstDifference(from: [0xABC, 0xDEF, 0x123]))
    }
}
