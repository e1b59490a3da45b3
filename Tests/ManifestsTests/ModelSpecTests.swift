import XCTest
@testable import Manifests

final class ModelSpecTests: XCTestCase {
    func testUnknownKeyInsideAModel() {
        assertManifestError(Fixture.yaml(model: ["batchsize: 16"]), line: 15, keyPath: "models[0].batchsize",
                            message: "unknown key `batchsize` in a model", fix: "did you mean `batch_size`?")
    }

    func testUnknownKeyInTheSecondModel() {
        let text = Fixture.yaml(top: ["  - name: b", "    arch: resnet18", "    lr: 0.1", "    epochs: 2",
                                      "    batch_size: 8", "    optimizer: {name: sgd, momentun: 0.8}"])
        assertManifestError(text, line: 20, keyPath: "models[1].optimizer.momentun",
                            message: "unknown key `momentun` in `optimizer`", fix: "did you mean `momentum`?")
    }

    func testMissingRequiredKeys() {
        let noLR = Fixture.yaml().replacingOccurrences(of: "    lr: 0.001\n", with: "")
        assertManifestError(noLR, line: 10, keyPath: "models[0].lr", message: "missing required key `lr`",
                            fix: "add `lr: 1e-3` under `models[0]`")
        let noArch = Fixture.yaml().replacingOccurrences(of: "    arch: resnet_ref\n", with: "")
        assertManifestError(noArch, line: 10, keyPath: "models[0].arch", message: "missing required key `arch`")
    }

    func testWrongTypesAndRanges() {
        let quoted = Fixture.yaml().replacingOccurrences(of: "epochs: 3", with: "epochs: \"3\"")
        assertManifestError(quoted, line: 13, keyPath: "models[0].epochs", message: "expected an integer")
        let zeroLR = Fixture.yaml().replacingOccurrences(of: "lr: 0.001", with: "lr: 0")
        assertManifestError(zeroLR, line: 12, keyPath: "models[0].lr", message: "`lr` must be in 0<..<10, found 0.0")
        let noBatch = Fixture.yaml().replacingOccurrences(of: "batch_size: 32", with: "batch_size: 0")
        assertManifestError(noBatch, line: 14, keyPath: "models[0].batch_size", message: "`batch_size` must be 1...65536")
        let listModel = Fixture.yaml().replacingOccurrences(of: "  - name: a", with: "  - [a]\n  - name: a")
        assertManifestError(listModel, line: 10, keyPath: "models[0]", message: "expected a map")
    }

    func testNamePattern() {
        let spaced = Fixture.yaml().replacingOccurrences(of: "name: a\n", with: "name: my model\n")
        assertManifestError(spaced, line: 10, keyPath: "models[0].name", message: "may use only letters, digits",
                            fix: "`my_model`")
        let number = Fixture.yaml().replacingOccurrences(of: "name: a\n", with: "name: 7\n")
        assertManifestError(number, line: 10, keyPath: "models[0].name", message: "expected a string, found the integer 7")
    }

    func testAugmentAndTTA() throws {
        let model = try Fixture.model(["augment: {hflip: true, crop_padding: 4}", "tta: [hflip, hvflip]"])
        XCTAssertEqual(model.augment, AugmentSpec(hflip: true, vflip: false, cropPadding: 4))
        XCTAssertEqual(model.tta, [.hflip, .hvflip])
        assertManifestError(Fixture.yaml(model: ["augment: [hflip]"]), line: 15, keyPath: "models[0].augment",
                            message: "expected a map")
        assertManifestError(Fixture.yaml(model: ["augment: {crop_padding: -1}"]), line: 15,
                            keyPath: "models[0].augment.crop_padding", message: "must be 0...64")
        assertManifestError(Fixture.yaml(model: ["augment: {hflp: true}"]), line: 15, keyPath: "models[0].augment.hflp",
                            message: "unknown key `hflp` in `augment`", fix: "did you mean `hflip`?")
        assertManifestError(Fixture.yaml(model: ["tta: [hflip, hflip]"]), line: 15, keyPath: "models[0].tta",
                            message: "`tta` repeats a transform")
        assertManifestError(Fixture.yaml(model: ["tta: [rotate]"]), line: 15, keyPath: "models[0].tta[0]",
                            message: "unknown test-time augmentation `rotate`")
        assertManifestError(Fixture.yaml(model: ["tta: hflip"]), line: 15, keyPath: "models[0].tta",
                            message: "expected a list")
    }

    func testModelsShareSettingsThroughAnchors() throws {
        let text = Fixture.yaml(model: ["optimizer: &opt {name: sgd, momentum: 0.8}"],
                                top: ["  - name: b", "    arch: resnet18", "    lr: 0.1", "    epochs: 2",
                                      "    batch_size: 8", "    optimizer: *opt"])
        let manifest = try Fixture.parse(text)
        XCTAssertEqual(manifest.models[1].optimizer, OptimizerSpec(name: .sgd, momentum: 0.8))
        XCTAssertEqual(manifest.models[0].optimizer, manifest.models[1].optimizer)
    }
}
