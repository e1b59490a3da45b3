import Datasets
import Engine
import Foundation
import TestSupport
import XCTest

/// `foldwise train` on a 60-image, two-fold data set: the JSON report, the
/// `.npy` files, fold-by-fold runs and their assembly, and determinism.
final class TrainCommandTests: XCTestCase {
    private var dataset: TemporaryDataset!
    private var manifest: URL!

    override func setUpWithError() throws {
        dataset = try TemporaryDataset.digits()
        manifest = try dataset.writeManifest(dataset.manifestYAML())
    }

    override func tearDown() {
        dataset?.remove()
    }

    private func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// The `--json` object on stdout's last line.
    private func report(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try? JSONSerialization.jsonObject(with: Data(result.lastLine.utf8)) as? [String: Any]
        return try XCTUnwrap(object, "stdout's last line is not a JSON object:\n\(result.stdout)", file: file, line: line)
    }

    /// Accuracy of row-wise argmax against `labels`, computed here independently of Datasets.Metric.
    private func accuracy(_ probabilities: NPYArray, labels: [Int]) -> Double {
        let classes = probabilities.shape[1]
        let correct = labels.indices.filter { row in
            let scores = probabilities.floats[(row * classes)..<((row + 1) * classes)]
            return scores.indices.max { scores[$0] < scores[$1] }! - row * classes == labels[row]
        }
        return Double(correct.count) / Double(labels.count)
    }

    func testTrainingEveryFoldWritesPredictionsAndAJSONReport() throws {
        let out = dataset.url("runs")
        let result = try FoldwiseProcess.train(manifest, out: out, ["--json"])
        assertSucceeded(result)
        let json = try report(result)

        let folds = try XCTUnwrap(json["folds"] as? [[String: Any]])
        XCTAssertEqual(folds.count, 2)
        XCTAssertEqual(folds.compactMap { $0["fold"] as? Int }, [0, 1])
        for fold in folds {
            XCTAssertEqual(fold["model"] as? String, "tiny")
            XCTAssertEqual(fold["seed"] as? Int, 0)
            let score = try XCTUnwrap(fold["score"] as? Double)
            XCTAssertTrue((0...1).contains(score), "\(score)")
        }

        let oof = try NPY.read(out.appendingPathComponent("tiny/oof.npy"))
        XCTAssertEqual(oof.shape, [dataset.trainIDs.count, 10])
        for row in 0..<oof.shape[0] {
            let sum = oof.floats[(row * 10)..<((row + 1) * 10)].reduce(0, +)
            XCTAssertEqual(sum, 1, accuracy: 1e-4, "oof row \(row)")
        }
        let test = try NPY.read(out.appendingPathComponent("tiny/test.npy"))
        XCTAssertEqual(test.shape, [dataset.testIDs.count, 10])

        let models = try XCTUnwrap(json["models"] as? [[String: Any]])
        XCTAssertEqual(models.count, 1)
        XCTAssertEqual(models.first?["name"] as? String, "tiny")
        XCTAssertEqual(try XCTUnwrap(models.first?["oof_score"] as? Double), accuracy(oof, labels: dataset.trainLabels), accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(models.first?["test_score"] as? Double), accuracy(test, labels: dataset.testLabels), accuracy: 1e-9)

        let paths = try XCTUnwrap(json["paths"] as? [String])
        XCTAssertTrue(paths.contains(out.appendingPathComponent("tiny/oof.npy").path), "\(paths)")
        XCTAssertTrue(paths.contains(out.appendingPathComponent("tiny/seed0/fold1.test.npy").path), "\(paths)")
        for path in paths { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }
        XCTAssertEqual(json["out"] as? String, out.path)
    }

