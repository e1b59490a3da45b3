import XCTest
@testable import Manifests

final class DataSectionTests: XCTestCase {
    private func data(_ lines: [String]) throws -> DataSection {
        try Fixture.parse(Fixture.yaml(data: lines)).data
    }

    func testDefaults() throws {
        let data = try self.data([])
        XCTAssertEqual(data, DataSection(trainCSV: "train.csv", trainImages: "train", testImages: "test",
                                         sampleSubmission: "sample_submission.csv", imageHeight: 28, imageWidth: 28,
                                         channels: 1))
        XCTAssertEqual(data.idColumn, "id")
        XCTAssertEqual(data.labelColumn, "label")
        XCTAssertNil(data.imageExtension)
        XCTAssertNil(data.testLabels)
        XCTAssertEqual(data.mean, [0.5])
        XCTAssertEqual(data.std, [0.5])
    }

    func testAllKeys() throws {
        let text = Fixture.yaml(data: ["test_labels: labels.csv", "id_column: image_id", "label_column: target",
                                       "image_extension: .PNG"])
            .replacingOccurrences(of: "image_size: 28", with: "image_size: [24, 32]")
            .replacingOccurrences(of: "channels: 1", with: "channels: 3\n  mean: [0.485, 0.456, 0.406]\n  std: 0.25")
        let data = try Fixture.parse(text).data
        XCTAssertEqual(data.imageHeight, 24)
        XCTAssertEqual(data.imageWidth, 32)
        XCTAssertEqual(data.channels, 3)
        XCTAssertEqual(data.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(data.std, [0.25, 0.25, 0.25])
        XCTAssertEqual(data.testLabels, "labels.csv")
        XCTAssertEqual(data.idColumn, "image_id")
        XCTAssertEqual(data.labelColumn, "target")
        XCTAssertEqual(data.imageExtension, "PNG")
    }

    func testUnknownNestedKey() {
        assertManifestError(Fixture.yaml(data: ["train_cvs: x.csv"]), line: 9, keyPath: "data.train_cvs",
                            message: "unknown key `train_cvs` in `data`", fix: "did you mean `train_csv`?")
    }

    func testMissingRequiredKey() {
        let text = Fixture.yaml().replacingOccurrences(of: "  train_images: train\n", with: "")
        assertManifestError(text, line: 3, keyPath: "data.train_images", message: "missing required key `train_images`",
                            fix: "add `train_images: train` under `data`")
    }

    func testWrongTypes() {
        let quoted = Fixture.yaml().replacingOccurrences(of: "image_size: 28", with: "image_size: \"28\"")
        assertManifestError(quoted, line: 7, keyPath: "data.image_size", message: "expected an integer, found the string \"28\"")
        let list = Fixture.yaml().replacingOccurrences(of: "train_csv: train.csv", with: "train_csv: [a.csv]")
        assertManifestError(list, line: 3, keyPath: "data.train_csv", message: "expected a string, found a list")
        assertManifestError(Fixture.yaml(data: ["mean: [0.5, high]"]), line: 9, keyPath: "data.mean[1]",
                            message: "expected a finite number")
    }

    func testImageSizeAndChannelRanges() {
        let three = Fixture.yaml().replacingOccurrences(of: "image_size: 28", with: "image_size: [1, 2, 3]")
        assertManifestError(three, line: 7, keyPath: "data.image_size", message: "needs [height, width], found 3 values")
        let zero = Fixture.yaml().replacingOccurrences(of: "image_size: 28", with: "image_size: [28, 0]")
        assertManifestError(zero, line: 7, keyPath: "data.image_size[1]", message: "1...8192 pixels, found 0")
        let two = Fixture.yaml().replacingOccurrences(of: "channels: 1", with: "channels: 2")
        assertManifestError(two, line: 8, keyPath: "data.channels", message: "must be 1 (grey) or 3 (RGB), found 2")
    }

    func testNormalisationRules() {
        assertManifestError(Fixture.yaml(data: ["std: 0"]), line: 9, keyPath: "data.std", message: "must be > 0")
        assertManifestError(Fixture.yaml(data: ["std: [0.5, 0.5]"]), line: 9, keyPath: "data.std",
                            message: "expected 1 values (one per channel), found 2")
        let rgb = Fixture.yaml(data: ["std: [0.2, -1, 0.2]"]).replacingOccurrences(of: "channels: 1", with: "channels: 3")
        assertManifestError(rgb, line: 9, keyPath: "data.std[1]", message: "must be > 0, found -1")
    }

    func testExactlyOneTestList() throws {
        assertManifestError(Fixture.yaml(data: ["test_csv: test.csv"]), line: 6, keyPath: "data.sample_submission",
                            message: "both `test_csv` and `sample_submission` are set")
        let neither = Fixture.yaml().replacingOccurrences(of: "  sample_submission: sample_submission.csv\n", with: "")
        assertManifestError(neither, line: 3, keyPath: "data.sample_submission",
                            message: "neither `sample_submission` nor `test_csv` is set")
        let testCSV = Fixture.yaml().replacingOccurrences(of: "sample_submission: sample_submission.csv",
                                                          with: "test_csv: test.csv")
        let data = try Fixture.parse(testCSV).data
        XCTAssertEqual(data.testCSV, "test.csv")
        XCTAssertNil(data.sampleSubmission)
    }

    func testColumnsAndExtension() {
        assertManifestError(Fixture.yaml(data: ["id_column: label"]), line: 9, keyPath: "data.id_column",
                            message: "`id_column` and `label_column` are both `label`")
        assertManifestError(Fixture.yaml(data: ["image_extension: j/pg"]), line: 9, keyPath: "data.image_extension",
                            message: "`j/pg` is not a file extension")
        assertManifestError(Fixture.yaml(data: ["label_column: ''"]), line: 9, keyPath: "data.label_column",
                            message: "empty string")
    }
}
