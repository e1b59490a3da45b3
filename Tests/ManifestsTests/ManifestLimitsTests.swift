import Foundation
import XCTest
@testable import Manifests

/// The manifest file checks and the YAML limits: wrong files and hostile YAML
/// end in a `ManifestError` naming the file, quickly and without a memory blow-up.
final class ManifestLimitsTests: XCTestCase {
    private func loadError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> ManifestError? {
        do {
            _ = try Manifest.load(url)
            XCTFail("loaded \(url.path)", file: file, line: line)
        } catch let error as ManifestError {
            XCTAssertEqual(error.file, url.path, file: file, line: line)
            return error
        } catch {
            XCTFail("not a ManifestError: \(error)", file: file, line: line)
        }
        return nil
    }

    /// A uniquely named file in the temporary folder, written when `contents` is given.
    private func file(_ name: String, _ contents: Data? = nil) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-\(UUID().uuidString)-\(name)")
        guard let contents else { return url }
        try contents.write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testAFolderIsNotAManifest() {
        XCTAssertTrue(loadError(FileManager.default.temporaryDirectory)?.message.contains("this is a folder") == true)
    }

    func testADeviceIsNotAManifest() {
        let error = loadError(URL(fileURLWithPath: "/dev/zero"))
        XCTAssertTrue(error?.message.contains("not a regular file") == true, "\(String(describing: error))")
    }

    func testAMissingManifestCannotBeRead() throws {
        let error = loadError(try file("absent.yaml"))
        XCTAssertTrue(error?.message.contains("cannot read the manifest") == true)
    }

    func testNonUTF8IsRefused() throws {
        let url = try file("latin1.yaml", Data([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xE9, 0x0A]))
        XCTAssertTrue(loadError(url)?.message.contains("not UTF-8") == true)
    }

    func testAManifestOverOneMebibyteIsRefusedBeforeParsing() throws {
        let url = try file("big.yaml", Data(String(repeating: "- 1234567890\n", count: 100_000).utf8))
        XCTAssertTrue(loadError(url)?.message.contains("over the limit of 1048576 bytes") == true)
        XCTAssertThrowsError(try Fixture.parse(String(repeating: "#", count: ManifestFile.maxBytes + 1)))
    }

    /// 12 levels that each merge the previous one six times: over 10⁹ values expanded.
    func testNestedMergeKeysAreRefusedQuickly() {
        var lines = ["a0: &a0 {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6}"]
        for level in 1..<12 {
            let previous = Array(repeating: "*a\(level - 1)", count: 6).joined(separator: ", ")
            lines.append("a\(level): &a\(level) {<<: [\(previous)], k\(level): 1}")
        }
        let start = Date()
        assertManifestError(lines.joined(separator: "\n") + "\nname: x\n", line: nil, keyPath: "",
                            message: "expand to over 200000 values", fix: "fewer levels")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testModestAliasesAreAllowed() throws {
        let root = try XCTUnwrap(ValueNode.root(yaml: "a: &a [1, 2, 3]\nb: [*a, *a]\nc: {<<: {x: 1}, y: 2}\n", file: "x"))
        XCTAssertTrue(root.isMapping)
    }

    /// An anchor name defined again later is another anchor: each is counted with its own contents.
    func testAReusedAnchorNameIsCountedAsItsLatestDefinition() {
        let items = Array(repeating: "*a", count: 500).joined(separator: ", ")
        let yaml = "x: &a 1\ny: [\(items)]\nz: &a [\(Array(repeating: "0", count: 500).joined(separator: ", "))]\nw: [\(items)]\nname: x\n"
        assertManifestError(yaml, line: nil, keyPath: "", message: "expand to over 200000 values")
    }

    func testTheNameIsOnePlainPathComponent() {
        for name in ["../../x", "a/b", ".hidden", "..", "\"a\\\\b\""] {
            assertManifestError(Fixture.yaml().replacingOccurrences(of: "name: test", with: "name: \(name)"),
                                line: 1, keyPath: "name", message: "must be a plain name", fix: "without `/`")
        }
        XCTAssertNoThrow(try Fixture.parse(Fixture.yaml().replacingOccurrences(of: "name: test", with: "name: digits-2.v1")))
    }

    func testMaxImagePixels() throws {
        XCTAssertEqual(try Fixture.parse(Fixture.yaml()).data.imagePixelLimit, 40_000_000)
        XCTAssertEqual(try Fixture.parse(Fixture.yaml(data: ["max_image_pixels: 1000"])).data.imagePixelLimit, 1000)
        assertManifestError(Fixture.yaml(data: ["max_image_pixels: 0"]), line: 9, keyPath: "data.max_image_pixels",
                            message: "at least 1")
        XCTAssertFalse(try Fixture.parse(Fixture.yaml()).canonicalJSON().contains("max_image_pixels"),
                       "the default stays out of the canonical JSON, so manifest hashes do not change")
    }
}