    /// A model's SWA and best-epoch sets land beside `last`, each assembled and scored.
    func testTrainWritesEveryPredictionSetOfAModel() throws {
        let yaml = dataset.manifestYAML(epochs: "2", modelLines: ["swa: {start_epoch: 2, lr: 1e-3}", "keep_best: true"])
        let out = dataset.url("runs")
        let result = try FoldwiseProcess.train(try dataset.writeManifest(yaml, file: "sets.yaml"), out: out, ["--json"])
        assertSucceeded(result)
        let json = try report(result)
        let models = try XCTUnwrap(json["models"] as? [[String: Any]])
        XCTAssertEqual(models.compactMap { $0["name"] as? String }, ["tiny", "tiny/swa", "tiny/best"])
        for (entry, folder) in zip(models, ["tiny", "tiny/swa", "tiny/best"]) {
            let oof = try NPY.read(out.appendingPathComponent("\(folder)/oof.npy"))
            XCTAssertEqual(oof.shape, [dataset.trainIDs.count, 10])
            XCTAssertEqual(try XCTUnwrap(entry["oof_score"] as? Double), accuracy(oof, labels: dataset.trainLabels), accuracy: 1e-9)
            let test = try NPY.read(out.appendingPathComponent("\(folder)/test_seed0.npy"))
            XCTAssertEqual(test.shape, [dataset.testIDs.count, 10])
        }
        XCTAssertTrue(exists(out.appendingPathComponent("tiny/seed0/fold1.swa.oof.npy")))
        let paths = try XCTUnwrap(json["paths"] as? [String])
        XCTAssertTrue(paths.contains(out.appendingPathComponent("tiny/best/oof_seed0.npy").path), "\(paths)")
        for path in paths { XCTAssertTrue(exists(URL(fileURLWithPath: path)), path) }
    }

    /// Each fold leaves a checkpoint that loads into a fresh model of its architecture.
    func testEachFoldLeavesALoadableCheckpoint() throws {
        let out = dataset.url("runs")
        assertSucceeded(try FoldwiseProcess.train(manifest, out: out, ["--fold", "1"]))
        let model = ModelRegistry.make(name: "resnet", config: ResNetConfig(widths: [8], blocks: [1]),
                                       inputChannels: 1, classes: 10, seed: 99)
        let before = model.parameters["fc.weight"]!.value
        let metadata = try Checkpoint.load(from: out.appendingPathComponent("tiny/seed0/fold1.ckpt"), into: model.parameters)
        XCTAssertEqual(metadata["architecture"], "resnet")
        XCTAssertEqual(metadata["fold"], "1")
        XCTAssertNotEqual(model.parameters["fc.weight"]!.value, before)
    }

    func testCommonFilesDescribeTheRowsAndTheirFolds() throws {
        let out = dataset.url("runs")
        assertSucceeded(try FoldwiseProcess.train(manifest, out: out))
        XCTAssertEqual(try NPY.read(out.appendingPathComponent("labels.npy")).integers, dataset.trainLabels)
        let folds = try XCTUnwrap(try NPY.read(out.appendingPathComponent("folds_seed0.npy")).integers)
        XCTAssertEqual(folds.count, dataset.trainIDs.count)
        // Stratified: each digit's six rows split three and three.
        for digit in 0..<10 {
            let digitFolds = dataset.trainLabels.indices.filter { dataset.trainLabels[$0] == digit }.map { folds[$0] }
            XCTAssertEqual(digitFolds.filter { $0 == 0 }.count, 3, "digit \(digit): \(digitFolds)")
        }
        for fold in 0..<2 {
            let rows = try NPY.read(out.appendingPathComponent("tiny/seed0/fold\(fold).rows.npy"))
            let listed = rows.integers ?? rows.floats.map { Int($0) }
            XCTAssertEqual(listed, folds.indices.filter { folds[$0] == fold }, "fold \(fold)")
        }
        let ids = try String(contentsOf: out.appendingPathComponent("train_ids.csv"), encoding: .utf8)
        XCTAssertEqual(ids, (["id"] + dataset.trainIDs).joined(separator: "\n") + "\n")
    }

