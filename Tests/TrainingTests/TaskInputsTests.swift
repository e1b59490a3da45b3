import Datasets
import Engine
import Foundation
import Manifests
import TestSupport
@testable import Training
import XCTest

/// The leakage rules of pseudo-labelling and distillation, checked on the
/// training set a fold task is built from: pseudo rows train and never
/// validate, each appears once per epoch, and a train row's soft target is the
/// teacher's OOF row for it.
final class TaskInputsTests: XCTestCase {
    // 12 train images of 1×2×2 whose pixels are their row number; 6 test images
    // whose pixels are 100 + their row, so a batch's pixels say where it came from.
    private let spec = ImageSpec(height: 2, width: 2, channels: 1)
    private lazy var trainImages = ImageSet(spec: spec, scalars: (0..<12).flatMap { [Float](repeating: Float($0), count: 4) })
    private lazy var testImages = ImageSet(spec: spec, scalars: (0..<6).flatMap { [Float](repeating: Float(100 + $0), count: 4) })
    private let trainLabels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]
    private let folds = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]
    private let K = 3

    /// Distinct probability rows: row r is (r + 1, 2, 3) / (r + 6) plus an offset per set.
    private func probabilities(rows: Int, offset: Int) -> [Float] {
        (0..<rows).flatMap { r -> [Float] in
            let values = [Float(r + offset + 1), 2, 3]
            let sum = values.reduce(0, +)
            return values.map { $0 / sum }
        }
    }

    private var pseudo: TaskInputs { TaskInputs(pseudoRows: [4, 1, 5], pseudoLabels: [2, 0, 1]) }

    private var distilled: TaskInputs {
        var inputs = pseudo
        inputs.distillation = .init(teacherTrain: probabilities(rows: 12, offset: 0),
                                    teacherTest: probabilities(rows: 6, offset: 50), temperature: 2, alpha: 0.5)
        return inputs
    }

    private func trainingSet(_ inputs: TaskInputs, fold: Int = 1) -> TrainingSet {
        TrainingSet(trainImages: trainImages, trainLabels: trainLabels, testImages: testImages, folds: folds, fold: fold,
                    classes: K, inputs: inputs)
    }

    // MARK: validation and transport

    func testValidateAcceptsGoodInputs() throws {
        try TaskInputs.none.validate(trainRows: 12, testRows: 6, classes: 3)
        try distilled.validate(trainRows: 12, testRows: 6, classes: 3)
    }

    func testValidateNamesWhatIsWrong() {
        func message(_ inputs: TaskInputs) -> String {
            do {
                try inputs.validate(trainRows: 12, testRows: 6, classes: 3)
                return "accepted"
            } catch { return error.description }
        }
        XCTAssertEqual(message(TaskInputs(pseudoRows: [1, 2], pseudoLabels: [0])),
                       "task inputs: 2 pseudo rows but 1 pseudo labels; give one label per row")
        XCTAssertEqual(message(TaskInputs(pseudoRows: [6], pseudoLabels: [0])), "task inputs: pseudo row 6 is outside the 6 test rows")
        XCTAssertTrue(message(TaskInputs(pseudoRows: [2, 2], pseudoLabels: [0, 0])).contains("listed twice"))
        XCTAssertEqual(message(TaskInputs(pseudoRows: [2], pseudoLabels: [3])), "task inputs: pseudo label 3 is outside 0..<3")
        var inputs = distilled
        inputs.distillation?.teacherTrain.removeLast()
        XCTAssertEqual(message(inputs), "task inputs: the teacher train probabilities have 35 values; 12 rows × 3 classes need 36")
        inputs = distilled
        inputs.distillation?.teacherTest[4] = 0.9
        XCTAssertTrue(message(inputs).hasPrefix("task inputs: teacher test row 1 is not a probability row"), message(inputs))
        inputs = distilled
        inputs.distillation?.temperature = 0
        XCTAssertEqual(message(inputs), "task inputs: distillation temperature 0.0 must be positive")
        inputs = distilled
        inputs.distillation?.alpha = 1.5
        XCTAssertEqual(message(inputs), "task inputs: distillation alpha 1.5 must be in [0, 1]")
    }

    func testHeaderAndArraysRebuildTheInputs() throws {
        let inputs = distilled
        let header = try JSONDecoder().decode(TaskInputs.Header.self, from: JSONEncoder().encode(inputs.header))
        XCTAssertEqual(header, TaskInputs.Header(pseudoRows: [4, 1, 5], pseudoLabels: [2, 0, 1], temperature: 2, alpha: 0.5))
        let rebuilt = try TaskInputs(header: header, teacherTrain: inputs.distillation?.teacherTrain,
                                     teacherTest: inputs.distillation?.teacherTest)
        XCTAssertEqual(rebuilt, inputs)
        XCTAssertEqual(try TaskInputs(header: pseudo.header, teacherTrain: nil, teacherTest: nil), pseudo)
        XCTAssertThrowsError(try TaskInputs(header: header, teacherTrain: nil, teacherTest: nil))
        XCTAssertEqual(try JSONDecoder().decode(TaskInputs.self, from: JSONEncoder().encode(inputs)), inputs)
    }

    // MARK: the training set

    func testWithoutInputsTheTrainingSetIsTheFoldSplit() {
        let set = trainingSet(.none)
        XCTAssertTrue(set.images === trainImages, "no copy of the train images without pseudo rows")
        XCTAssertEqual(set.rows, [0, 2, 3, 5, 6, 8, 9, 11])
        XCTAssertEqual(set.labels, [0, 2, 0, 2, 0, 2, 0, 2])
        XCTAssertEqual(set.validationRows, [1, 4, 7, 10])
        XCTAssertNil(set.softTargets)
        let batch = set.loader(batchSize: 4, shuffleSeed: 3, augmentation: nil, augmentSeed: 0).batch(0)
        guard case .classes(let labels) = set.targets(for: batch) else { return XCTFail("plain tasks train on class targets") }
        XCTAssertEqual(labels, batch.labels)
    }

    func testPseudoRowsTrainAndNeverValidate() {
        for fold in 0..<3 {
            let plain = trainingSet(.none, fold: fold), withPseudo = trainingSet(pseudo, fold: fold)
            XCTAssertEqual(withPseudo.validationRows, plain.validationRows, "fold \(fold)")
            XCTAssertEqual(withPseudo.rows, plain.rows + [12, 13, 14])
            XCTAssertEqual(withPseudo.labels, plain.labels + [2, 0, 1])
            XCTAssertTrue(withPseudo.validationRows.allSatisfy { $0 < 12 }, "a validation row is a train row")
        }
        let set = trainingSet(pseudo)
        XCTAssertEqual(set.images.count, 15)
        // Appended images are the pseudo rows' test images, in pseudoRows order.
        XCTAssertEqual((12..<15).map { set.images.image($0).first }, [104, 101, 105])
        XCTAssertEqual(Array(set.images.image(7)), [7, 7, 7, 7])
    }

    func testEveryPseudoRowIsSeenOncePerEpoch() {
        let set = trainingSet(pseudo)
        // 8 train rows + 3 pseudo rows = 11 rows; batches of 11 keep them all.
        for epoch in 0..<4 {
            let loader = set.loader(batchSize: 11, shuffleSeed: UInt64(epoch) &* 977, augmentation: nil, augmentSeed: 0)
            var seen: [Float: Int] = [:]
            for batch in loader {
                for (slot, row) in batch.rows.enumerated() {
                    let pixel = batch.images[slot * 4]
                    seen[pixel, default: 0] += 1
                    XCTAssertEqual(batch.labels[slot], set.labels[set.rows.firstIndex(of: row)!])
                }
            }
            XCTAssertEqual(seen.filter { $0.key >= 100 }, [104: 1, 101: 1, 105: 1], "epoch \(epoch)")
            XCTAssertEqual(Set(seen.keys.filter { $0 < 100 }), [0, 2, 3, 5, 6, 8, 9, 11], "epoch \(epoch)")
        }
    }

    func testSoftTargetsAreTheTeachersOOFOnTrainRowsAndItsTestRowsOnPseudoRows() {
        let inputs = distilled
        let teacher = inputs.distillation!
        let set = trainingSet(inputs)
        for batch in set.loader(batchSize: 4, shuffleSeed: 9, augmentation: nil, augmentSeed: 0) {
            guard case .dense(let stacked) = set.targets(for: batch) else { return XCTFail("distillation targets are dense") }
            let n = batch.rows.count
            XCTAssertEqual(stacked.shape, [2, n, K])
            for (slot, image) in batch.rows.enumerated() {
                let oneHot = Array(stacked.scalars[(slot * K)..<((slot + 1) * K)])
                let soft = Array(stacked.scalars[((n + slot) * K)..<((n + slot + 1) * K)])
                XCTAssertEqual(oneHot.firstIndex(of: 1), batch.labels[slot])
                if image < 12 {
                    XCTAssertEqual(soft, Array(teacher.teacherTrain[(image * K)..<((image + 1) * K)]), "train row \(image)")
                } else {
                    let testRow = inputs.pseudoRows[image - 12]
                    XCTAssertEqual(soft, Array(teacher.teacherTest[(testRow * K)..<((testRow + 1) * K)]), "test row \(testRow)")
                }
            }
        }
        XCTAssertTrue(inputs.loss(default: CrossEntropyLoss()) is DistillationLoss)
        XCTAssertTrue(pseudo.loss(default: CrossEntropyLoss()) is CrossEntropyLoss)
    }
}

