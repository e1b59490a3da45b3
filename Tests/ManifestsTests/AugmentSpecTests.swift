import XCTest
@testable import Manifests

final class AugmentSpecTests: XCTestCase {
    private func augment(_ text: String) throws -> AugmentSpec {
        try Fixture.model(["augment: \(text)"]).augment
    }

    func testEverythingIsOffByDefault() throws {
        XCTAssertEqual(try Fixture.model([]).augment, AugmentSpec())
        XCTAssertEqual(AugmentSpec(), AugmentSpec(randomResizedCrop: nil, randomErasing: nil, randAugment: nil,
                                                  mixup: nil, cutmix: nil, multiScale: nil))
    }

    func testTrueMeansTheDefaultsAndFalseMeansOff() throws {
        let on = try augment("{random_resized_crop: true, random_erasing: true, randaugment: true, mixup: true, cutmix: true}")
        let defaults = AugmentSpec(randomResizedCrop: RandomResizedCropSpec(scale: 0.5...1, ratio: 0.75...(4.0 / 3.0)),
                                   randomErasing: RandomErasingSpec(p: 0.5, area: 0.02...0.33, ratio: 0.3...3.3),
                                   randAugment: RandAugmentSpec(n: 2, magnitude: 9),
                                   mixup: MixSpec(alpha: 0.2, p: 1), cutmix: MixSpec(alpha: 1, p: 0.5))
        XCTAssertEqual(on, defaults)
        let off = try augment("{random_resized_crop: false, random_erasing: false, randaugment: false, mixup: false, cutmix: false}")
        XCTAssertEqual(off, AugmentSpec())
    }

    func testMapForms() throws {
        let spec = try Fixture.model([
            "augment:",
            "  hflip: true",
            "  random_resized_crop: {scale: [0.08, 1], ratio: [0.5, 2]}",
            "  random_erasing: {p: 0.25, area: [0.05, 0.2], ratio: [0.5, 2]}",
            "  randaugment: {n: 3, magnitude: 12.5}",
            "  mixup: {alpha: 0.4}",
            "  cutmix: {alpha: 1, p: 1}",
            "  multi_scale: [24, 28, 32]",
        ]).augment
        XCTAssertEqual(spec, AugmentSpec(hflip: true, randomResizedCrop: RandomResizedCropSpec(scale: 0.08...1, ratio: 0.5...2),
                                         randomErasing: RandomErasingSpec(p: 0.25, area: 0.05...0.2, ratio: 0.5...2),
                                         randAugment: RandAugmentSpec(n: 3, magnitude: 12.5),
                                         mixup: MixSpec(alpha: 0.4, p: 1), cutmix: MixSpec(alpha: 1, p: 1),
                                         multiScale: [24, 28, 32]))
    }

    func testOldManifestsKeepTheirCanonicalJSONAndHash() throws {
        let plain = try Fixture.parse(Fixture.yaml(model: ["augment: {hflip: true, crop_padding: 2}"]))
        let json = plain.canonicalJSON()
        for key in ["random_resized_crop", "random_erasing", "rand_augment", "mixup", "cutmix", "multi_scale"] {
            XCTAssertFalse(json.contains(key), "\(key) in \(json)")
        }
        let switchedOff = try Fixture.parse(Fixture.yaml(model: ["augment: {hflip: true, crop_padding: 2, mixup: false}"]))
        XCTAssertEqual(switchedOff.hash, plain.hash)
        let on = try Fixture.parse(Fixture.yaml(model: ["augment: {hflip: true, crop_padding: 2, mixup: true}"]))
        XCTAssertNotEqual(on.hash, plain.hash)
        XCTAssertEqual(try Manifest.fromCanonicalJSON(on.canonicalJSON()), on)
    }

