import XCTest
@testable import Manifests

final class PredictionSetSpecsTests: XCTestCase {
    func testSnapshotsSetTheCosineCycles() throws {
        let model = try Fixture.model(["schedule: {name: cosine, min_lr: 1e-6}", "snapshots: {cycles: 3, keep: 2}"])
        XCTAssertEqual(model.snapshots, SnapshotSpec(cycles: 3, keep: 2))
        XCTAssertEqual(model.schedule.cycleEpochs, 1)
        XCTAssertEqual(try Fixture.model(["schedule: cosine", "snapshots: {cycles: 3}"]).snapshots?.keep, 3, "keep defaults to every cycle")
    }

    func testSnapshotErrorsNameTheKeyAndTheFix() {
        assertManifestError(Fixture.yaml(model: ["schedule: cosine", "snapshots: {cycles: 2}"]), line: 16,
                            keyPath: "models[0].snapshots.cycles", message: "`cycles` 2 does not divide the model's 3 epochs")
        assertManifestError(Fixture.yaml(model: ["snapshots: {cycles: 3}"]), line: 15, keyPath: "models[0].snapshots",
                            message: "snapshots need cosine annealing", fix: "schedule: {name: cosine}")
        assertManifestError(Fixture.yaml(model: ["schedule: cosine", "snapshots: {cycles: 3, keep: 4}"]), line: 16,
                            keyPath: "models[0].snapshots.keep", message: "`keep` must be 1...3")
        assertManifestError(Fixture.yaml(model: ["schedule: {name: cosine, cycle_epochs: 2}", "snapshots: {cycles: 3}"]), line: 16,
                            keyPath: "models[0].snapshots", message: "cycle_epochs 2 disagrees with 3 snapshot cycles")
        assertManifestError(Fixture.yaml(model: ["schedule: cosine", "snapshots: {cycle: 3}"]), line: 16,
                            keyPath: "models[0].snapshots.cycle", message: "unknown key `cycle`", fix: "did you mean `cycles`?")
    }

    func testSWA() throws {
        XCTAssertEqual(try Fixture.model(["swa: {start_epoch: 2, lr: 1e-4}"]).swa, SWASpec(startEpoch: 2, lr: 1e-4))
        assertManifestError(Fixture.yaml(model: ["swa: {start_epoch: 4, lr: 1e-4}"]), line: 15,
                            keyPath: "models[0].swa.start_epoch", message: "`start_epoch` must be 1...3")
        assertManifestError(Fixture.yaml(model: ["swa: {start_epoch: 2}"]), line: 15, keyPath: "models[0].swa.lr",
                            message: "missing required key `lr`")
        assertManifestError(Fixture.yaml(model: ["schedule: plateau", "swa: {start_epoch: 2, lr: 1e-4}"]), line: 16,
                            keyPath: "models[0].swa", message: "plateau schedule")
    }

    /// SWA holds the lr from its start to the end, so it may share only the last snapshot cycle.
    func testSWAStartingBeforeTheLastSnapshotCycleIsRefused() throws {
        let snapshots = ["schedule: cosine", "snapshots: {cycles: 3}"]
        let model = try Fixture.model(snapshots + ["swa: {start_epoch: 3, lr: 1e-4}"])
        XCTAssertEqual(model.swa, SWASpec(startEpoch: 3, lr: 1e-4))
        assertManifestError(Fixture.yaml(model: snapshots + ["swa: {start_epoch: 2, lr: 1e-4}"]), line: 17,
                            keyPath: "models[0].swa.start_epoch",
                            message: "model `a`: `swa.start_epoch` 2 falls before the last of its 3 snapshot cycles",
                            fix: "start_epoch: 3 or later")
        assertManifestError(Fixture.yaml(model: snapshots + ["swa: {start_epoch: 1, lr: 1e-4}"]), line: 17,
                            keyPath: "models[0].swa.start_epoch", message: "snapshot-1 … snapshot-3 would be constant-lr models",
                            fix: "keep only one of `snapshots` and `swa`")
    }

    func testAbsentSetsStayOutOfTheCanonicalJSON() throws {
        let json = try Fixture.parse(Fixture.yaml()).canonicalJSON()
        XCTAssertFalse(json.contains("snapshots"))
        XCTAssertFalse(json.contains("swa"))
        let round = try Manifest.fromCanonicalJSON(try Fixture.parse(Fixture.yaml(model: ["swa: {start_epoch: 2, lr: 1e-4}"])).canonicalJSON())
        XCTAssertEqual(round.models[0].swa, SWASpec(startEpoch: 2, lr: 1e-4))
    }
}