    func testFoldsRunSeparatelyAreAssembledOnceAllArePresent() throws {
        let out = dataset.url("separate")
        let first = try FoldwiseProcess.train(manifest, out: out, ["--fold", "1", "--json"])
        assertSucceeded(first)
        XCTAssertTrue(exists(out.appendingPathComponent("tiny/seed0/fold1.oof.npy")))
        XCTAssertFalse(exists(out.appendingPathComponent("tiny/seed0/fold0.oof.npy")))
        XCTAssertFalse(exists(out.appendingPathComponent("tiny/oof.npy")))
        XCTAssertFalse(exists(out.appendingPathComponent("tiny/oof_seed0.npy")))
        let partial = try report(first)
        XCTAssertEqual((partial["folds"] as? [[String: Any]])?.compactMap { $0["fold"] as? Int }, [1])
        XCTAssertEqual((partial["models"] as? [Any])?.count, 0, "no model score before every fold is present")

        let second = try FoldwiseProcess.train(manifest, out: out, ["--fold", "0", "--json"])
        assertSucceeded(second)
        XCTAssertEqual((try report(second)["models"] as? [Any])?.count, 1)
        let assembled = try NPY.read(out.appendingPathComponent("tiny/oof.npy"))
        XCTAssertEqual(assembled.shape, [dataset.trainIDs.count, 10])

        // The same predictions as training both folds in one process.
        let together = dataset.url("together")
        assertSucceeded(try FoldwiseProcess.train(manifest, out: together))
        for file in ["tiny/oof.npy", "tiny/test.npy"] {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(file)),
                           try Data(contentsOf: together.appendingPathComponent(file)), file)
        }
    }

    func testRetrainingAFoldGivesBitIdenticalPredictions() throws {
        let out = dataset.url("runs")
        let fold = out.appendingPathComponent("tiny/seed0/fold0")
        assertSucceeded(try FoldwiseProcess.train(manifest, out: out, ["--fold", "0"]))
        let first = try ["oof", "test"].map { try Data(contentsOf: fold.appendingPathExtension("\($0).npy")) }
        assertSucceeded(try FoldwiseProcess.train(manifest, out: out, ["--fold", "0"]))
        let second = try ["oof", "test"].map { try Data(contentsOf: fold.appendingPathExtension("\($0).npy")) }
        XCTAssertEqual(first, second)
        // A different model seed stream (another fold) must give different predictions,
        // so the equality above is not vacuous.
        assertSucceeded(try FoldwiseProcess.train(manifest, out: out, ["--fold", "1"]))
        let other = try Data(contentsOf: out.appendingPathComponent("tiny/seed0/fold1.test.npy"))
        XCTAssertNotEqual(other, second[1])
    }

    func testSeedAndModelOptionsTrainOnlyTheirTasks() throws {
        let yaml = dataset.manifestYAML().replacingOccurrences(of: "seeds: [0]", with: "seeds: [0, 5]") + """
              - name: other
                arch: {name: resnet, widths: [4], blocks: [1]}
                lr: 1e-2
                epochs: 1
                batch_size: 16

            """
        let twoByTwo = try dataset.writeManifest(yaml, file: "two.yaml")
        let out = dataset.url("runs")
        let result = try FoldwiseProcess.train(twoByTwo, out: out, ["--seed", "5", "--model", "other", "--json"])
        assertSucceeded(result)
        let folds = try XCTUnwrap(try report(result)["folds"] as? [[String: Any]])
        XCTAssertEqual(folds.map { "\($0["model"]!) \($0["seed"]!) \($0["fold"]!)" }, ["other 5 0", "other 5 1"])
        XCTAssertTrue(exists(out.appendingPathComponent("other/oof_seed5.npy")))
        XCTAssertTrue(exists(out.appendingPathComponent("folds_seed0.npy")), "every seed's folds are written up front")
        XCTAssertFalse(exists(out.appendingPathComponent("other/seed0")))
        XCTAssertFalse(exists(out.appendingPathComponent("tiny")))
        // Seeds give different splits, so the written fold assignments must differ.
        XCTAssertNotEqual(try NPY.read(out.appendingPathComponent("folds_seed0.npy")).integers,
                          try NPY.read(out.appendingPathComponent("folds_seed5.npy")).integers)
    }

    func testSelectionOutsideTheManifestExitsTwo() throws {
        let out = dataset.url("runs")
        assertBadInput(try FoldwiseProcess.train(manifest, out: out, ["--seed", "3"]), mentions: ["--seed 3", "cv.seeds"])
        assertBadInput(try FoldwiseProcess.train(manifest, out: out, ["--model", "wide"]), mentions: ["--model wide", "tiny"])
        assertBadInput(try FoldwiseProcess.train(manifest, out: out, ["--fold", "-1"]), mentions: ["--fold"])
        XCTAssertFalse(exists(out), "a refused run writes nothing")
    }

    func testMissingManifestExitsTwo() throws {
        let missing = dataset.url("nowhere.yaml")
        assertBadInput(try FoldwiseProcess.train(missing, out: dataset.url("runs")), mentions: [missing.path, "cannot read"])
    }
}
