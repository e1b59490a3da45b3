import Datasets
import Foundation
import TestSupport
import XCTest
@testable import Pipeline

/// The submission the pipeline writes scores on the leaderboard as its test
/// probabilities do: a probability metric gets probabilities whatever the
/// sample's values (a sample of all `0` is common on Kaggle).
final class SubmissionChoiceTests: XCTestCase {
    func testBinaryAUCWithASampleOfZerosSubmitsProbabilitiesThatScoreAsTheChosenResult() throws {
        let harness = try PipelineHarness(perClass: 10, testRows: 60)
        defer { harness.remove() }
        let dataset = harness.dataset
        let binary = { (label: Int) in label >= 5 ? 1 : 0 }
        try dataset.writeCSV("train.csv", rows: zip(dataset.trainIDs, dataset.trainLabels).map { "\($0),\(binary($1))" })
        try dataset.writeCSV("test_labels.csv", rows: zip(dataset.testIDs, dataset.testLabels).map { "\($0),\(binary($1))" })
        let sample = try String(contentsOf: dataset.sampleSubmission, encoding: .utf8)
        XCTAssertTrue(sample.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(",0") }, "the sample holds only 0")
        let yaml = dataset.manifestYAML(epochs: "3").replacingOccurrences(of: "metric: accuracy", with: "metric: roc_auc")
            + "ensemble: {blends: [mean, rank], stackers: [logistic]}\n"
        let pipeline = try harness.run(yaml)
        let summary = try pipeline.finish()
        let chosen = try XCTUnwrap(summary.submission?.set)
        XCTAssertNotEqual(chosen, "blend/rank", "ranks are not probabilities")

        let catalog = try ResultCatalog.open(harness.directory)
        let subject = try XCTUnwrap(catalog.subject(named: chosen))
        let test = try XCTUnwrap(try catalog.testPredictions(subject))
        let labels = dataset.testLabels.map(binary)
        let expected = Metric.rocAUC.score(probabilities: test, classes: 2, labels: labels)

        let lines = try String(contentsOf: harness.directory.file("submission.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "id,label")
        let positive = lines.dropFirst().map { Float($0.split(separator: ",")[1])! }
        let written = Metric.rocAUC.score(probabilities: positive.flatMap { [1 - $0, $0] }, classes: 2, labels: labels)
        XCTAssertEqual(written, expected, accuracy: 1e-12)
        XCTAssertGreaterThan(Set(positive).count, 2, "probabilities, not labels")
    }
}
