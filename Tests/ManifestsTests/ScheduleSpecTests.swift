import XCTest
@testable import Manifests

final class ScheduleSpecTests: XCTestCase {
    func testDefaultIsConstant() throws {
        XCTAssertEqual(try Fixture.model([]).schedule,
                       ScheduleSpec(name: .constant, stepEpochs: nil, milestones: nil, gamma: 0.1, patience: 2,
                                    factor: 0.1, minLR: 0, cycleEpochs: nil, cycleMultiplier: 1, warmupEpochs: 0,
                                    pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4))
    }

    func testShorthandsAndCosineCycleDefault() throws {
        XCTAssertEqual(try Fixture.model(["schedule: onecycle"]).schedule, ScheduleSpec(name: .onecycle))
        XCTAssertEqual(try Fixture.model(["schedule: plateau"]).schedule, ScheduleSpec(name: .plateau))
        XCTAssertEqual(try Fixture.model(["schedule: cosine"]).schedule, ScheduleSpec(name: .cosine, cycleEpochs: 3))
    }

    func testEachScheduleReadsItsKeys() throws {
        XCTAssertEqual(try Fixture.model(["schedule: {name: step, step_epochs: 2, gamma: 0.5}"]).schedule,
                       ScheduleSpec(name: .step, stepEpochs: 2, gamma: 0.5))
        XCTAssertEqual(try Fixture.model(["schedule: {name: multistep, milestones: [1, 2]}"]).schedule,
                       ScheduleSpec(name: .multistep, milestones: [1, 2]))
        XCTAssertEqual(try Fixture.model(["schedule: {name: plateau, patience: 0, factor: 0.5, min_lr: 1e-6}"]).schedule,
                       ScheduleSpec(name: .plateau, patience: 0, factor: 0.5, minLR: 1e-6))
        let cosine = "schedule: {name: cosine, cycle_epochs: 1, cycle_multiplier: 2, min_lr: 1e-5, warmup_epochs: 0.5}"
        XCTAssertEqual(try Fixture.model([cosine]).schedule,
                       ScheduleSpec(name: .cosine, minLR: 1e-5, cycleEpochs: 1, cycleMultiplier: 2, warmupEpochs: 0.5))
        let onecycle = "schedule: {name: onecycle, pct_start: 0.25, div_factor: 10, final_div_factor: 100}"
        XCTAssertEqual(try Fixture.model([onecycle]).schedule,
                       ScheduleSpec(name: .onecycle, pctStart: 0.25, divFactor: 10, finalDivFactor: 100))
        XCTAssertEqual(try Fixture.model(["schedule: {name: constant, warmup_epochs: 1}"]).schedule,
                       ScheduleSpec(warmupEpochs: 1))
    }

    func testKeyOfAnotherScheduleSaysWhichUsesIt() {
        assertManifestError(Fixture.yaml(model: ["schedule:", "  name: cosine", "  gamma: 0.5"]), line: 17,
                            keyPath: "models[0].schedule.gamma",
                            message: "`gamma` does not apply to the `cosine` schedule; only the `step`, `multistep` schedules use it",
                            fix: "remove `gamma`, or set `name` to one of `step`, `multistep`")
        assertManifestError(Fixture.yaml(model: ["schedule: {name: constant, pct_start: 0.3}"]), line: 15,
                            keyPath: "models[0].schedule.pct_start", message: "only the `onecycle` schedule uses it")
        assertManifestError(Fixture.yaml(model: ["schedule: {name: cosine, warmup_epoch: 1}"]), line: 15,
                            keyPath: "models[0].schedule.warmup_epoch", message: "unknown key `warmup_epoch`",
                            fix: "did you mean `warmup_epochs`?")
    }

    func testRequiredKeysOfStepAndMultistep() {
        assertManifestError(Fixture.yaml(model: ["schedule: step"]), line: 15, keyPath: "models[0].schedule",
                            message: "the `step` schedule needs `step_epochs`", fix: "{name: step, step_epochs: 4}")
        assertManifestError(Fixture.yaml(model: ["schedule: {name: multistep}"]), line: 15,
                            keyPath: "models[0].schedule.milestones", message: "the `multistep` schedule needs `milestones`")
    }

    func testRanges() {
        let cases: [(String, String, String)] = [
            ("{name: multistep, milestones: [2, 1]}", "models[0].schedule.milestones", "strictly increasing"),
            ("{name: multistep, milestones: [1, 3]}", "models[0].schedule.milestones[1]", "in 1..<epochs (3), found 3"),
            ("{name: step, step_epochs: 0}", "models[0].schedule.step_epochs", "must be >= 1"),
            ("{name: step, step_epochs: 1, gamma: 0}", "models[0].schedule.gamma", "must be in 0<..1"),
            ("{name: plateau, factor: 1}", "models[0].schedule.factor", "must be in 0<..<1"),
            ("{name: plateau, patience: -1}", "models[0].schedule.patience", "must be >= 0"),
            ("{name: plateau, min_lr: -1}", "models[0].schedule.min_lr", "must be >= 0"),
            ("{name: cosine, cycle_multiplier: 0}", "models[0].schedule.cycle_multiplier", "must be >= 1"),
            ("{name: cosine, cycle_epochs: 1.5}", "models[0].schedule.cycle_epochs", "expected an integer"),
            ("{name: onecycle, pct_start: 1}", "models[0].schedule.pct_start", "must be in 0<..<1"),
            ("{name: onecycle, div_factor: 0.5}", "models[0].schedule.div_factor", "must be >= 1"),
            ("{name: onecycle, warmup_epochs: 3}", "models[0].schedule.warmup_epochs", "in 0..<epochs (3)"),
        ]
        for (value, keyPath, message) in cases {
            assertManifestError(Fixture.yaml(model: ["schedule: \(value)"]), line: 15, keyPath: keyPath, message: message)
        }
    }

    func testUnknownScheduleName() {
        assertManifestError(Fixture.yaml(model: ["schedule: cosin"]), line: 15, keyPath: "models[0].schedule",
                            message: "unknown schedule `cosin`", fix: "did you mean `cosine`?")
    }
}