/// The same rules through `FoldRunner` on 100 digits with 20 test images.
final class FoldRunnerInputsTests: XCTestCase {
    static let model = "{name: tiny, arch: {name: resnet, widths: [8], blocks: [1]}, optimizer: adam, lr: 3e-3, epochs: 2, batch_size: 16}"

    private func runner() throws -> FoldRunner {
        let url = try TrainingDataset.temporaryDirectory("foldwise-inputs")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        let dataset = try TrainingDataset.digits(in: url, trainRows: 100, testRows: 20)
        let manifest = try Manifest.load(dataset.writeManifest(imageSize: 8, models: [Self.model]))
        return FoldRunner(manifest: manifest, data: try ExperimentData(manifest: manifest, threads: 2))
    }

    private func run(_ runner: FoldRunner, _ inputs: TaskInputs, batches: inout Int) -> FoldResult {
        let result = runner.run(FoldTask(model: "tiny", seed: 0, fold: 2), inputs: inputs, progress: { event in
            if case .batch = event { batches += 1 }
        }, isCancelled: { false })
        return result!
    }

    func testPseudoRowsJoinTrainingAndLeaveTheOOFRowsAlone() throws {
        let runner = try runner()
        var plainBatches = 0, pseudoBatches = 0
        let plain = run(runner, .none, batches: &plainBatches)
        let pseudo = run(runner, TaskInputs(pseudoRows: Array(0..<16), pseudoLabels: (0..<16).map { $0 % 10 }),
                         batches: &pseudoBatches)
        XCTAssertEqual(pseudo.validationRows, plain.validationRows)
        XCTAssertEqual(pseudo.oof.shape, plain.oof.shape)
        XCTAssertEqual(pseudo.test.shape, plain.test.shape)
        // 80 train rows are 5 batches of 16 an epoch; 16 pseudo rows add one.
        XCTAssertEqual(plainBatches, 10)
        XCTAssertEqual(pseudoBatches, 12)
        XCTAssertNotEqual(pseudo.oof.scalars, plain.oof.scalars, "the pseudo rows changed what the model learned")
    }

