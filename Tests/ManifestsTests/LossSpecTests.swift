import XCTest
@testable import Manifests

final class LossSpecTests: XCTestCase {
    func testDefaultAndShorthand() throws {
        XCTAssertEqual(try Fixture.model([]).loss, LossSpec(name: .crossEntropy, labelSmoothing: 0, classWeights: nil,
                                                            gamma: 2, keepFraction: 0.7))
        XCTAssertEqual(try Fixture.model(["loss: focal"]).loss, LossSpec(name: .focal))
        XCTAssertEqual(try Fixture.model(["loss: bce"]).loss.name, .bce)
    }

    func testMapForm() throws {
        let focal = try Fixture.model(["loss: {name: focal, gamma: 1.5, label_smoothing: 0.1, class_weights: [1, 3]}"])
        XCTAssertEqual(focal.loss, LossSpec(name: .focal, labelSmoothing: 0.1, classWeights: [1, 3], gamma: 1.5))
        let ohem = try Fixture.model(["loss:", "  name: ohem", "  keep_fraction: 0.5"])
        XCTAssertEqual(ohem.loss, LossSpec(name: .ohem, keepFraction: 0.5))
    }

    func testKeysOfOtherLossesAreRejected() {
        assertManifestError(Fixture.yaml(model: ["loss:", "  name: cross_entropy", "  gamma: 2"]), line: 17,
                            keyPath: "models[0].loss.gamma",
                            message: "`gamma` does not apply to the `cross_entropy` loss; only the `focal` loss uses it",
                            fix: "remove `gamma`, or set `name` to `focal`")
    }

    func testRanges() {
        assertManifestError(Fixture.yaml(model: ["loss: {name: cross_entropy, label_smoothing: 1}"]), line: 15,
                            keyPath: "models[0].loss.label_smoothing", message: "must be in 0..<1")
        assertManifestError(Fixture.yaml(model: ["loss: {name: ohem, keep_fraction: 0}"]), line: 15,
                            keyPath: "models[0].loss.keep_fraction", message: "must be in 0<..1")
        assertManifestError(Fixture.yaml(model: ["loss: {name: focal, gamma: -1}"]), line: 15,
                            keyPath: "models[0].loss.gamma", message: "must be >= 0")
        assertManifestError(Fixture.yaml(model: ["loss: {name: bce, class_weights: [1, 0]}"]), line: 15,
                            keyPath: "models[0].loss.class_weights[1]", message: "a class weight must be > 0")
        assertManifestError(Fixture.yaml(model: ["loss: {name: bce, class_weights: 2}"]), line: 15,
                            keyPath: "models[0].loss.class_weights", message: "expected a list")
    }

    func testUnknownLossName() {
        assertManifestError(Fixture.yaml(model: ["loss: crossentropy"]), line: 15, keyPath: "models[0].loss",
                            message: "unknown loss `crossentropy`", fix: "did you mean `cross_entropy`?")
        assertManifestError(Fixture.yaml(model: ["loss: [focal]"]), line: 15, keyPath: "models[0].loss",
                            message: "expected a name or a map for the loss, found a list")
    }
}
