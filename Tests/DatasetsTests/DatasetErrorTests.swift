import Datasets
import XCTest

final class DatasetErrorTests: XCTestCase {
    func testDescriptionWithLine() {
        let error = DatasetError(file: "train.csv", line: 7, message: "id 'a' appears twice", fix: "remove one")
        XCTAssertEqual(error.description, "train.csv:7: id 'a' appears twice — remove one")
    }

    func testDescriptionWithoutLine() {
        let error = DatasetError(file: "img/a.jpg", message: "not a readable JPEG", fix: "re-export it")
        XCTAssertEqual(error.description, "img/a.jpg: not a readable JPEG — re-export it")
    }
}
