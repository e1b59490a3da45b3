import XCTest
@testable import Manifests

/// The model keys of the training tricks: keep_best, accumulate, sampler,
/// finetune and mean_teacher (the fixture's model trains 3 epochs).
final class TrainingTricksSpecTests: XCTestCase {
    func testGoodValues() throws {
        let model = try Fixture.model([
            "keep_best: true", "accumulate: 4", "sampler: balanced",
            "finetune: {checkpoint: runs/a/fold0.ckpt, new_head: true, freeze_backbone_epochs: 1, freeze_stages: 1, stage_lr_decay: 0.5}",
            "mean_teacher: {decay: 0.995, weight: 10, rampup_epochs: 2}",
        ])
        XCTAssertEqual(model.keepBest, true)
        XCTAssertEqual(model.accumulate, 4)
        XCTAssertEqual(model.sampler, .balanced)
        XCTAssertEqual(model.finetune, FineTuneSpec(checkpoint: "runs/a/fold0.ckpt", newHead: true, freezeBackboneEpochs: 1,
                                                    freezeStages: 1, stageLRDecay: 0.5))
        XCTAssertEqual(model.meanTeacher, MeanTeacherSpec(decay: 0.995, weight: 10, rampupEpochs: 2))
        XCTAssertEqual(model.predictionSets, ["last", "best", "ema"])
    }

    /// Defaults stay out of the canonical JSON, so manifests written before these keys keep their hash.
    func testDefaultsKeepTheHash() throws {
        let plain = try Fixture.parse(Fixture.yaml())
        let explicit = try Fixture.parse(Fixture.yaml(model: ["keep_best: false", "accumulate: 1", "sampler: shuffle"]))
        XCTAssertEqual(plain.hash, explicit.hash)
        XCTAssertFalse(plain.canonicalJSON().contains("accumulate"))
        XCTAssertNotEqual(try Fixture.parse(Fixture.yaml(model: ["accumulate: 2"])).hash, plain.hash)
    }

    func testBadValuesNameTheKey() {
        assertManifestError(Fixture.yaml(model: ["accumulate: 0"]), line: 15, keyPath: "models[0].accumulate",
                            message: "`accumulate` must be 1...1024")
        assertManifestError(Fixture.yaml(model: ["sampler: weighted"]), line: 15, keyPath: "models[0].sampler",
                            message: "unknown sampler `weighted`")
        assertManifestError(Fixture.yaml(model: ["keep_best: 1"]), line: 15, keyPath: "models[0].keep_best",
                            message: "expected true or false")
        assertManifestError(Fixture.yaml(model: ["finetune: {freeze_backbone_epochs: 3}"]), line: 15,
                            keyPath: "models[0].finetune.freeze_backbone_epochs", message: "must be 0...2")
        assertManifestError(Fixture.yaml(model: ["finetune: {backbone_lr: 0.1, stage_lr_decay: 0.5}"]), line: 15,
                            keyPath: "models[0].finetune", message: "both set the backbone's learning rate")
        assertManifestError(Fixture.yaml(model: ["finetune: {backbone_lr: 2}"]), line: 15,
                            keyPath: "models[0].finetune.backbone_lr", message: "must be in 0<..1")
        assertManifestError(Fixture.yaml(model: ["finetune: {checkpoint: \"\"}"]), line: 15,
                            keyPath: "models[0].finetune.checkpoint", message: "empty")
        assertManifestError(Fixture.yaml(model: ["finetune: {freeze: 1}"]), line: 15, keyPath: "models[0].finetune.freeze",
                            message: "unknown key `freeze` in `finetune`")
        assertManifestError(Fixture.yaml(model: ["mean_teacher: {decay: 1}"]), line: 15, keyPath: "models[0].mean_teacher.decay",
                            message: "must be in 0<..<1")
        assertManifestError(Fixture.yaml(model: ["mean_teacher: {rampup_epochs: 9}"]), line: 15,
                            keyPath: "models[0].mean_teacher.rampup_epochs", message: "must be 0...3")
    }
}
