import Datasets
import Engine
import Foundation
import TestSupport
import XCTest

/// `foldwise stack` on the committed OOF matrices of three scikit-learn
/// classifiers (Tests/EnsembleTests/Fixtures/stack, scripts/make-stacking-fixture).
final class StackCommandTests: XCTestCase {
    static let fixtures = TemporaryDataset.repositoryRoot.appendingPathComponent("Tests/EnsembleTests/Fixtures/stack")
    static let sets = ["naive_bayes", "knn", "forest"]
    var out: URL!

    override func setUpWithError() throws {
        out = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-stack-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: out)
    }

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    func arguments(learner: String, oof: [String]? = nil, test: [String]? = nil, labels: String? = nil,
                   folds: String? = nil) -> [String] {
        let oofFiles: [String] = oof ?? Self.sets.map { fixture("oof_\($0).npy") }
        let testFiles: [String] = test ?? Self.sets.map { fixture("test_\($0).npy") }
        let labelsFile: String = labels ?? fixture("labels.npy")
        let foldsFile: String = folds ?? fixture("folds.npy")
        var result: [String] = ["stack", "--oof"]
        result += oofFiles
        result += ["--test"] + testFiles
        result += ["--labels", labelsFile, "--folds", foldsFile, "--learner", learner, "--out", out.path]
        return result
    }

    func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))) as! [String: Any]
    }

    func testLogisticStackerMatchesScikitLearnsNestedCVOnOtherLibrariesOOF() throws {
        let result = try FoldwiseProcess.run(arguments(learner: "logistic") + ["--json"])
        assertSucceeded(result)
        let report = try JSONSerialization.jsonObject(with: Data(result.lastLine.utf8)) as! [String: Any]
        let sklearn = try expected()["sklearn_logistic_stacker_accuracy"] as! Double
        let ours = try XCTUnwrap(report["oof_score"] as? Double)
        XCTAssertLessThanOrEqual(abs(ours - sklearn), 0.005, "foldwise \(ours), scikit-learn \(sklearn)")
        XCTAssertEqual(report["learner"] as? String, "logistic")
        XCTAssertEqual(report["nested"] as? Bool, true)
        XCTAssertNil(report["in_sample_score"], "a stacker is not refitted on every row for display")
        XCTAssertEqual(report["metric"] as? String, "accuracy")
        let baseScores = try XCTUnwrap(report["base_scores"] as? [String: Double])
        let expectedBases = try expected()["base_accuracy"] as! [String: Double]
        for name in Self.sets { XCTAssertEqual(baseScores["oof_\(name)"] ?? -1, expectedBases[name]!, accuracy: 1e-9, name) }
        XCTAssertTrue(result.stdout.contains(String(format: "OOF accuracy %.4f", ours)), result.stdout)
        XCTAssertTrue(result.stdout.contains("oof_knn 0.6980"), result.stdout)

        let oof = try NPY.read(out.appendingPathComponent("stack_oof.npy"))
        let test = try NPY.read(out.appendingPathComponent("stack_test.npy"))
        XCTAssertEqual(oof.shape, [500, 4])
        XCTAssertEqual(test.shape, [150, 4])
        let labels = try NPY.read(URL(fileURLWithPath: fixture("labels.npy"))).integers!
        XCTAssertEqual(Metric.accuracy.score(probabilities: oof.floats, classes: 4, labels: labels), ours, accuracy: 1e-12)
        let paths = try XCTUnwrap(report["paths"] as? [String: String])
        XCTAssertEqual(paths["oof"], out.appendingPathComponent("stack_oof.npy").path)
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("stack.json"))) as! [String: Any]
        XCTAssertEqual(stored["oof_score"] as? Double, ours)
    }

    func testBlendsReportTheirWeightsAndStackersTheirScores() throws {
        for learner in ["mean", "weights", "hillclimb", "rank", "mlp", "xgboost"] {
            let result = try FoldwiseProcess.run(arguments(learner: learner) + ["--json", "--metric", "log_loss"])
            assertSucceeded(result)
            let report = try JSONSerialization.jsonObject(with: Data(result.lastLine.utf8)) as! [String: Any]
            XCTAssertEqual(report["metric"] as? String, "log_loss", learner)
            let score = try XCTUnwrap(report["oof_score"] as? Double, learner)
            XCTAssertTrue(score.isFinite && score > 0, "\(learner): \(score)")
            let weights = report["weights"] as? [String: Double]
            if ["mean", "weights", "hillclimb"].contains(learner) {
                XCTAssertEqual(weights?.values.reduce(0, +) ?? 0, 1, accuracy: 1e-9, learner)
            } else {
                XCTAssertNil(weights, learner)
            }
            // Methods that learn from the labels are scored nested; a fitted blend also shows its
            // optimistic in-sample score, labelled apart.
            let fitted = ["weights", "hillclimb", "mlp", "xgboost"].contains(learner)
            XCTAssertEqual(report["nested"] as? Bool, fitted, learner)
            if ["weights", "hillclimb"].contains(learner) {
                let inSample = try XCTUnwrap(report["in_sample_score"] as? Double, learner)
                XCTAssertLessThanOrEqual(inSample, score, "\(learner): log-loss fitted on the rows it scores")
                XCTAssertTrue(result.stdout.contains(String(format: "(nested; in-sample %.4f, optimistic;", inSample)), result.stdout)
            } else {
                XCTAssertNil(report["in_sample_score"], learner)
                XCTAssertTrue(result.stdout.contains(fitted ? "(nested; base sets" : "(plain; base sets"), result.stdout)
            }
            XCTAssertEqual(try NPY.read(out.appendingPathComponent("stack_test.npy")).shape, [150, 4], learner)
        }
    }

    func testBadInputExitsWithTwoAndNamesTheFileAndTheFix() throws {
        let missing = fixture("oof_missing.npy")
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "mean", oof: [missing], test: [fixture("test_knn.npy")])),
                       mentions: [missing])
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "mean", test: [fixture("test_knn.npy")])),
                       mentions: ["3 --oof files but 1 --test file", "one --test file per --oof file"])
        // A test file in the place of an OOF file has 150 rows, not 500.
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "mean", oof: [fixture("oof_knn.npy"), fixture("test_forest.npy")],
                                                         test: [fixture("test_knn.npy"), fixture("test_forest.npy")])),
                       mentions: [fixture("test_forest.npy"), "[150, 4]", "same rows and classes"])
        // Fold numbers 0..<5 in the place of labels of 4 classes.
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "mean", labels: fixture("folds.npy"))),
                       mentions: [fixture("folds.npy"), "has label 4, outside 0..<4"])

        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var labels = try NPY.read(URL(fileURLWithPath: fixture("labels.npy"))).integers!
        labels[7] = 4
        let badLabels = out.appendingPathComponent("labels.npy")
        try NPY.write(ints: labels, shape: [labels.count], to: badLabels)
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "logistic", labels: badLabels.path)),
                       mentions: [badLabels.path, "row 7 has label 4", "0..<4"])
        let floatLabels = out.appendingPathComponent("float_labels.npy")
        try NPY.write(Tensor(shape: [500], scalars: labels.map(Float.init)), to: floatLabels)
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "logistic", labels: floatLabels.path)),
                       mentions: [floatLabels.path, "integers"])
        let oneFold = out.appendingPathComponent("one_fold.npy")
        try NPY.write(ints: [Int](repeating: 0, count: 500), shape: [500], to: oneFold)
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "logistic", folds: oneFold.path)),
                       mentions: [oneFold.path, "k >= 2"])
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "logistic") + ["--metric", "f2"]),
                       mentions: ["--metric f2", "log_loss"])
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "forest")),
                       mentions: ["--learner forest", "mean, rank, weights, hillclimb, logistic, mlp, xgboost"])
        assertBadInput(try FoldwiseProcess.run(arguments(learner: "blend/mean")), mentions: ["--learner blend/mean"])
    }

    func testHelpNamesEveryLearnerAndMetric() throws {
        let result = try FoldwiseProcess.run(["stack", "--help"])
        assertSucceeded(result)
        for word in ["logistic", "mlp", "xgboost", "hillclimb", "mean", "rank", "weights", "log_loss", "roc_auc", "--folds"] {
            XCTAssertTrue(result.stdout.contains(word), "help lacks \(word):\n\(result.stdout)")
        }
    }
}
