import Foundation
import XCTest
@testable import Engine

final class ScheduleTests: XCTestCase {
    private func assertRelative(_ actual: Float, _ expected: Double, _ message: String = "",
                                file: StaticString = #filePath, line: UInt = #line) {
        let error = abs(Double(actual) - expected) / max(abs(expected), 1e-12)
        XCTAssertLessThan(error, 1e-6, "got \(actual), expected \(expected) \(message)", file: file, line: line)
    }

    private func assertSequence(_ schedule: any Schedule, _ expected: [Double],
                                file: StaticString = #filePath, line: UInt = #line) {
        for (step, value) in expected.enumerated() {
            assertRelative(schedule.lr(at: step), value, "at step \(step)", file: file, line: line)
        }
    }

    func testConstant() {
        let schedule = ConstantSchedule(3e-4)
        for step in [0, 1, 1000] { assertRelative(schedule.lr(at: step), 3e-4) }
    }

    func testStepDecaysEveryStepSize() {
        // lr = base · γ^⌊step / stepSize⌋
        let schedule = StepSchedule(baseLR: 0.1, stepSize: 3, gamma: 0.5)
        assertSequence(schedule, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
        assertRelative(schedule.lr(at: 30), 0.1 * pow(0.5, 10))
    }

    func testMultiStepDecaysAtEachMilestone() {
        // lr = base · γ^(number of milestones ≤ step); milestones given unsorted.
        let schedule = MultiStepSchedule(baseLR: 1, milestones: [5, 2], gamma: 0.1)
        assertSequence(schedule, [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01])
        assertRelative(schedule.lr(at: 10_000), 0.01)
    }

    func testCosineRestartsWithoutMultiplier() {
        // lr = min + (base - min)(1 + cos(π·t/T))/2 with t = step mod T.
        let schedule = CosineRestartsSchedule(baseLR: 0.1, minLR: 0.01, cycleLength: 4)
        func formula(_ t: Int) -> Double { 0.01 + 0.09 * (1 + cos(Double.pi * Double(t) / 4)) / 2 }
        for step in 0..<12 { assertRelative(schedule.lr(at: step), formula(step % 4), "step \(step)") }
        assertRelative(schedule.lr(at: 3), 0.01 + 0.09 * (1 - 0.5.squareRoot()) / 2)
        assertRelative(schedule.lr(at: 4), 0.1)
    }

    func testCosineRestartsCycleMultiplierMatchesTorch() {
        // T0 = 3, Tmult = 2: cycles [0,3), [3,9), [9,21); values from
        // torch CosineAnnealingWarmRestarts(T_0=3, T_mult=2, eta_min=0.001).
        let schedule = CosineRestartsSchedule(baseLR: 0.1, minLR: 0.001, cycleLength: 3, cycleMultiplier: 2)
        assertSequence(schedule, [
            0.1, 0.07525000000000001, 0.025750000000000012,
            0.1, 0.09336825748732973, 0.07525000000000001, 0.0505, 0.025750000000000012, 0.007631742512670284,
            0.1, 0.09831332840130888, 0.09336825748732973,
        ])
        XCTAssertEqual(schedule.cyclePosition(at: 21).inCycle, 0)
        XCTAssertEqual(schedule.cyclePosition(at: 21).length, 24)
        XCTAssertEqual(schedule.cyclePosition(at: 20).inCycle, 11)
        assertRelative(schedule.lr(at: 20), 0.001 + 0.099 * (1 + cos(Double.pi * 11 / 12)) / 2)
    }

    func testOneCycleMatchesTorch() {
        // torch OneCycleLR(max_lr=0.1, total_steps=10, pct_start=0.3), cosine, two phases.
        let schedule = OneCycleSchedule(maxLR: 0.1, totalSteps: 10, pctStart: 0.3)
        assertSequence(schedule, [
            0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763,
            0.06112620219362893, 0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-07,
        ])
    }

    func testOneCycleStartPeakAndEndFromTheFormula() {
        let schedule = OneCycleSchedule(maxLR: 0.01, totalSteps: 1000, pctStart: 0.25, divFactor: 10, finalDivFactor: 100)
        // Start = max/div; peak at step pct·total - 1; end = max/(div·finalDiv) at total - 1.
        assertRelative(schedule.lr(at: 0), 0.001)
        assertRelative(schedule.lr(at: 249), 0.01)
        assertRelative(schedule.lr(at: 999), 0.00001)
        assertRelative(schedule.lr(at: 5000), 0.00001)
        let warmFraction = 100.0 / 249
        assertRelative(schedule.lr(at: 100), 0.01 + (0.001 - 0.01) / 2 * (cos(Double.pi * warmFraction) + 1))
        let coolFraction = (600.0 - 249) / (999 - 249)
        assertRelative(schedule.lr(at: 600), 0.00001 + (0.01 - 0.00001) / 2 * (cos(Double.pi * coolFraction) + 1))
    }

    func testWarmupIsLinearThenHandsOverToInner() {
        let inner = StepSchedule(baseLR: 0.2, stepSize: 2, gamma: 0.5)
        let schedule = WarmupSchedule(inner: inner, warmupSteps: 4)
        // (s + 1)/4 · 0.2 during warm-up, then inner from its own step 0.
        assertSequence(schedule, [0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.1, 0.1, 0.05])
        let none = WarmupSchedule(inner: inner, warmupSteps: 0)
        assertRelative(none.lr(at: 2), 0.1)
    }

    func testOverlappingWarmupKeepsTheInnerMilestones() {
        let inner = StepSchedule(baseLR: 0.2, stepSize: 6, gamma: 0.5)
        let schedule = WarmupSchedule(inner: inner, warmupSteps: 4, overlapping: true)
        // (s + 1)/4 · inner(4) during warm-up, then inner at the same absolute step: the decay stays at step 6.
        assertSequence(schedule, [0.05, 0.1, 0.15, 0.2, 0.2, 0.2, 0.1, 0.1])
    }

    func testPlateauMatchesTorch() {
        // torch ReduceLROnPlateau(mode="min", factor=0.5, patience=2, min_lr=0.03), lr 0.1.
        // 0.89995 is not an improvement over 0.9: it misses the 1e-4 relative threshold.
        let scheduler = PlateauScheduler(initialLR: 0.1, factor: 0.5, patience: 2, minLR: 0.03)
        let metrics = [1.0, 0.9, 0.9, 0.89995, 0.95, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
        let expected = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03]
        for (metric, lr) in zip(metrics, expected) {
            assertRelative(scheduler.observe(metric), lr, "after \(metric)")
        }
        XCTAssertEqual(scheduler.best, 0.5)
    }

    func testPlateauMaxModeAndPatience() {
        let scheduler = PlateauScheduler(initialLR: 1, factor: 0.1, patience: 1, mode: .max)
        XCTAssertEqual(scheduler.observe(0.5), 1)
        XCTAssertEqual(scheduler.observe(0.6), 1)
        XCTAssertEqual(scheduler.observe(0.6), 1)   // one bad observation: still patient
        assertRelative(scheduler.observe(0.59), 0.1) // two bad: reduce, counter resets
        assertRelative(scheduler.observe(0.6), 0.1)
        assertRelative(scheduler.observe(0.6), 0.01)
        XCTAssertEqual(scheduler.badObservations, 0)
    }

    func testPlateauCooldownIgnoresBadObservations() {
        let scheduler = PlateauScheduler(initialLR: 1, factor: 0.5, patience: 0, cooldown: 2)
        XCTAssertEqual(scheduler.observe(1), 1)
        XCTAssertEqual(scheduler.observe(1), 0.5)
        XCTAssertEqual(scheduler.observe(1), 0.5)
        XCTAssertEqual(scheduler.observe(1), 0.5)
        XCTAssertEqual(scheduler.observe(1), 0.25)
    }

    func testHoldKeepsTheInnerScheduleThenAConstantRate() {
        let hold = HoldSchedule(inner: StepSchedule(baseLR: 1, stepSize: 2, gamma: 0.5), fromStep: 3, lr: 0.01)
        XCTAssertEqual((0..<6).map { hold.lr(at: $0) }, [1, 1, 0.5, 0.01, 0.01, 0.01])
    }
}
