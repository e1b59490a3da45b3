import Engine
import TestSupport
import XCTest

/// The engine side of the training tricks: the mean teacher's consistency loss
/// and gradient accumulation.
final class TrainingTricksEngineTests: XCTestCase {
    func testConsistencyLossGradient() {
        var random = SeededRandom(seed: 11)
        let logits = random.tensor([4, 5], scale: 2)
        let teacher = softmax(random.tensor([4, 5], scale: 2))
        let result = checkLossGradients(ConsistencyLoss(weight: 3), logits: logits, targets: .dense(teacher), epsilon: 1e-2)
        XCTAssertLessThan(result.error, 1e-2, "\(result)")
    }

    func testConsistencyLossIsZeroWhenStudentAgreesWithTeacher() {
        var random = SeededRandom(seed: 12)
        let logits = random.tensor([3, 4])
        let (value, dLogits) = ConsistencyLoss().evaluate(logits: logits, targets: .dense(softmax(logits)))
        XCTAssertEqual(value, 0, accuracy: 1e-7)
        XCTAssertTrue(dLogits.scalars.allSatisfy { abs($0) < 1e-7 })
    }

    /// Two half batches accumulated give the update of the whole batch (a network
    /// without batch statistics, a mean-reduced loss).
    func testAccumulatingTwoHalfBatchesEqualsOneWholeBatch() {
        var random = SeededRandom(seed: 13)
        let images = random.tensor([8, 1, 2, 2])
        let labels = (0..<8).map { $0 % 3 }
        func makeTrainer(accumulation: Int) -> Trainer {
            var weights = SeededRandom(seed: 14)
            let model = Model(architecture: "linear", network: Sequential([Flatten(), Linear(name: "fc", inFeatures: 4, outFeatures: 3, random: &weights)]),
                              classes: 3)
            return Trainer(model: model, loss: CrossEntropyLoss(), optimizer: SGD(momentum: 0.9),
                           policy: .schedule(ConstantSchedule(0.1)), accumulationSteps: accumulation)
        }
        let whole = makeTrainer(accumulation: 1), halves = makeTrainer(accumulation: 2)
        for _ in 0..<3 {
            whole.trainStep(images: images, targets: .classes(labels))
            for half in [0..<4, 4..<8] {
                let part = Tensor(shape: [4, 1, 2, 2], scalars: Array(images.scalars[(half.lowerBound * 4)..<(half.upperBound * 4)]))
                halves.trainStep(images: part, targets: .classes(Array(labels[half])))
            }
        }
        XCTAssertEqual(whole.step, 3)
        XCTAssertEqual(halves.step, 3)
        XCTAssertEqual(halves.pendingBatches, 0)
        for (a, b) in zip(whole.model.parameters.all, halves.model.parameters.all) {
            for i in 0..<a.value.count { XCTAssertEqual(a.value[i], b.value[i], accuracy: 1e-5, a.name) }
        }
    }

    /// A group cut short by the end of an epoch steps on its own mean gradient:
    /// one left-over batch moves the weights as a plain step on it would.
    func testFlushStepsOnTheMeanOfALeftOverGroup() {
        func makeTrainer(accumulation: Int) -> Trainer {
            var weights = SeededRandom(seed: 15)
            let model = Model(architecture: "linear", network: Sequential([Flatten(), Linear(name: "fc", inFeatures: 4, outFeatures: 2, random: &weights)]),
                              classes: 2)
            return Trainer(model: model, loss: CrossEntropyLoss(), optimizer: SGD(), policy: .schedule(ConstantSchedule(0.1)),
                           accumulationSteps: accumulation)
        }
        var random = SeededRandom(seed: 16)
        let images = random.tensor([2, 1, 2, 2])
        let accumulating = makeTrainer(accumulation: 4), plain = makeTrainer(accumulation: 1)
        accumulating.trainStep(images: images, targets: .classes([0, 1]))
        XCTAssertEqual(accumulating.step, 0)
        XCTAssertTrue(accumulating.flush())
        XCTAssertEqual(accumulating.step, 1)
        plain.trainStep(images: images, targets: .classes([0, 1]))
        for (a, b) in zip(accumulating.model.parameters.all, plain.model.parameters.all) {
            for i in 0..<a.value.count { XCTAssertEqual(a.value[i], b.value[i], accuracy: 1e-6, a.name) }
        }
        XCTAssertFalse(accumulating.flush(), "nothing left to step on")
    }
}
