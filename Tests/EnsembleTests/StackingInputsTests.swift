import XCTest
@testable import Ensemble

final class StackingInputsTests: XCTestCase {
    func set(_ name: String, rows: Int = 4, testRows: Int = 2) -> StackingInputs.BaseSet {
        .init(name: name, oof: Array(repeating: 0.5, count: rows * 2), test: Array(repeating: 0.5, count: testRows * 2))
    }

    func testShapesAreDerivedFromTheArrays() throws {
        let inputs = try StackingInputs(sets: [set("a"), set("b")], labels: [0, 1, 1, 0], folds: [0, 1, 0, 1], classes: 2)
        XCTAssertEqual(inputs.rows, 4)
        XCTAssertEqual(inputs.testRows, 2)
        XCTAssertEqual(inputs.foldCount, 2)
    }

    func testEveryMisfitNamesWhatDoesNotFit() {
        func message(_ sets: [StackingInputs.BaseSet], labels: [Int] = [0, 1, 1, 0], folds: [Int] = [0, 1, 0, 1]) -> String {
            do {
                _ = try StackingInputs(sets: sets, labels: labels, folds: folds, classes: 2)
                return ""
            } catch { return error.description }
        }
        XCTAssertEqual(message([]), "no prediction sets were given")
        XCTAssertTrue(message([set("a"), set("b", rows: 3)]).contains("set b has 6 OOF values"))
        XCTAssertTrue(message([set("a"), set("b", testRows: 3)]).contains("set b has 6 test values"))
        XCTAssertTrue(message([set("a")], labels: [0, 1, 2, 0]).contains("label 2 is outside 0..<2"))
        XCTAssertTrue(message([set("a")], folds: [0, 0, 0, 0]).contains("k >= 2"))
        XCTAssertTrue(message([set("a")], folds: [0, 2, 0, 2]).contains("every fold used"))
        XCTAssertTrue(message([set("a")], folds: [0, 1, 0]).contains("3 fold numbers"))
    }
}
