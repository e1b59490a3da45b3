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
        let focal = try Fixture.model(["loss: {name: focal, gamma: 1.5}"])
        XCTAssertEqual(focal.loss, LossSpec(name: .focal, gamma: 1.5))
        let smoothed = try Fixture.model(["loss: {name: cross_entropy, label_smoothing: 0.1, class_weights: [1, 3]}"])
        XCTAssertEqual(smoothed.loss, LossSpec(name: .crossEntropy, labelSmoothing: 0.1, classWeights: [1, 3]))
        let ohem = try Fixture.model(["loss:", "  name: ohem", "  keep_fraction: 0.5"])
        XCTAssertEqual(ohem.loss, LossSpec(name: .ohem, keepFraction: 0.5))
    }

    func testKeysOfOtherLossesAreRejected() {
        assertManifestError(Fixture.yaml(model: ["loss:", "  name: cross_entropy", "  gamma: 2"]), line: 17,
                            keyPath: "models[0].loss.gamma",
                            message: "`gamma` does not apply to the `cross_entropy` loss; only the `focal` loss uses it",
                            fix: "remove `gamma`, or set `name` to `focal`")
        // Focal, OHEM and BCE would ignore these, so they refuse them.
        assertManifestError(Fixture.yaml(model: ["loss: {name: focal, class_weights: [1, 3]}"]), line: 15,
                            keyPath: "models[0].loss.class_weights",
                            message: "`class_weights` does not apply to the `focal` loss; only the `cross_entropy` loss uses it")
        assertManifestError(Fixture.yaml(model: ["loss: {name: ohem, label_smoothing: 0.1}"]), line: 15,
                            keyPath: "models[0].loss.label_smoothing", message: "does not apply to the `ohem` loss")
    }

    func testRanges() {
        assertManifestError(Fixture.yaml(model: ["loss: {name: cross_entropy, label_smoothing: 1}"]), line: 15,
                            keyPath: "models[0].loss.label_smoothing", message: "must be in 0..<1")
        assertManifestError(Fixture.yaml(model: ["loss: {name: ohem, keep_fraction: 0}"]), line: 15,
                            keyPath: "models[0].loss.keep_fraction", message: "must be in 0<..1")
        assertManifestError(Fixture.yaml(model: ["loss: {name: focal, gamma: -1}"]), line: 15,
                            keyPath: "models[0].loss.gamma", message: "must be >= 0")
        assertManifestError(Fixture.yaml(model: ["loss: {name: cross_entropy, class_weights: [1, 0]}"]), line: 15,
                            keyPath: "models[0].loss.class_weights[1]", message: "a class weight must be > 0")
        assertManifestError(Fixture.yaml(model: ["loss: {name: cross_entropy, class_weights: 2}"]), line: 15,
                            keyPath: "models[0].loss.class_weights", message: "expected a list")
    }

    func testUnknownLossName() {
        assertManifestError(Fixture.yaml(model: ["loss: crossentropy"]), line: 15, keyPath: "models[0].loss",
                            message: "unknown loss `crossentropy`", fix: "did you mean `cross_entropy`?")
        assertManifestError(Fixture.yaml(model: ["loss: [focal]"]), line: 15, keyPath: "models[0].loss",
                            message: "expected a name or a map for the loss, found a list")
    }

    func testMarginLossesFillInTheirDefaults() throws {
        let arcface = try Fixture.model(["loss: arcface"]).loss
        XCTAssertEqual(arcface, LossSpec(name: .arcface, scale: 30, margin: 0.5))
        XCTAssertEqual(arcface.cosineScale, 30)
        let cosface = try Fixture.model(["loss: {name: cosface, scale: 64}"]).loss
        XCTAssertEqual(cosface, LossSpec(name: .cosface, scale: 64, margin: 0.35))
        XCTAssertEqual(cosface.cosineScale, 64)
        XCTAssertEqual(try Fixture.model(["loss: {name: arcface, margin: 0.3}"]).loss.margin, 0.3)
        XCTAssertNil(try Fixture.model(["loss: focal"]).loss.cosineScale)
    }

    func testLovaszAndSoftFBeta() throws {
        XCTAssertEqual(try Fixture.model(["loss: lovasz_softmax"]).loss, LossSpec(name: .lovaszSoftmax, classes: .present))
        XCTAssertEqual(try Fixture.model(["loss: {name: lovasz_softmax, classes: all}"]).loss.classes, .all)
        XCTAssertEqual(try Fixture.model(["loss: lovasz_hinge"]).loss, LossSpec(name: .lovaszHinge))
        XCTAssertEqual(try Fixture.model(["loss: soft_fbeta"]).loss, LossSpec(name: .softFBeta, beta: 1, activation: .softmax))
        let f2 = try Fixture.model(["loss: {name: soft_fbeta, beta: 2, activation: sigmoid}"]).loss
        XCTAssertEqual(f2, LossSpec(name: .softFBeta, beta: 2, activation: .sigmoid))
    }

    func testNewOptionsStayOutOfOldManifests() throws {
        let focal = try Fixture.parse(Fixture.yaml(model: ["loss: {name: focal, gamma: 1.5}"])).canonicalJSON()
        for key in ["scale", "margin", "beta", "activation", "classes"] {
            XCTAssertFalse(focal.contains("\"\(key)\""), "\(key) in \(focal)")
        }
        let short = try Fixture.parse(Fixture.yaml(model: ["loss: arcface"]))
        let long = try Fixture.parse(Fixture.yaml(model: ["loss: {name: arcface, scale: 30, margin: 0.5}"]))
        XCTAssertEqual(short.hash, long.hash)
        XCTAssertEqual(try Manifest.fromCanonicalJSON(short.canonicalJSON()), short)
    }

    func testNewOptionsAreValidated() {
        let path = "models[0].loss"
        assertManifestError(Fixture.yaml(model: ["loss: {name: arcface, scale: 0.5}"]), line: 15, keyPath: "\(path).scale",
                            message: "`scale` must be in 1...256, found 0.5", fix: "scale: 30")
        assertManifestError(Fixture.yaml(model: ["loss: {name: cosface, margin: 1.5}"]), line: 15, keyPath: "\(path).margin",
                            message: "`margin` must be in 0...1, found 1.5", fix: "margin: 0.35")
        assertManifestError(Fixture.yaml(model: ["loss: {name: soft_fbeta, beta: 0}"]), line: 15, keyPath: "\(path).beta",
                            message: "`beta` must be in 0<..100, found 0.0")
        assertManifestError(Fixture.yaml(model: ["loss: {name: soft_fbeta, activation: relu}"]), line: 15,
                            keyPath: "\(path).activation", message: "unknown activation `relu`")
        assertManifestError(Fixture.yaml(model: ["loss: {name: lovasz_softmax, classes: some}"]), line: 15,
                            keyPath: "\(path).classes", message: "unknown class selection `some`")
        assertManifestError(Fixture.yaml(model: ["loss: {name: arcface, label_smoothing: 0.1}"]), line: 15,
                            keyPath: "\(path).label_smoothing",
                            message: "`label_smoothing` does not apply to the `arcface` loss")
        assertManifestError(Fixture.yaml(model: ["loss: {name: cross_entropy, margin: 0.2}"]), line: 15,
                            keyPath: "\(path).margin",
                            message: "only the `arcface`, `cosface` loss", fix: "set `name` to one of `arcface`, `cosface`")
        assertManifestError(Fixture.yaml(model: ["loss: {name: lovasz_hinge, classes: all}"]), line: 15,
                            keyPath: "\(path).classes", message: "only the `lovasz_softmax` loss uses it")
        assertManifestError(Fixture.yaml(model: ["loss: lovasz"]), line: 15, keyPath: path, message: "unknown loss `lovasz`")
    }
}
