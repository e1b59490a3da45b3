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
        XCTAssertEqual(try arch("se_resnext"), ArchSpec(name: "se_resnext"))
        XCTAssertEqual(try arch("efficientnet_b0"), ArchSpec(name: "efficientnet_b0"))
    }

    func testFullMap() throws {
        let spec = try arch("{name: resnet, widths: [16, 32], blocks: [1, 2], stem: conv7_pool, se: true, dropout: 0.25}")
        XCTAssertEqual(spec, ArchSpec(name: "resnet", widths: [16, 32], blocks: [1, 2], stem: .conv7Pool,
                                      squeezeExcitation: true, dropout: 0.25))
    }

    func testResNeXtAndEfficientNetKeys() throws {
        XCTAssertEqual(try arch("{name: resnext, widths: [16, 32], blocks: [1, 1], cardinality: 8, base_width: 4, se: true, ibn: true}"),
                       ArchSpec(name: "resnext", widths: [16, 32], blocks: [1, 1], squeezeExcitation: true, ibn: true,
                                cardinality: 8, baseWidth: 4))
        XCTAssertEqual(try arch("{name: efficientnet_b0, width_mult: 0.5, depth_mult: 0.75, dropout: 0.2}"),
                       ArchSpec(name: "efficientnet_b0", dropout: 0.2, widthMult: 0.5, depthMult: 0.75))
        XCTAssertEqual(try arch("{name: se_resnext, ibn: true}"), ArchSpec(name: "se_resnext", ibn: true))
        XCTAssertEqual(try arch("{name: resnet18, zero_init_residual: true}"), ArchSpec(name: "resnet18", zeroInitResidual: true))
    }

    func testHeadKeysApplyToEveryArchitecture() throws {
        for name in ["resnet_ref", "se_resnext", "efficientnet_b0"] {
            XCTAssertEqual(try arch("{name: \(name), pool: gem, neck: bnneck}"), ArchSpec(name: name, pool: .gem, neck: .bnneck))
        }
        for pool in PoolKind.allCases {
            XCTAssertEqual(try arch("{name: resnet18, pool: \(pool.rawValue)}").pool, pool)
        }
    }

    /// Keys added later are left out of the canonical JSON when absent, so old manifests keep their hash.
    func testNewKeysStayOutOfTheCanonicalJSONWhenAbsent() throws {
        let json = try Fixture.parse(Fixture.yaml()).canonicalJSON()
        for key in ["pool", "neck", "ibn", "cardinality", "base_width", "width_mult", "depth_mult", "zero_init_residual"] {
            XCTAssertFalse(json.contains("\"\(key)\""), key)
        }
        let withHead = Fixture.yaml().replacingOccurrences(of: "arch: resnet_ref", with: "arch: {name: resnet_ref, pool: dual}")
        XCTAssertNotEqual(try Fixture.parse(withHead).hash, try Fixture.parse(Fixture.yaml()).hash)
    }

    func testUnknownNamesAndKeys() {
        assertArchError("resnet19", keyPath: "models[0].arch", message: "unknown architecture `resnet19`",
                        fix: "did you mean `resnet18`?")
        assertArchError("{name: resnet18, drop: 0.1}", keyPath: "models[0].arch.drop",
                        message: "unknown key `drop` in `arch`")
        assertArchError("{name: resnet, widths: [8], blocks: [1], stem: conv5}", keyPath: "models[0].arch.stem",
                        message: "unknown stem `conv5`")
        assertArchError("{widths: [8]}", keyPath: "models[0].arch.name", message: "missing required key `name`")
        assertArchError("3", keyPath: "models[0].arch", message: "expected a name or a map for the architecture, found the integer 3")
        assertArchError("{name: resnet18, pool: mean}", keyPath: "models[0].arch.pool", message: "unknown pooling `mean`",
                        fix: "use one of avg, max, gem, dual")
        assertArchError("{name: resnet18, neck: bneck}", keyPath: "models[0].arch.neck", message: "unknown neck `bneck`",
                        fix: "did you mean `bnneck`?")
        assertArchError("efficientnet_b1", keyPath: "models[0].arch", message: "unknown architecture `efficientnet_b1`",
                        fix: "did you mean `efficientnet_b0`?")
    }

    func testKeysOfOtherArchitecturesAreRefused() {
        assertArchError("{name: resnet18, widths: [8, 16]}", keyPath: "models[0].arch.widths",
                        message: "`widths` does not apply to the `resnet18` architecture; only the `resnet`, `resnext` architectures use it",
                        fix: "set `name` to one of `resnet`, `resnext`")
        assertArchError("{name: resnet18, stem: conv3}", keyPath: "models[0].arch.stem",
                        message: "`stem` does not apply to the `resnet18` architecture")
        assertArchError("{name: resnet, widths: [16], blocks: [1], cardinality: 8}", keyPath: "models[0].arch.cardinality",
                        message: "`cardinality` does not apply to the `resnet` architecture; only the `resnext` architecture uses it",
                        fix: "set `name` to `resnext`")
        assertArchError("{name: se_resnext, base_width: 8}", keyPath: "models[0].arch.base_width",
                        message: "`base_width` does not apply to the `se_resnext` architecture")
        assertArchError("{name: se_resnext, se: false}", keyPath: "models[0].arch.se",
                        message: "`se` does not apply to the `se_resnext` architecture")
        assertArchError("{name: efficientnet_b0, ibn: true}", keyPath: "models[0].arch.ibn",
                        message: "`ibn` does not apply to the `efficientnet_b0` architecture")
        assertArchError("{name: efficientnet_b0, zero_init_residual: true}", keyPath: "models[0].arch.zero_init_residual",
                        message: "`zero_init_residual` does not apply to the `efficientnet_b0` architecture")
        assertArchError("{name: resnet18, zero_init_residual: 1}", keyPath: "models[0].arch.zero_init_residual",
                        message: "expected true or false, found", fix: "write true or false without quotes")
        assertArchError("{name: efficientnet_b0, se: true}", keyPath: "models[0].arch.se",
                        message: "`se` does not apply to the `efficientnet_b0` architecture")
        assertArchError("{name: efficientnet_b0, blocks: [1]}", keyPath: "models[0].arch.blocks",
                        message: "`blocks` does not apply to the `efficientnet_b0` architecture")
        assertArchError("{name: resnet18, width_mult: 0.5}", keyPath: "models[0].arch.width_mult",
                        message: "only the `efficientnet_b0` architecture uses it", fix: "set `name` to `efficientnet_b0`")
        assertArchError("{name: resnet18, widht_mult: 0.5}", keyPath: "models[0].arch.widht_mult",
                        message: "unknown key `widht_mult` in `arch`", fix: "`width_mult` is close")
    }

    func testStageRules() {
        assertArchError("resnet", keyPath: "models[0].arch", message: "the custom `resnet` needs `widths` and `blocks`")
        assertArchError("resnext", keyPath: "models[0].arch", message: "the custom `resnext` needs `widths` and `blocks`",
                        fix: "or use se_resnext")
        assertArchError("{name: resnet, widths: [8, 16]}", keyPath: "models[0].arch.blocks",
                        message: "missing required key `blocks`")
        assertArchError("{name: resnext, blocks: [1]}", keyPath: "models[0].arch.widths",
                        message: "missing required key `widths`")
        assertArchError("{name: resnet, widths: [8, 16], blocks: [1]}", keyPath: "models[0].arch.blocks",
                        message: "`blocks` has 1 stages but `widths` has 2")
        assertArchError("{name: resnet, widths: [8, 0], blocks: [1, 1]}", keyPath: "models[0].arch.widths[1]",
                        message: "a width must be 1...4096, found 0")
        assertArchError("{name: resnet, widths: [], blocks: []}", keyPath: "models[0].arch.widths",
                        message: "expected 1...8 stages, found 0")
        assertArchError("{name: resnext, widths: [32, 8], blocks: [1, 1]}", keyPath: "models[0].arch.widths[1]",
                        message: "a ResNeXt width of 8 with base_width 4 leaves ⌊8·4/64⌋ = 0 channels per group",
                        fix: "use widths of at least 16, or raise base_width")
        XCTAssertNoThrow(try arch("{name: resnext, widths: [32, 8], blocks: [1, 1], base_width: 8}"))
        assertArchError("{name: resnet, widths: [8], blocks: [1], ibn: true}", keyPath: "models[0].arch.ibn",
                        message: "IBN-a changes every stage but the last, and this network has a single stage",
                        fix: "two stages or more, or remove `ibn`")
        // Each IBN block splits its channels in two halves.
        assertArchError("{name: resnet, widths: [1, 8], blocks: [1, 1], ibn: true}", keyPath: "models[0].arch.ibn",
                        message: "IBN-a splits the 1 channel after the first convolution of stage 1", fix: "widen stage 1")
        assertArchError("{name: resnext, widths: [16, 32], blocks: [1, 1], cardinality: 1, ibn: true}", keyPath: "models[0].arch.ibn",
                        message: "IBN-a splits the 1 channel")
        XCTAssertNoThrow(try arch("{name: resnet, widths: [2, 1], blocks: [1, 1], ibn: true}"), "the last stage has no IBN")
    }

    func testRanges() {
        assertArchError("{name: resnet_ref, dropout: 1}", keyPath: "models[0].arch.dropout",
                        message: "`dropout` must be in 0..<1, found 1.0")
        assertArchError("{name: resnet_ref, se: maybe}", keyPath: "models[0].arch.se", message: "expected true or false")
        assertArchError("{name: resnet_ref, ibn: 1}", keyPath: "models[0].arch.ibn", message: "expected true or false")
        assertArchError("{name: resnext, widths: [64], blocks: [1], cardinality: 0}", keyPath: "models[0].arch.cardinality",
                        message: "`cardinality` must be 1...64, found 0", fix: "cardinality: 32")
        assertArchError("{name: resnext, widths: [64], blocks: [1], base_width: 4.5}", keyPath: "models[0].arch.base_width",
                        message: "expected an integer, found the number 4.5")
        assertArchError("{name: efficientnet_b0, width_mult: 0}", keyPath: "models[0].arch.width_mult",
                        message: "`width_mult` must be in 0.1...4, found 0.0")
        assertArchError("{name: efficientnet_b0, depth_mult: 5}", keyPath: "models[0].arch.depth_mult",
                        message: "`depth_mult` must be in 0.1...4, found 5.0")
    }
}
