import XCTest
@testable import Manifests

final class ArchSpecTests: XCTestCase {
    private func arch(_ value: String) throws -> ArchSpec {
        let text = Fixture.yaml().replacingOccurrences(of: "arch: resnet_ref", with: "arch: \(value)")
        return try Fixture.parse(text).models[0].arch
    }

    private func assertArchError(_ value: String, keyPath: String, message: String, fix: String = "",
                                 file: StaticString = #filePath, line: UInt = #line) {
        let text = Fixture.yaml().replacingOccurrences(of: "arch: resnet_ref", with: "arch: \(value)")
        assertManifestError(text, line: 11, keyPath: keyPath, message: message, fix: fix, file: file, testLine: line)
    }

    func testShorthandAndDefaults() throws {
        XCTAssertEqual(try arch("resnet34"), ArchSpec(name: "resnet34", stem: .conv3, squeezeExcitation: false, dropout: 0))
        XCTAssertEqual(try arch("{name: resnet18}"), ArchSpec(name: "resnet18"))
    }

    func testFullMap() throws {
        let spec = try arch("{name: resnet, widths: [16, 32], blocks: [1, 2], stem: conv7_pool, se: true, dropout: 0.25}")
        XCTAssertEqual(spec, ArchSpec(name: "resnet", widths: [16, 32], blocks: [1, 2], stem: .conv7Pool,
                                      squeezeExcitation: true, dropout: 0.25))
    }

    func testUnknownNamesAndKeys() {
        assertArchError("resnet19", keyPath: "models[0].arch", message: "unknown architecture `resnet19`",
                        fix: "did you mean `resnet18`?")
        assertArchError("{name: resnet18, drop: 0.1}", keyPath: "models[0].arch.drop",
                        message: "unknown key `drop` in `arch`")
        assertArchError("{name: resnet18, stem: conv5}", keyPath: "models[0].arch.stem", message: "unknown stem `conv5`")
        assertArchError("{widths: [8]}", keyPath: "models[0].arch.name", message: "missing required key `name`")
        assertArchError("3", keyPath: "models[0].arch", message: "expected a name or a map for the architecture, found the integer 3")
    }

    func testStageRules() {
        assertArchError("resnet", keyPath: "models[0].arch", message: "the custom `resnet` needs `widths` and `blocks`")
        assertArchError("{name: resnet, widths: [8, 16]}", keyPath: "models[0].arch.blocks",
                        message: "missing required key `blocks`")
        assertArchError("{name: resnet, widths: [8, 16], blocks: [1]}", keyPath: "models[0].arch.blocks",
                        message: "`blocks` has 1 stages but `widths` has 2")
        assertArchError("{name: resnet18, widths: [8, 16]}", keyPath: "models[0].arch.widths",
                        message: "`resnet18` has fixed stages")
        assertArchError("{name: resnet, widths: [8, 0], blocks: [1, 1]}", keyPath: "models[0].arch.widths[1]",
                        message: "a width must be 1...4096, found 0")
        assertArchError("{name: resnet, widths: [], blocks: []}", keyPath: "models[0].arch.widths",
                        message: "expected 1...8 stages, found 0")
    }

    func testDropoutRange() {
        assertArchError("{name: resnet_ref, dropout: 1}", keyPath: "models[0].arch.dropout",
                        message: "`dropout` must be in 0..<1, found 1.0")
        assertArchError("{name: resnet_ref, se: maybe}", keyPath: "models[0].arch.se", message: "expected true or false")
    }
}
