import Foundation
import Pipeline
import TestSupport
import XCTest

/// The OOF promise: no label of a validation row may influence the model that
/// predicts that row, through any stage. The classic trap is a test set that
/// holds copies of train images: pseudo-labels or teacher targets taken from
/// models that trained on a row reach that row's copy, and the next stage
/// learns the row's label (before per-fold sources: OOF 0.975 → 1.000).
final class LeakTests: XCTestCase {
    /// A pseudo-label round and a distilled student: the test set holds a copy
    /// of every train image, the distillation teacher is fixed by name and the
    /// folds do not depend on the labels.
    static let ensemble = """
        ensemble:
          blends: [mean]
          stackers: []
          pseudo_label: {rounds: 1, threshold: 0.95, min_fraction: 0.5, models: [tiny]}
          distill: {teacher: tiny+pl1/last, student: tiny, temperature: 2, alpha: 0.5}

        """

    /// Exact form: relabel every validation row of fold 0 and run again. If no
    /// such label reaches a model that predicts fold 0, every stage's fold-0
    /// OOF rows are bit-identical; a leak through any stage changes them.
    func testRelabellingAFoldsValidationRowsChangesNoOOFPredictionOfThatFold() throws {
        let original = try PipelineHarness(perClass: 12, testRows: 10)
        let relabelled = try PipelineHarness(perClass: 12, testRows: 10)
        defer { original.remove(); relabelled.remove() }
        let yaml = { (harness: PipelineHarness) in
            harness.dataset.manifestYAML(epochs: "3").replacingOccurrences(of: "stratify: true", with: "stratify: false") + Self.ensemble
        }
        try Self.addTestCopies(of: original.dataset)
        try Self.addTestCopies(of: relabelled.dataset)
        let first = try original.run(yaml(original))
        let folds = try original.directory.folds(seed: 0)
        let labels = relabelled.dataset.trainLabels.enumerated().map { row, label in folds[row] == 0 ? (label + 1) % 10 : label }
        try relabelled.dataset.writeCSV("train.csv", rows: zip(relabelled.dataset.trainIDs, labels).map { "\($0),\($1)" })
        let second = try relabelled.run(yaml(relabelled))
        XCTAssertEqual(try relabelled.directory.folds(seed: 0), folds, "the folds must not depend on the labels here")

        let (a, b) = (try first.evaluate().catalog, try second.evaluate().catalog)
        XCTAssertEqual(a.base.map(\.name), ["tiny/last", "tiny+pl1/last", "tiny+kd/last"])
        let K = a.classes
        let fold0 = folds.indices.filter { folds[$0] == 0 }
        for (x, y) in zip(a.base, b.base) {
            let rowsA = fold0.flatMap { x.oof.scalars[($0 * K)..<(($0 + 1) * K)] }
            let rowsB = fold0.flatMap { y.oof.scalars[($0 * K)..<(($0 + 1) * K)] }
            let changed = zip(rowsA, rowsB).filter { $0 != $1 }.count
            XCTAssertEqual(changed, 0, "\(x.name): \(changed) of fold 0's OOF values changed with fold 0's labels")
        }
        // The other fold's models did learn from the changed labels (the check can see a change).
        let fold1 = folds.indices.filter { folds[$0] == 1 }
        XCTAssertTrue(fold1.contains { a.base[0].oof.scalars[($0 * K)..<(($0 + 1) * K)] != b.base[0].oof.scalars[($0 * K)..<(($0 + 1) * K)] })
        // The round did add pseudo rows (a check that nothing was selected could not see a leak).
        let selection = try XCTUnwrap(try first.database.output(PseudoLabelSelection.self, at: .pseudoLabels(first.stages[1]),
                                                                experimentID: first.experimentID))
        XCTAssertTrue(selection.blocks.allSatisfy { !$0.rows.isEmpty }, "\(selection.blocks.map(\.rows.count))")
    }

    /// Appends a copy of every train image to the test set (new ids, same
    /// pixels, their true labels as held-out labels).
    static func addTestCopies(of dataset: TemporaryDataset) throws {
        let copies = dataset.trainIDs.map { "copy-\($0)" }
        for (id, copy) in zip(dataset.trainIDs, copies) {
            try FileManager.default.copyItem(at: dataset.trainImage(id), to: dataset.testImage(copy))
        }
        try dataset.writeCSV("sample_submission.csv", rows: (dataset.testIDs + copies).map { "\($0),0" })
        try dataset.writeCSV("test_labels.csv", rows: zip(dataset.testIDs, dataset.testLabels).map { "\($0),\($1)" }
                             + zip(copies, dataset.trainLabels).map { "\($0),\($1)" })
    }
}

extension LeakTests {
    /// The competitor's view: with a copy of every train image in the test
    /// set, neither a pseudo-label round nor a distilled student lifts the OOF
    /// score more than 0.01 above the base model it started from.
    func testTestCopiesOfTrainRowsDoNotLiftThePseudoLabelOrStudentOOFScore() throws {
        let harness = try PipelineHarness(perClass: 40, testRows: 30)
        defer { harness.remove() }
        try Self.addTestCopies(of: harness.dataset)
        let yaml = """
            name: leak
            \(TemporaryDataset.dataSection())
            cv: {folds: 4, seeds: [0], stratify: true}
            metric: accuracy
            models:
              - name: net
                arch: {name: resnet, widths: [16, 32], blocks: [1, 1]}
                lr: 1e-2
                epochs: 20
                batch_size: 32
            ensemble:
              blends: [mean]
              stackers: []
              pseudo_label: {rounds: 1, threshold: 0.9, models: [net]}
              distill: {teacher: best, student: net, temperature: 2, alpha: 0.5}

            """
        let pipeline = try harness.run(yaml)
        let scores = Dictionary(uniqueKeysWithValues: try pipeline.evaluate().base.map { ($0.subject.name, $0.oof) })
        let (base, pseudo, student) = (try XCTUnwrap(scores["net/last"]), try XCTUnwrap(scores["net+pl1/last"]),
                                       try XCTUnwrap(scores["net+kd/last"]))
        print("leak check: base \(base), pseudo \(pseudo), student \(student)")
        XCTAssertLessThan(base, 0.99, "the base must leave room for a leak to show")
        XCTAssertLessThanOrEqual(pseudo - base, 0.01, "pseudo-labels lifted OOF \(base) → \(pseudo)")
        XCTAssertLessThanOrEqual(student - base, 0.01, "the student lifted OOF \(base) → \(student)")
    }
}