    func testSpelledOutDefaultsHashLikeTrue() throws {
        let short = try Fixture.parse(Fixture.yaml(model: ["augment: {randaugment: true, cutmix: true}"]))
        let long = try Fixture.parse(Fixture.yaml(model: ["augment: {randaugment: {n: 2, magnitude: 9}, cutmix: {alpha: 1, p: 0.5}}"]))
        XCTAssertEqual(short.hash, long.hash)
    }

    func testRangesAreCheckedWithTheKeyAndValue() {
        let section = "models[0].augment"
        assertManifestError(Fixture.yaml(model: ["augment: {random_resized_crop: {scale: [0, 1]}}"]), line: 15,
                            keyPath: "\(section).random_resized_crop.scale[0]",
                            message: "a bound of `scale` must be in 0<..1, found 0.0", fix: "scale: [0.5, 1]")
        assertManifestError(Fixture.yaml(model: ["augment: {random_resized_crop: {scale: [1, 0.5]}}"]), line: 15,
                            keyPath: "\(section).random_resized_crop.scale",
                            message: "low <= high, found [1.0, 0.5]", fix: "swap")
        assertManifestError(Fixture.yaml(model: ["augment: {random_resized_crop: {ratio: [1]}}"]), line: 15,
                            keyPath: "\(section).random_resized_crop.ratio", message: "must be [low, high], found 1 values")
        assertManifestError(Fixture.yaml(model: ["augment: {random_resized_crop: {scale: 0.5}}"]), line: 15,
                            keyPath: "\(section).random_resized_crop.scale", message: "expected a list")
        assertManifestError(Fixture.yaml(model: ["augment: {random_erasing: {area: [0.1, 1]}}"]), line: 15,
                            keyPath: "\(section).random_erasing.area[1]", message: "must be in 0<..<1, found 1.0")
        assertManifestError(Fixture.yaml(model: ["augment: {random_erasing: {p: 1.5}}"]), line: 15,
                            keyPath: "\(section).random_erasing.p", message: "`p` must be in 0...1, found 1.5")
        assertManifestError(Fixture.yaml(model: ["augment: {randaugment: {n: 0}}"]), line: 15,
                            keyPath: "\(section).randaugment.n", message: "`n` must be 1...10", fix: "n: 2")
        assertManifestError(Fixture.yaml(model: ["augment: {randaugment: {magnitude: 31}}"]), line: 15,
                            keyPath: "\(section).randaugment.magnitude", message: "must be in 0...30", fix: "magnitude: 9")
        assertManifestError(Fixture.yaml(model: ["augment: {mixup: {alpha: 0}}"]), line: 15,
                            keyPath: "\(section).mixup.alpha", message: "`alpha` must be in 0.05...100, found 0.0")
        assertManifestError(Fixture.yaml(model: ["augment: {multi_scale: [24, 0]}"]), line: 15,
                            keyPath: "\(section).multi_scale[1]", message: "must be 1...8192 pixels, found 0")
        assertManifestError(Fixture.yaml(model: ["augment: {multi_scale: []}"]), line: 15,
                            keyPath: "\(section).multi_scale", message: "empty list")
        assertManifestError(Fixture.yaml(model: ["augment: {multi_scale: 28}"]), line: 15,
                            keyPath: "\(section).multi_scale", message: "expected a list")
    }

    func testUnknownKeysAndWrongShapes() {
        let section = "models[0].augment"
        assertManifestError(Fixture.yaml(model: ["augment: {mixup: {alpha: 0.2, beta: 1}}"]), line: 15,
                            keyPath: "\(section).mixup.beta", message: "unknown key `beta` in `mixup`")
        assertManifestError(Fixture.yaml(model: ["augment: {rand_augment: true}"]), line: 15,
                            keyPath: "\(section).rand_augment", message: "unknown key `rand_augment` in `augment`",
                            fix: "randaugment")
        assertManifestError(Fixture.yaml(model: ["augment: {random_erasing: 1}"]), line: 15,
                            keyPath: "\(section).random_erasing",
                            message: "`random_erasing` must be true, false or a map of its settings, found the integer 1",
                            fix: "random_erasing: true")
    }
}
