import XCTest
@testable import Manifests

final class SubmissionSectionTests: XCTestCase {
    func testFormatDefaultsToAutoAndReadsEachValue() throws {
        XCTAssertEqual(try Fixture.parse(Fixture.yaml()).submission, SubmissionSection(format: .auto))
        for format in SubmissionFormat.allCases {
            let manifest = try Fixture.parse(Fixture.yaml(top: ["submission: {format: \(format.rawValue)}"]))
            XCTAssertEqual(manifest.submission.format, format)
            XCTAssertEqual(try Manifest.fromCanonicalJSON(manifest.canonicalJSON()).submission.format, format)
        }
    }

    func testErrorsNameTheKeyAndTheValidValues() {
        assertManifestError(Fixture.yaml(top: ["submission: {format: probs}"]), line: 15, keyPath: "submission.format",
                            message: "unknown submission format `probs`", fix: "auto, label, probabilities")
        assertManifestError(Fixture.yaml(top: ["submission: {fromat: label}"]), line: 15, keyPath: "submission.fromat",
                            message: "unknown key `fromat` in `submission`", fix: "did you mean `format`?")
        assertManifestError(Fixture.yaml(top: ["submission: label"]), line: 15, keyPath: "submission",
                            message: "expected a map")
    }

    /// The format changes no model: it stays out of the hash, and out of the
    /// canonical JSON while it is the default, so stored experiments read the same.
    func testTheSectionLeavesHashAndDefaultCanonicalJSONAlone() throws {
        let plain = try Fixture.parse(Fixture.yaml())
        XCTAssertEqual(plain.hash, "6d3c842ef6cf2173", "the hash pinned before the section existed")
        XCTAssertFalse(plain.canonicalJSON().contains(#""submission":"#), plain.canonicalJSON())
        let spelledOut = try Fixture.parse(Fixture.yaml(top: ["submission: {format: auto}"]))
        XCTAssertEqual(spelledOut.canonicalJSON(), plain.canonicalJSON())
        let labels = try Fixture.parse(Fixture.yaml(top: ["submission: {format: label}"]))
        XCTAssertEqual(labels.hash, plain.hash)
        XCTAssertTrue(labels.canonicalJSON().contains(#""submission":{"format":"label"}"#), labels.canonicalJSON())
    }
}
