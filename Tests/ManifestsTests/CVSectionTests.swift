import XCTest
@testable import Manifests

final class CVSectionTests: XCTestCase {
    private func cv(_ lines: [String]) throws -> CVSection {
        try Fixture.parse(Fixture.yaml(top: ["cv:"] + lines.map { "  " + $0 })).cv
    }

    func testDefaultsWhenAbsentOrEmpty() throws {
        XCTAssertEqual(try Fixture.parse(Fixture.yaml()).cv, CVSection(folds: 5, seeds: [0], stratify: true))
        XCTAssertEqual(try cv([]), CVSection())
    }

    func testValues() throws {
        XCTAssertEqual(try cv(["folds: 10", "seeds: [3, 1, 2]", "stratify: false"]),
                       CVSection(folds: 10, seeds: [3, 1, 2], stratify: false))
        XCTAssertEqual(try cv(["seeds: 7"]).seeds, [7])
    }

    func testRanges() {
        assertManifestError(Fixture.yaml(top: ["cv:", "  folds: 1"]), line: 16, keyPath: "cv.folds",
                            message: "`folds` must be 2...100, found 1")
        assertManifestError(Fixture.yaml(top: ["cv: {folds: 101}"]), line: 15, keyPath: "cv.folds", message: "found 101")
        assertManifestError(Fixture.yaml(top: ["cv: {seeds: [0, 1, 0]}"]), line: 15, keyPath: "cv.seeds",
                            message: "`seeds` repeats a value")
        assertManifestError(Fixture.yaml(top: ["cv: {seeds: [0, -1]}"]), line: 15, keyPath: "cv.seeds[1]",
                            message: "a seed must be >= 0")
        assertManifestError(Fixture.yaml(top: ["cv: {seeds: []}"]), line: 15, keyPath: "cv.seeds",
                            message: "`seeds` is an empty list")
        assertManifestError(Fixture.yaml(top: ["cv: {stratify: 1}"]), line: 15, keyPath: "cv.stratify",
                            message: "expected true or false, found the integer 1")
    }

    func testGroupColumnImpliesGroupKFold() throws {
        XCTAssertEqual(try cv(["group_column: patient"]), CVSection(stratify: false, groupColumn: "patient"))
        XCTAssertEqual(try cv(["group_column: patient", "stratify: false"]).stratify, false)
        assertManifestError(Fixture.yaml(top: ["cv:", "  group_column: patient", "  stratify: true"]), line: 17,
                            keyPath: "cv.stratify", message: "cannot be combined with `group_column`")
    }

    func testMetric() throws {
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(top: ["metric: log_loss"])).metric, .logLoss)
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(top: ["metric: roc_auc"])).metric, .rocAUC)
        assertManifestError(Fixture.yaml(top: ["metric: macro-f1"]), line: 15, keyPath: "metric",
                            message: "unknown metric `macro-f1`", fix: "did you mean `macro_f1`?")
    }
}
