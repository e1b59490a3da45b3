import Ensemble
import XCTest

/// Ten test rows of three classes; row r's top probability is `tops[r]`, on class r % 3.
final class PseudoLabelsTests: XCTestCase {
    private let tops: [Float] = [0.5, 0.96, 0.4, 0.99, 0.7, 0.96, 0.6, 0.8, 0.35, 0.97]

    private var probabilities: [Float] {
        tops.enumerated().flatMap { row, top -> [Float] in
            var values = [Float](repeating: (1 - top) / 2, count: 3)
            values[row % 3] = top
            return values
        }
    }

    private func select(threshold: Float, min: Double = 0, max: Double = 1) -> (rows: [Int], labels: [Int]) {
        PseudoLabels.select(testProbabilities: probabilities, classes: 3, threshold: threshold, minFraction: min, maxFraction: max)
    }

    func testRowsClearingTheThresholdWithTheirTopClass() {
        let chosen = select(threshold: 0.95)
        XCTAssertEqual(chosen.rows, [1, 3, 5, 9])
        XCTAssertEqual(chosen.labels, [1, 0, 2, 0])
        XCTAssertEqual(select(threshold: 0.96).rows, [1, 3, 5, 9], "a probability equal to the threshold clears it")
    }

    func testTooFewAreToppedUpWithTheMostConfident() {
        // ⌈0.55·10⌉ = 6: the four above 0.95, then 0.8 (row 7) and 0.7 (row 4).
        let chosen = select(threshold: 0.95, min: 0.55)
        XCTAssertEqual(chosen.rows, [1, 3, 4, 5, 7, 9])
        XCTAssertEqual(chosen.labels, [1, 0, 1, 2, 1, 0])
        XCTAssertEqual(select(threshold: 0.999, min: 0.1).rows, [3])
        XCTAssertEqual(select(threshold: 0.999, min: 0.3).rows, [1, 3, 9], "0.3·10 is exactly 3; row 1 wins the tie at 0.96")
    }

    func testTooManyKeepTheMostConfidentWithTiesToTheLowerRow() {
        // ⌊0.3·10⌋ = 3 of the four: 0.99, 0.97, then row 1 before row 5 at 0.96.
        XCTAssertEqual(select(threshold: 0.95, max: 0.3).rows, [1, 3, 9])
        XCTAssertEqual(select(threshold: 0.95, max: 0.25).rows, [3, 9])
        XCTAssertEqual(select(threshold: 0, max: 0.19).rows, [3])
    }

    func testEqualBoundsFixTheCountAndEmptyInputsSelectNothing() {
        XCTAssertEqual(select(threshold: 0.5, min: 0.5, max: 0.5).rows, [1, 3, 5, 7, 9])
        XCTAssertEqual(select(threshold: 2).rows, [])
        let none = PseudoLabels.select(testProbabilities: [], classes: 3, threshold: 0.9, minFraction: 0.2, maxFraction: 1)
        XCTAssertEqual(none.rows, [])
        XCTAssertEqual(none.labels, [])
    }

    func testTiedClassesTakeTheLowerClass() {
        let chosen = PseudoLabels.select(testProbabilities: [0.4, 0.4, 0.2], classes: 3, threshold: 0.3,
                                         minFraction: 0, maxFraction: 1)
        XCTAssertEqual(chosen.labels, [0])
    }
}
