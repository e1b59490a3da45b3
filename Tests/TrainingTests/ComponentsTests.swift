import Engine
import Manifests
@testable import Training
import XCTest

/// The manifest's model settings become the right engine objects, with
/// epoch-based schedule settings converted to optimizer steps.
final class ComponentsTests: XCTestCase {
    private struct NotASchedule: Error {}

    // MARK: schedules (10 steps per epoch throughout)

    private func schedule(_ spec: ScheduleSpec, lr: Float = 0.1, epochs: Int = 6, stepsPerEpoch: Int = 10,
                          file: StaticString = #filePath, line: UInt = #line) throws -> any Schedule {
        let policy = Components.policy(spec, lr: lr, epochs: epochs, stepsPerEpoch: stepsPerEpoch)
        guard case .schedule(let schedule) = policy else {
            XCTFail("expected a step schedule, got \(policy)", file: file, line: line)
            throw NotASchedule()
        }
        return schedule
    }

    private func assertRates(_ schedule: any Schedule, _ expected: [Int: Float],
                             file: StaticString = #filePath, line: UInt = #line) {
        for (step, rate) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(schedule.lr(at: step), rate, accuracy: rate * 1e-5 + 1e-12, "step \(step)", file: file, line: line)
        }
    }

    func testConstantKeepsTheRate() throws {
        let constant = try schedule(ScheduleSpec(name: .constant))
        XCTAssertTrue(constant is ConstantSchedule)
        assertRates(constant, [0: 0.1, 37: 0.1, 59: 0.1])
    }

    func testStepEpochsBecomeSteps() throws {
        let step = try schedule(ScheduleSpec(name: .step, stepEpochs: 2, gamma: 0.5))
        XCTAssertEqual((step as? StepSchedule)?.stepSize, 20)
        assertRates(step, [0: 0.1, 19: 0.1, 20: 0.05, 39: 0.05, 40: 0.025])
    }

    func testMultiStepMilestonesBecomeSteps() throws {
        let multi = try schedule(ScheduleSpec(name: .multistep, milestones: [2, 5], gamma: 0.1))
        XCTAssertEqual((multi as? MultiStepSchedule)?.milestones, [20, 50])
        assertRates(multi, [19: 0.1, 20: 0.01, 49: 0.01, 50: 0.001])
    }

    func testCosineCycleEpochsBecomeSteps() throws {
        let spec = ScheduleSpec(name: .cosine, minLR: 0.02, cycleEpochs: 2, cycleMultiplier: 2)
        let cosine = try XCTUnwrap(try schedule(spec, lr: 1) as? CosineRestartsSchedule)
        XCTAssertEqual(cosine.cycleLength, 20)
        XCTAssertEqual(cosine.cycleMultiplier, 2)
        // Halfway through the first cycle the rate is midway between max and min; then it restarts.
        assertRates(cosine, [0: 1, 10: 0.51, 20: 1, 40: 0.51])
        // Without cycle_epochs one cycle spans the whole run.
        let whole = try XCTUnwrap(try schedule(ScheduleSpec(name: .cosine), epochs: 6) as? CosineRestartsSchedule)
        XCTAssertEqual(whole.cycleLength, 60)
    }

    func testOneCycleSpansTheRun() throws {
        let spec = ScheduleSpec(name: .onecycle, pctStart: 0.25, divFactor: 10, finalDivFactor: 100)
        let oneCycle = try XCTUnwrap(try schedule(spec, lr: 1, epochs: 4) as? OneCycleSchedule)
        XCTAssertEqual(oneCycle.totalSteps, 40)
        // Starts at lr/div, peaks at step 0.25·40 − 1 = 9, ends at lr/div/final_div.
        assertRates(oneCycle, [0: 0.1, 9: 1, 39: 0.001])
    }

    func testOneCycleOfASingleStepDoesNotTrap() throws {
        // A fold whose training rows fit in one batch, for one epoch: one step in all.
        let single = try XCTUnwrap(try schedule(ScheduleSpec(name: .onecycle), lr: 1, epochs: 1, stepsPerEpoch: 1)
            as? OneCycleSchedule)
        XCTAssertEqual(single.totalSteps, 2)
        XCTAssertTrue((0.04...1).contains(single.lr(at: 0)), "\(single.lr(at: 0))")
        let warm = Components.policy(ScheduleSpec(name: .onecycle, warmupEpochs: 1), lr: 1, epochs: 2, stepsPerEpoch: 1)
        guard case .schedule(let schedule) = warm else { return XCTFail("expected a schedule, got \(warm)") }
        XCTAssertEqual((schedule as? WarmupSchedule)?.warmupSteps, 1)
        XCTAssertTrue((0.04...1).contains(schedule.lr(at: 1)), "\(schedule.lr(at: 1))")
    }

    func testWarmupEpochsPutAWarmupInFront() throws {
        let warm = try schedule(ScheduleSpec(name: .constant, warmupEpochs: 1))
        let warmup = try XCTUnwrap(warm as? WarmupSchedule)
        XCTAssertEqual(warmup.warmupSteps, 10)
        XCTAssertTrue(warmup.inner is ConstantSchedule)
        assertRates(warm, [0: 0.01, 4: 0.05, 9: 0.1, 10: 0.1, 59: 0.1])
        // A fractional warmup rounds to whole steps.
        let half = try XCTUnwrap(try schedule(ScheduleSpec(name: .step, stepEpochs: 2, warmupEpochs: 0.5)) as? WarmupSchedule)
        XCTAssertEqual(half.warmupSteps, 5)
        // The warmup overlaps the schedule: the decay stays at epoch 2 (step 20).
        XCTAssertTrue(half.overlapping)
        assertRates(half, [5: 0.1, 19: 0.1, 20: 0.01])
    }

    /// Cosine restarts stay at whole cycles with a warmup (it replaces the start
    /// of the first cycle); one-cycle runs its whole shape after the warmup.
    func testWarmupKeepsCosineRestartsAndShortensOneCycle() throws {
        let spec = ScheduleSpec(name: .cosine, cycleEpochs: 4, warmupEpochs: 1)
        let cosine = try XCTUnwrap(try schedule(spec, lr: 1, epochs: 12) as? WarmupSchedule)
        XCTAssertEqual(cosine.warmupSteps, 10)
        XCTAssertEqual((cosine.inner as? CosineRestartsSchedule)?.cycleLength, 40)
        let atWarmupEnd = Float(0.5 * (1 + cos(Double.pi * 10 / 40)))
        assertRates(cosine, [0: atWarmupEnd / 10, 9: atWarmupEnd, 10: atWarmupEnd, 40: 1, 80: 1])
        let oneCycle = try XCTUnwrap(try schedule(ScheduleSpec(name: .onecycle, warmupEpochs: 1), lr: 1) as? WarmupSchedule)
        XCTAssertEqual((oneCycle.inner as? OneCycleSchedule)?.totalSteps, 50)
    }

    func testPlateauKeepsItsSettingsAndWarmup() throws {
        let spec = ScheduleSpec(name: .plateau, patience: 3, factor: 0.5, minLR: 1e-4, warmupEpochs: 1.5)
        let policy = Components.policy(spec, lr: 0.2, epochs: 6, stepsPerEpoch: 10)
        guard case .plateau(let plateau, let warmupSteps) = policy else { return XCTFail("expected .plateau, got \(policy)") }
        XCTAssertEqual(warmupSteps, 15)
        XCTAssertEqual(plateau.lr, 0.2, accuracy: 1e-7)
        XCTAssertEqual(plateau.factor, 0.5, accuracy: 1e-7)
        XCTAssertEqual(plateau.patience, 3)
        XCTAssertEqual(plateau.minLR, 1e-4, accuracy: 1e-9)
        let noWarmup = Components.policy(ScheduleSpec(name: .plateau), lr: 0.2, epochs: 6, stepsPerEpoch: 10)
        guard case .plateau(_, let none) = noWarmup else { return XCTFail("expected .plateau, got \(noWarmup)") }
        XCTAssertEqual(none, 0)
    }

    // MARK: losses

    func testLossNamesMapToTheirTypesWithOptions() throws {
        let crossEntropy = try XCTUnwrap(
            Components.loss(LossSpec(name: .crossEntropy, labelSmoothing: 0.1, classWeights: [1, 2])) as? CrossEntropyLoss)
        XCTAssertEqual(crossEntropy.labelSmoothing, 0.1)
        XCTAssertEqual(crossEntropy.classWeights, [1, 2])
        XCTAssertTrue(Components.loss(LossSpec(name: .bce)) is BCEWithLogitsLoss)
        XCTAssertEqual((Components.loss(LossSpec(name: .focal, gamma: 1.5)) as? FocalLoss)?.gamma, 1.5)
        XCTAssertEqual((Components.loss(LossSpec(name: .ohem, keepFraction: 0.25)) as? OHEMLoss)?.keepFraction, 0.25)
    }

    // MARK: optimizers

    func testSGDKeepsMomentumNesterovAndDecay() throws {
        let sgd = try XCTUnwrap(
            Components.optimizer(OptimizerSpec(name: .sgd, momentum: 0.8, nesterov: true, weightDecay: 1e-3)) as? SGD)
        XCTAssertEqual(sgd.momentum, 0.8)
        XCTAssertTrue(sgd.nesterov)
        XCTAssertEqual(sgd.weightDecay, 1e-3)
    }

    /// Adam's betas and epsilon are private, so they are checked through two
    /// updates against a hand-written Adam in double precision.
    func testAdamAndAdamWUseTheirBetasEpsilonAndDecay() throws {
        let spec = (beta1: Float(0.5), beta2: Float(0.75), epsilon: Float(0.05), weightDecay: Float(0.1))
        for name in [OptimizerName.adam, .adamw] {
            let optimizer = Components.optimizer(OptimizerSpec(name: name, weightDecay: spec.weightDecay, beta1: spec.beta1,
                                                               beta2: spec.beta2, epsilon: spec.epsilon))
            XCTAssertTrue(name == .adam ? optimizer is Adam : optimizer is AdamW)
            let parameter = Parameter(name: "w", value: Tensor(shape: [2], scalars: [1, -2]))
            let gradients: [[Double]] = [[0.3, -0.1], [-0.2, 0.4]]
            var reference = [1.0, -2.0]
            var (m, v) = ([0.0, 0.0], [0.0, 0.0])
            let (b1, b2, eps, decay, lr) = (0.5, 0.75, 0.05, 0.1, 0.01)
            for (t, gradient) in gradients.enumerated() {
                parameter.grad = Tensor(shape: [2], scalars: gradient.map(Float.init))
                optimizer.update(parameter, lr: Float(lr), step: t + 1)
                for i in 0..<2 {
                    if name == .adamw { reference[i] *= 1 - lr * decay }
                    let g = gradient[i] + (name == .adam ? decay * reference[i] : 0)
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    let (mHat, vHat) = (m[i] / (1 - pow(b1, Double(t + 1))), v[i] / (1 - pow(b2, Double(t + 1))))
                    reference[i] -= lr * mHat / (vHat.squareRoot() + eps)
                }
            }
            for i in 0..<2 {
                XCTAssertEqual(Double(parameter.value[i]), reference[i], accuracy: 1e-6, "\(name) coordinate \(i)")
            }
        }
        XCTAssertEqual((Components.optimizer(OptimizerSpec(name: .adamw)) as? AdamW)?.weightDecay, 0.01)
        XCTAssertEqual((Components.optimizer(OptimizerSpec(name: .adam)) as? Adam)?.weightDecay, 0)
    }

    // MARK: architectures

    /// The residual network of a spec that must describe one.
    private func resNet(_ spec: ArchSpec, file: StaticString = #filePath, line: UInt = #line) -> ResNetConfig? {
        guard case .resnet(let config) = Components.architecture(spec) else {
            XCTFail("\(spec.name) should be a residual network", file: file, line: line)
            return nil
        }
        return config
    }

    func testEveryManifestNameIsRegistered() {
        XCTAssertEqual(ArchSpec.names, ModelRegistry.names)
        XCTAssertEqual(PoolKind.allCases.map(\.rawValue), HeadConfig.Pooling.allCases.map(\.rawValue))
    }

    func testNamedArchitecturesUseTheRegistryDefaults() {
        XCTAssertEqual(Components.architecture(ArchSpec(name: "resnet_ref")), .resnet(.resnetRef))
        XCTAssertEqual(Components.architecture(ArchSpec(name: "resnet18")), .resnet(.resnet18))
        XCTAssertEqual(Components.architecture(ArchSpec(name: "resnet34")), .resnet(.resnet34))
        XCTAssertEqual(Components.architecture(ArchSpec(name: "se_resnext")), .resnet(.seResNeXt))
        XCTAssertEqual(Components.architecture(ArchSpec(name: "efficientnet_b0")), .efficientNet(.b0))
        for name in ArchSpec.names where !["resnet", "resnext"].contains(name) {
            XCTAssertEqual(Components.architecture(ArchSpec(name: name)), ModelRegistry.defaultArchitecture(for: name), name)
        }
        // A named architecture keeps its own stem whatever the spec's default says.
        XCTAssertEqual(resNet(ArchSpec(name: "resnet18", stem: .conv3))?.stem, .conv7Pool)
    }

    func testCustomResNetTakesWidthsBlocksAndStem() {
        let config = resNet(ArchSpec(name: "resnet", widths: [16, 24, 48], blocks: [1, 2, 1], stem: .conv7Pool))
        XCTAssertEqual(config, ResNetConfig(widths: [16, 24, 48], blocks: [1, 2, 1], stem: .conv7Pool))
        XCTAssertEqual(resNet(ArchSpec(name: "resnet", widths: [8], blocks: [1]))?.stem, .conv3)
    }

    func testCustomResNeXtTakesCardinalityAndBaseWidth() {
        let config = resNet(ArchSpec(name: "resnext", widths: [16, 32], blocks: [1, 1], squeezeExcitation: true,
                                     cardinality: 8, baseWidth: 8))
        XCTAssertEqual(config, ResNetConfig(widths: [16, 32], blocks: [1, 1], block: .bottleneck(cardinality: 8, baseWidth: 8),
                                            squeezeExcitation: true))
        XCTAssertEqual(resNet(ArchSpec(name: "resnext", widths: [16], blocks: [1]))?.block,
                       .bottleneck(cardinality: ArchSpec.defaultCardinality, baseWidth: ArchSpec.defaultBaseWidth))
    }

    func testSqueezeExcitationIBNAndDropoutAreCarriedOver() {
        let reference = resNet(ArchSpec(name: "resnet_ref", squeezeExcitation: true, dropout: 0.25, ibn: true))
        XCTAssertEqual(reference, ResNetConfig(widths: [32, 64], blocks: [2, 2], squeezeExcitation: true, ibn: true,
                                               dropout: 0.25))
        let custom = resNet(ArchSpec(name: "resnet", widths: [8], blocks: [1], squeezeExcitation: true, dropout: 0.5))
        XCTAssertEqual(custom?.squeezeExcitation, true)
        XCTAssertEqual(custom?.ibn, false)
        XCTAssertEqual(custom?.zeroInitResidual, false)
        XCTAssertEqual(resNet(ArchSpec(name: "resnext", widths: [16], blocks: [1], zeroInitResidual: true))?.zeroInitResidual, true)
        XCTAssertEqual(custom?.head.dropout, 0.5)
        XCTAssertEqual(resNet(ArchSpec(name: "se_resnext"))?.squeezeExcitation, true, "se_resnext always has SE")
    }

    func testEfficientNetTakesItsMultipliers() {
        let config = Components.architecture(ArchSpec(name: "efficientnet_b0", dropout: 0.2, widthMult: 0.5, depthMult: 0.75))
        XCTAssertEqual(config, .efficientNet(EfficientNetConfig(widthMultiplier: 0.5, depthMultiplier: 0.75, dropout: 0.2)))
    }

    func testHeadKeysBecomeTheHeadOfEveryArchitecture() {
        for name in ["resnet_ref", "se_resnext", "efficientnet_b0"] {
            XCTAssertEqual(Components.architecture(ArchSpec(name: name)).head, HeadConfig(), name)
            let head = Components.architecture(ArchSpec(name: name, dropout: 0.3, pool: .gem, neck: .bnneck)).head
            XCTAssertEqual(head, HeadConfig(pooling: .gem, bnneck: true, dropout: 0.3), name)
            XCTAssertNil(head.cosineScale, "the loss, not the arch section, switches the cosine classifier on")
        }
        for pool in PoolKind.allCases {
            XCTAssertEqual(Components.architecture(ArchSpec(name: "resnet_ref", pool: pool)).head.pooling.rawValue, pool.rawValue)
        }
    }
}
