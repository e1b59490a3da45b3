import XCTest
@testable import Manifests

final class EnsembleSectionTests: XCTestCase {
    func testDefaultsAndChoices() throws {
        XCTAssertNil(try Fixture.parse(Fixture.yaml()).ensemble)
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(top: ["ensemble: {}"])).ensemble,
                       EnsembleSection(blends: [.mean, .rank, .weights, .hillclimb], stackers: [.logistic]))
        let section = try Fixture.parse(Fixture.yaml(top: ["ensemble:", "  blends: [hillclimb]", "  stackers: [logistic, xgboost, mlp]",
                                                          "  sets: [a/last, a/swa]"])).ensemble
        XCTAssertEqual(section, EnsembleSection(blends: [.hillclimb], stackers: [.logistic, .xgboost, .mlp], sets: ["a/last", "a/swa"]))
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
}
