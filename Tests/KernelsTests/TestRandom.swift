import XCTest

/// A small deterministic generator (the engine's SeededRandom lives above Kernels).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
    }
}

/// Agreement of `a` with `b` within `tolerance` relative to the values' size (at least 1).
func assertRelativelyClose(_ a: [Float], _ b: [Float], _ message: String, tolerance: Float,
                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let scale = max(1, b.map(abs).max() ?? 0)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThan(worst, tolerance * scale, message, file: file, line: line)
}
