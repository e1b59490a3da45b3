import Engine
import XCTest

/// `image` after `apply` with the stream of `seed`.
func augmented(_ image: [Float], seed: UInt64, _ apply: (inout [Float], inout SeededRandom) -> Void) -> [Float] {
    var output = image
    var random = SeededRandom(seed: seed)
    apply(&output, &random)
    return output
}

/// A seeded augmentation gives the same output for a seed, keeps the size, and differs for some other seed.
func assertDependsOnTheSeedAlone(_ run: (UInt64) -> [Float], count: Int, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(run(3), run(3), file: file, line: line)
    XCTAssertEqual(run(3).count, count, file: file, line: line)
    XCTAssertTrue((4..<14).contains { run($0) != run(3) }, file: file, line: line)
}
