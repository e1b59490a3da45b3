import XCTest
@testable import Manifests

final class ManifestErrorTests: XCTestCase {
    func testDescriptionNamesFileLineKeyAndFix() {
        let error = ManifestError(file: "m.yaml", line: 3, keyPath: "models[0].lr", message: "bad", fix: "do x")
        XCTAssertEqual(error.description, "m.yaml:3: models[0].lr: bad\n  fix: do x")
        XCTAssertEqual(error.errorDescription, error.description)
    }

    func testDescriptionWithoutLineOrKeyPath() {
        let error = ManifestError(file: "m.yaml", line: nil, keyPath: "", message: "unreadable", fix: "check it")
        XCTAssertEqual(error.description, "m.yaml: unreadable\n  fix: check it")
    }

    func testEditDistance() {
        XCTAssertEqual(Suggestion.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(Suggestion.editDistance("momentun", "momentum"), 1)
        XCTAssertEqual(Suggestion.editDistance("", "abc"), 3)
        XCTAssertEqual(Suggestion.editDistance("abc", "abc"), 0)
        XCTAssertEqual(Suggestion.editDistance("ab", "ba"), 2)
    }

    func testClosestSuggestsOnlyPlausibleTypos() {
        let keys = ["name", "momentum", "nesterov", "weight_decay"]
        XCTAssertEqual(Suggestion.closest(to: "momentun", in: keys), "momentum")
        XCTAssertEqual(Suggestion.closest(to: "Weight_Decay", in: keys), "weight_decay")
        XCTAssertNil(Suggestion.closest(to: "banana_split", in: keys))
        XCTAssertNil(Suggestion.closest(to: "x", in: []))
    }

    func testFixListsAllowedValuesAndSuggestion() {
        XCTAssertEqual(Suggestion.fix(for: "adm", allowed: ["sgd", "adam"]), "use one of sgd, adam; did you mean `adam`?")
        XCTAssertEqual(Suggestion.fix(for: "zzzzzz", allowed: ["sgd", "adam"]), "use one of sgd, adam")
    }
}
