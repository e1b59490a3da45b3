import XCTest
@testable import Manifests

/// A valid manifest whose line numbers tests can count on:
/// lines 1–8 are `name` and `data` (data's keys on lines 3–8), line 9 is `models:`,
/// lines 10–14 are the first model. Extra data lines go after line 8 (shifting the rest),
/// extra model lines after the model, extra top lines at the very end.
enum Fixture {
    static let fileName = "test.yaml"

    static func yaml(data: [String] = [], model: [String] = [], top: [String] = []) -> String {
        var lines = [
            "name: test",
            "data:",
            "  train_csv: train.csv",
            "  train_images: train",
            "  test_images: test",
            "  sample_submission: sample_submission.csv",
            "  image_size: 28",
            "  channels: 1",
        ]
        lines += data.map { "  " + $0 }
        lines += [
            "models:",
            "  - name: a",
            "    arch: resnet_ref",
            "    lr: 0.001",
            "    epochs: 3",
            "    batch_size: 32",
        ]
        lines += model.map { "    " + $0 }
        lines += top
        return lines.joined(separator: "\n") + "\n"
    }

    static func parse(_ text: String) throws -> Manifest {
        try Manifest.parse(yaml: text, file: fileName)
    }

    static func model(_ lines: [String]) throws -> ModelSpec {
        try parse(yaml(model: lines)).models[0]
    }
}

/// Checks that parsing fails with exactly this line and key path, and that the message and
/// fix contain the given fragments.
func assertManifestError(_ text: String, line: Int?, keyPath: String, message: String, fix: String = "",
                         file: StaticString = #filePath, testLine: UInt = #line) {
    do {
        let manifest = try Fixture.parse(text)
        XCTFail("expected an error at \(keyPath), parsed \(manifest.name)", file: file, line: testLine)
    } catch let error as ManifestError {
        XCTAssertEqual(error.file, Fixture.fileName, file: file, line: testLine)
        XCTAssertEqual(error.line, line, "\(error)", file: file, line: testLine)
        XCTAssertEqual(error.keyPath, keyPath, "\(error)", file: file, line: testLine)
        XCTAssertTrue(error.message.contains(message), "message was: \(error.message)", file: file, line: testLine)
        XCTAssertTrue(fix.isEmpty || error.fix.contains(fix), "fix was: \(error.fix)", file: file, line: testLine)
        let location = line.map { "\(Fixture.fileName):\($0):" } ?? Fixture.fileName
        XCTAssertTrue(error.description.hasPrefix(location), error.description, file: file, line: testLine)
    } catch {
        XCTFail("expected a ManifestError, got \(error)", file: file, line: testLine)
    }
}
