@testable import Datasets
import Engine
import XCTest

final class RandAugmentTests: XCTestCase {
    private typealias Operation = RandAugment.Operation

    private func applied(_ operation: Operation, amount: Double, _ image: [Float], channels: Int = 1,
                         height: Int, width: Int) -> [Float] {
        var output = image
        RandAugment.apply(operation, amount: amount, to: &output, channels: channels, height: height, width: width)
        return output
    }

    private func assertEqual(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(a) vs \(b)", file: file, line: line) }
    }

    func testRotateNinetyDegreesCounterClockwise() {
        let image: [Float] = (1...9).map(Float.init)
        assertEqual(applied(.rotate, amount: 90, image, height: 3, width: 3), [3, 6, 9, 2, 5, 8, 1, 4, 7])
        assertEqual(applied(.rotate, amount: -90, image, height: 3, width: 3), [7, 4, 1, 8, 5, 2, 9, 6, 3])
        // Two channels turn alike.
        assertEqual(applied(.rotate, amount: 180, image + image.map { -$0 }, channels: 2, height: 3, width: 3),
                    image.reversed() + image.reversed().map { -$0 })
    }

    func testShearsAboutTheTopLeftCorner() {
        // Output (x, y) samples x + f·(y + ½): with f = 2 row 0 shifts by 1 and row 1 by 3, zeros shifted in.
        let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        assertEqual(applied(.shearX, amount: 2, image, height: 2, width: 4), [2, 3, 4, 0, 8, 0, 0, 0])
        // shear_y is the same on the transposed image: column 0 shifts up by 1, column 1 by 3.
        let tall: [Float] = [1, 5, 2, 6, 3, 7, 4, 8]
        assertEqual(applied(.shearY, amount: 2, tall, height: 4, width: 2), [2, 8, 3, 0, 4, 0, 0, 0])
        // A half-pixel shift averages neighbours.
        assertEqual(applied(.shearX, amount: 1, [0, 10], height: 1, width: 2), [5, 5])
    }

    func testTranslateMovesContentRightAndDown() {
        let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        assertEqual(applied(.translateX, amount: 0.25, image, height: 2, width: 4), [0, 1, 2, 3, 0, 5, 6, 7])
        assertEqual(applied(.translateX, amount: -0.5, image, height: 2, width: 4), [3, 4, 0, 0, 7, 8, 0, 0])
        assertEqual(applied(.translateY, amount: 0.5, image, height: 2, width: 4), [0, 0, 0, 0, 1, 2, 3, 4])
    }

    func testBrightnessShiftsAndContrastScalesAboutEachChannelsMean() {
        let image: [Float] = [1, 3, -2, 2]
        assertEqual(applied(.brightness, amount: 0.5, image, height: 1, width: 4), [1.5, 3.5, -1.5, 2.5])
        // Channel means 2 and 0; factor 1 + 0.5.
        assertEqual(applied(.contrast, amount: 0.5, image, channels: 2, height: 1, width: 2), [0.5, 3.5, -3, 3])
    }

    func testMagnitudeZeroIsIdentityForEveryOperation() {
        let image: [Float] = (0..<(3 * 5 * 4)).map { cosf(Float($0)) }
        for operation in Operation.allCases {
            XCTAssertEqual(applied(operation, amount: 0, image, channels: 3, height: 5, width: 4), image, "\(operation)")
        }
        for seed in 0..<30 as Range<UInt64> {
            let output = augmented(image, seed: seed) {
                RandAugment(n: 3, magnitude: 0).apply(to: &$0, channels: 3, height: 5, width: 4, random: &$1)
            }
            XCTAssertEqual(output, image)
        }
    }

    func testPolicyIsDeterministicAndUsesSeveralOperations() {
        let policy = RandAugment(n: 1, magnitude: 30)
        let image: [Float] = (0..<(6 * 6)).map { Float($0 % 7) - 3 }
        let run = { (seed: UInt64) in augmented(image, seed: seed) { policy.apply(to: &$0, channels: 1, height: 6, width: 6, random: &$1) } }
        assertDependsOnTheSeedAlone(run, count: image.count)
        // Each of the 7 operations with either sign, and nothing else, explains every outcome.
        let candidates = Operation.allCases.flatMap { operation in
            [-1.0, 1.0].map { applied(operation, amount: $0 * operation.largest, image, height: 6, width: 6) }
        }
        var seen = Set<Int>()
        for seed in 0..<300 as Range<UInt64> {
            let output = run(seed)
            guard let match = candidates.firstIndex(of: output) else { XCTFail("seed \(seed) is no single operation"); continue }
            seen.insert(match)
        }
        XCTAssertEqual(seen.count, candidates.count, "every operation and sign should occur")
    }
}