    /// With α = 0 the distillation loss is cross-entropy on the hard labels,
    /// computed the same way: the run must match a plain run bit for bit, which
    /// shows the runner draws the same batches with and without a teacher.
    func testDistillationWithoutTheSoftTermMatchesAPlainRun() throws {
        let runner = try runner()
        let K = runner.data.classes
        let uniformTrain = [Float](repeating: 1 / Float(K), count: runner.data.trainImages.count * K)
        let uniformTest = [Float](repeating: 1 / Float(K), count: runner.data.testImages.count * K)
        func distilled(alpha: Float) -> TaskInputs {
            TaskInputs(pseudoRows: [], pseudoLabels: [],
                       distillation: .init(teacherTrain: uniformTrain, teacherTest: uniformTest, temperature: 3, alpha: alpha))
        }
        var batches = 0
        let plain = run(runner, .none, batches: &batches)
        let hardOnly = run(runner, distilled(alpha: 0), batches: &batches)
        let softOnly = run(runner, distilled(alpha: 1), batches: &batches)
        XCTAssertEqual(hardOnly.oof.scalars, plain.oof.scalars)
        XCTAssertEqual(hardOnly.test.scalars, plain.test.scalars)
        XCTAssertEqual(plain.test.scalars, runner.run(FoldTask(model: "tiny", seed: 0, fold: 2)).test.scalars)
        XCTAssertNotEqual(softOnly.oof.scalars, plain.oof.scalars)
    }
}
