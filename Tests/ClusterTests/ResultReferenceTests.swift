import XCTest
import Training
@testable import Cluster

/// A result is checked against its task and the coordinator's data, and its
/// score is recomputed from the coordinator's labels (`ResultReference`).
final class ResultReferenceTests: XCTestCase {
    // Six train rows, two classes, folds [0, 1, 0, 1, 0, 1] under seed 3.
    let reference = ResultReference(shape: DataShape(trainRows: 6, testRows: 1, classes: 2), labels: [0, 1, 1, 1, 0, 0],
                                    foldsBySeed: [3: [0, 1, 0, 1, 0, 1]], metric: .accuracy)
    let task = ClusterTask(manifestHash: "m", stage: "base", round: 0, fold: FoldTask(model: "net", seed: 3, fold: 0))

    /// Fold 0's rows 0, 2, 4 (labels 0, 1, 0) predicted as classes 0, 0, 0: accuracy 2/3.
    private func result(rows: [Int] = [0, 2, 4], oof: [Float] = [0.9, 0.1, 0.8, 0.2, 0.7, 0.3], score: Double = 2.0 / 3) -> TaskResult {
        TaskResult(taskID: task.id, attempt: 4, score: score, predictions: TaskPredictions(
            validationRows: rows, testRows: 1, classes: 2, sets: [SetPredictions(name: "last", oof: oof, test: [0.5, 0.5])]))
    }

    private func assertRefused(_ result: TaskResult, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let score = try reference.check(result, task: task)
            XCTFail("accepted with score \(score), expected a refusal saying \(expected)", file: file, line: line)
        } catch .invalidResult(task.id, 4, let reason) {
            XCTAssertTrue(reason.contains(expected), "\(reason) does not say \(expected)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testAnHonestResultPassesWithTheRecomputedScore() throws {
        XCTAssertEqual(reference.validationRows(seed: 3, fold: 0), [0, 2, 4])
        XCTAssertEqual(try reference.check(result(), task: task), 2.0 / 3)
    }

    func testOOFRowsMustBeExactlyTheTasksValidationRows() {
        assertRefused(result(rows: [1, 3, 5]), "validation row 0 is train row 1, fold 0 of seed 3 has train row 0 there")
        assertRefused(result(rows: [4, 2, 0]), "validation row 0 is train row 4")
        assertRefused(result(rows: [0, 2], oof: [0.9, 0.1, 0.8, 0.2], score: 0.5), "it has 2 validation rows, fold 0 of seed 3 has 3")
        assertRefused(result(rows: [0, 2, 6]), "outside the coordinator's 6 train rows")
        let otherSeed = ClusterTask(manifestHash: "m", stage: "base", round: 0, fold: FoldTask(model: "net", seed: 9, fold: 0))
        XCTAssertThrowsError(try reference.check(result(), task: otherSeed))
    }

    func testAClaimedScoreItsRowsDoNotEarnIsRefused() {
        assertRefused(result(score: 1), "it claims accuracy 1.0, but its OOF rows score 0.666")
        assertRefused(result(score: .nan), "it claims accuracy nan")
    }

    func testValuesMustKeepTheTaskTypesRule() {
        assertRefused(result(oof: [-0.5, 1.5, 0.8, 0.2, 0.7, 0.3]), "set last OOF row 0 holds the negative value -0.5")
        assertRefused(result(oof: [0.9, 0.1, 0.8, 0.2, 0.7, 0.7]), "set last OOF row 2 sums to 1.39999")
        XCTAssertEqual(PredictionRule.multiclass.violation(in: [1.25, 0], columns: 2)?.reason,
                       "holds 1.25, above 1: these are not class probabilities")
        XCTAssertNil(PredictionRule.multiclass.violation(in: [0.3333, 0.6669], columns: 2))
    }
}
