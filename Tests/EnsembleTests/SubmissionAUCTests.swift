import Datasets
import Foundation
import TestSupport
import XCTest
@testable import Ensemble

/// The bug this guards against: a `roc_auc` competition whose sample
/// submission holds only `0` got hard labels, and the submission scored far
/// below the probabilities it came from. Here a binary task on the committed
/// digits (class 1: a digit of 5 or more), a logistic regression on 4×4
/// thumbnails for test probabilities, and the digits' own all-`0` sample.
final class SubmissionAUCTests: XCTestCase {
    static let digits = TemporaryDataset.repositoryRoot.appendingPathComponent("data/digits")

    private func table(_ name: String) throws -> (ids: [String], labels: [Int]) {
        let csv = try CSVFile.load(Self.digits.appendingPathComponent(name))
        return (csv.rows.map { $0.fields[0] }, csv.rows.map { Int($0.fields[1])! >= 5 ? 1 : 0 })
    }

    private func thumbnails(_ ids: [String], folder: String) throws -> [Float] {
        let spec = ImageSpec(height: 4, width: 4, channels: 1, mean: [0.5], std: [0.5])
        return try ids.flatMap { try ImageSet.load(Self.digits.appendingPathComponent("\(folder)/\($0).jpg"), spec: spec) }
    }

    /// Test probabilities [test rows, 2] in test_labels.csv's order, and its binary labels.
    private func testProbabilities() throws -> (ids: [String], labels: [Int], probabilities: [Float]) {
        let train = try table("train.csv")
        let rows = 400
        var model = LogisticRegression()
        model.fit(features: try thumbnails(Array(train.ids.prefix(rows)), folder: "train"), featureCount: 16,
                  labels: Array(train.labels.prefix(rows)), classes: 2)
        let test = try table("test_labels.csv")
        return (test.ids, test.labels, model.predictProbabilities(features: try thumbnails(test.ids, folder: "test")))
    }

    /// The written file's AUC, read back through its own ids.
    private func writtenAUC(probabilities wantsProbabilities: Bool, test: (ids: [String], labels: [Int], probabilities: [Float]))
        throws -> Double {
        let sample = Self.digits.appendingPathComponent("sample_submission.csv")
        XCTAssertTrue(try CSVFile.load(sample).rows.allSatisfy { $0.fields[1] == "0" }, "the sample holds only 0")
        let names = ["0", "1"]
        let submission = try Submission(sample: sample, idColumn: "id", classNames: names, probabilities: wantsProbabilities)
        // Rows handed over in reverse, so the writer must follow the sample's ids.
        let reversed = Array(test.ids.indices.reversed())
        let text = try submission.csv(probabilities: reversed.flatMap { test.probabilities[($0 * 2)..<($0 * 2 + 2)] }, classes: 2,
                                      testIDs: reversed.map { test.ids[$0] }, classNames: names)
        try submission.check(text, classNames: names, file: sample)
        let written = try CSVFile.parse(text, url: sample)
        let valueOf = Dictionary(uniqueKeysWithValues: written.rows.map { ($0.fields[0], Float($0.fields[1])!) })
        let positive = test.ids.map { valueOf[$0]! }
        return Metric.rocAUC.score(probabilities: positive.flatMap { [1 - $0, $0] }, classes: 2, labels: test.labels)
    }

    func testTheWrittenSubmissionScoresTheAUCOfTheTestProbabilities() throws {
        let test = try testProbabilities()
        let expected = Metric.rocAUC.score(probabilities: test.probabilities, classes: 2, labels: test.labels)
        XCTAssertGreaterThan(expected, 0.6, "the thumbnails carry some signal")
        XCTAssertLessThan(expected, 1, "an imperfect ranking, so labels would lose to it")
        XCTAssertTrue(Metric.rocAUC.scoresProbabilities)
        XCTAssertEqual(try writtenAUC(probabilities: true, test: test), expected)
        // What the sample-guessing writer did: hard labels, a much lower AUC.
        XCTAssertLessThan(try writtenAUC(probabilities: false, test: test), expected - 0.02)
    }
}
