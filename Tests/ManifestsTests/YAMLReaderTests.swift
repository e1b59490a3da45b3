import XCTest
@testable import Manifests

final class YAMLReaderTests: XCTestCase {
    private func node(_ yaml: String) throws -> ValueNode {
        try XCTUnwrap(ValueNode.root(yaml: yaml, file: "r.yaml"))
    }

    private func value(_ scalar: String) throws -> ValueNode {
        try node("key: \(scalar)\n").mapping().required("key", example: "key: 1")
    }

    private func assertThrows(_ body: @autoclosure () throws -> Any, _ fragment: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let text = (error as? ManifestError)?.message ?? "not a ManifestError: \(error)"
            XCTAssertTrue(text.contains(fragment), text, file: file, line: line)
        }
    }

    func testStringsAreStrict() throws {
        XCTAssertEqual(try value("hello").string(), "hello")
        XCTAssertEqual(try value("'3'").string(), "3")
        assertThrows(try value("3").string(), "expected a string, found the integer 3")
        assertThrows(try value("yes").string(), "found the boolean yes")
        assertThrows(try value("[a]").string(), "found a list")
        assertThrows(try value("''").nonEmptyString(), "empty string")
    }

    func testIntegersAreStrict() throws {
        XCTAssertEqual(try value("12").int(), 12)
        XCTAssertEqual(try value("-4").int(), -4)
        XCTAssertEqual(try value("1_000").int(), 1000)
        assertThrows(try value("12.0").int(), "expected an integer, found the number 12.0")
        assertThrows(try value("\"12\"").int(), "found the string \"12\"")
        assertThrows(try value("{a: 1}").int(), "found a map")
    }

    func testNumbersAcceptIntegersAndExponents() throws {
        XCTAssertEqual(try value("2e-3").float(), 2e-3)
        XCTAssertEqual(try value("1e-4").float(), 1e-4)
        XCTAssertEqual(try value("3").float(), 3)
        XCTAssertEqual(try value("-0.25").float(), -0.25)
        assertThrows(try value(".inf").float(), "expected a finite number")
        assertThrows(try value("fast").float(), "found the string \"fast\"")
    }

    func testBooleans() throws {
        XCTAssertEqual(try value("true").bool(), true)
        XCTAssertEqual(try value("false").bool(), false)
        assertThrows(try value("\"true\"").bool(), "expected true or false")
        assertThrows(try value("1").bool(), "expected true or false")
    }

    func testListPathsCarryIndices() throws {
        let items = try value("[1, 2, 3]").list()
        XCTAssertEqual(items.map(\.path), ["key[0]", "key[1]", "key[2]"])
        XCTAssertEqual(try value("5").oneOrList { try $0.int() }, [5])
        XCTAssertEqual(try value("[5, 6]").oneOrList { try $0.int() }, [5, 6])
    }

    func testChoiceSuggestsClosestName() throws {
        XCTAssertEqual(try value("adam").choice(["sgd", "adam"], what: "optimizer"), "adam")
        XCTAssertThrowsError(try value("adm").choice(["sgd", "adam"], what: "optimizer")) { error in
            let error = error as? ManifestError
            XCTAssertEqual(error?.message, "unknown optimizer `adm`")
            XCTAssertEqual(error?.fix, "use one of sgd, adam; did you mean `adam`?")
            XCTAssertEqual(error?.line, 1)
        }
    }

    func testRequiredDistinguishesMissingFromEmpty() throws {
        let map = try node("a: 1\nb:\n").mapping()
        XCTAssertNil(map.optional("b"))
        XCTAssertTrue(map.contains("b"))
        XCTAssertThrowsError(try map.required("b", example: "b: 2")) { error in
            XCTAssertEqual((error as? ManifestError)?.message, "`b` has no value")
            XCTAssertEqual((error as? ManifestError)?.line, 2)
        }
        XCTAssertThrowsError(try map.required("c", example: "c: 2")) { error in
            XCTAssertEqual((error as? ManifestError)?.message, "missing required key `c`")
            XCTAssertEqual((error as? ManifestError)?.fix, "add `c: 2` at the top level")
        }
    }

    func testMergeKeysFlattenWithExplicitKeysWinning() throws {
        let yaml = "base: &base {a: 1, b: 2}\nchild:\n  <<: *base\n  b: 3\n"
        let child = try node(yaml).mapping().required("child", example: "")
        let map = try child.mapping()
        XCTAssertEqual(Set(map.keys), ["a", "b"])
        XCTAssertEqual(try map.optional("a")?.int(), 1)
        XCTAssertEqual(try map.optional("b")?.int(), 3)
        XCTAssertEqual(map.optional("a")?.path, "child.a")
    }

    func testNonStringKeysAreRejected() throws {
        assertThrows(try node("1: a\n").mapping(), "keys must be plain words")
    }

    func testVariantKeysNameTheirOwners() throws {
        let map = try node("name: cosine\ngamma: 0.5\n").mapping()
        XCTAssertThrowsError(try map.checkKeys(common: ["name"], variantKeys: [("gamma", ["step", "multistep"])],
                                               name: "cosine", kind: "schedule", section: "`schedule`")) { error in
            let error = error as? ManifestError
            XCTAssertEqual(error?.line, 2)
            XCTAssertEqual(error?.message,
                           "`gamma` does not apply to the `cosine` schedule; only the `step`, `multistep` schedules use it")
            XCTAssertEqual(error?.fix, "remove `gamma`, or set `name` to one of `step`, `multistep`")
        }
    }

    func testSyntaxErrorsCarryTheLine() {
        XCTAssertThrowsError(try ValueNode.root(yaml: "a: 1\nb: [1, 2\nc: 3\n", file: "r.yaml")) { error in
            let error = error as? ManifestError
            XCTAssertNotNil(error?.line)
            XCTAssertTrue(error?.message.hasPrefix("invalid YAML") ?? false, "\(String(describing: error))")
        }
        XCTAssertThrowsError(try ValueNode.root(yaml: "a: 1\nb: 2\na: 3\n", file: "r.yaml")) { error in
            let error = error as? ManifestError
            XCTAssertTrue(error?.message.contains("written twice") ?? false, "\(String(describing: error))")
        }
        XCTAssertNil(try ValueNode.root(yaml: "", file: "r.yaml"))
    }
}
