import XCTest
@testable import Manifests

final class EnsembleSectionTests: XCTestCase {
    func testDefaultsAndChoices() throws {
        XCTAssertNil(try Fixture.parse(Fixture.yaml()).ensemble)
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(top: ["ensemble: {}"])).ensemble,
                       EnsembleSection(blends: [.mean, .rank, .weights, .hillclimb], stackers: [.logistic]))
        let section = try Fixture.parse(Fixture.yaml(top: ["ensemble:", "  blends: [hillclimb]", "  stackers: [logistic, xgboost, mlp]",
                                                          "  sets: [a/last]"])).ensemble
        XCTAssertEqual(section, EnsembleSection(blends: [.hillclimb], stackers: [.logistic, .xgboost, .mlp], sets: ["a/last"]))
        // A set the model does not make is refused, not silently dropped from level 2.
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  sets: [a/last, a/swa]"]), line: 16,
                            keyPath: "ensemble.sets[1]", message: "model a has no prediction set `swa`")
    }

    func testErrorsNameTheKey() {
        assertManifestError(Fixture.yaml(top: ["ensemble: {blends: [median]}"]), line: 15, keyPath: "ensemble.blends[0]",
                            message: "median")
        assertManifestError(Fixture.yaml(top: ["ensemble: {stackers: [logistic, logistic]}"]), line: 15, keyPath: "ensemble.stackers",
                            message: "repeats a learner")
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  sets: [a/last, b/last]"]), line: 16, keyPath: "ensemble.sets[1]",
                            message: "`b/last` is not `<model>/<set>`", fix: "a/last")
        assertManifestError(Fixture.yaml(top: ["ensemble: {stacker: [mlp]}"]), line: 15, keyPath: "ensemble.stacker",
                            message: "unknown key `stacker`", fix: "did you mean `stackers`?")
    }

    func testTheEnsembleSectionLeavesTheHashAlone() throws {
        let plain = try Fixture.parse(Fixture.yaml())
        let with = try Fixture.parse(Fixture.yaml(top: ["ensemble: {stackers: [mlp]}"]))
        XCTAssertEqual(plain.hash, with.hash)
        XCTAssertTrue(with.canonicalJSON().contains(#""ensemble":{"blends":["mean","rank","weights","hillclimb"],"stackers":["mlp"]}"#),
                      with.canonicalJSON())
        XCTAssertEqual(try Manifest.fromCanonicalJSON(with.canonicalJSON()).ensemble, with.ensemble)
    }

    func testPseudoLabelAndDistill() throws {
        let section = try Fixture.parse(Fixture.yaml(top: [
            "ensemble:", "  pseudo_label: {rounds: 2, threshold: 0.9, max_fraction: 0.5, models: [a]}",
            "  distill: {teacher: blend/hillclimb, student: a, temperature: 3, alpha: 0.7}"])).ensemble
        XCTAssertEqual(section?.pseudoLabel, PseudoLabelSpec(rounds: 2, threshold: 0.9, minFraction: 0, maxFraction: 0.5, models: ["a"]))
        XCTAssertEqual(section?.distill, DistillSpec(teacher: "blend/hillclimb", student: "a", temperature: 3, alpha: 0.7))
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(top: ["ensemble: {distill: {student: a}}"])).ensemble?.distill,
                       DistillSpec(teacher: "best", student: "a", temperature: 4, alpha: 0.5))
    }

    func testPseudoLabelAndDistillErrors() {
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  pseudo_label: {models: [b]}"]), line: 16,
                            keyPath: "ensemble.pseudo_label.models[0]", message: "`b` is not a model of this manifest")
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  pseudo_label: {models: [a], threshold: 1.5}"]), line: 16,
                            keyPath: "ensemble.pseudo_label.threshold", message: "`threshold` must be in 0<..1")
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  pseudo_label: {models: [a], min_fraction: 0.6, max_fraction: 0.5}"]),
                            line: 16, keyPath: "ensemble.pseudo_label", message: "`min_fraction` 0.6 is above `max_fraction` 0.5")
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  distill: {student: z}"]), line: 16,
                            keyPath: "ensemble.distill.student", message: "`z` is not a model")
        assertManifestError(Fixture.yaml(top: ["ensemble:", "  distill: {student: a, alpha: 2}"]), line: 16,
                            keyPath: "ensemble.distill.alpha", message: "`alpha` must be in 0...1")
    }
}
