import XCTest
import Kernels

final class DropoutTests: XCTestCase {
    func testForwardMultipliesByTheMask() {
        var y = [Float](repeating: 42, count: 5)
        dropoutForward(input: [1, -2, 3, 4, -5], mask: [0, 2, 2, 0, 2], output: &y)
        XCTAssertEqual(y, [0, -4, 6, 0, -10])
    }

    func testBackwardOverwritesWithMaskTimesGradient() {
        var dx = [Float](repeating: 42, count: 4)
        dropoutBackward(dOutput: [0.5, 1, -1, 3], mask: [1.25, 0, 1.25, 0], dInput: &dx)
        XCTAssertEqual(dx, [0.625, 0, -1.25, 0])
    }

    /// Lengths that are not a multiple of a vector width must not lose their tail.
    func testOddLengthsMatchElementwiseProduct() {
        for count in [1, 7, 9, 31, 1025] {
            let x = (0..<count).map { Float($0) * 0.5 - 3 }
            let mask = (0..<count).map { $0 % 3 == 0 ? Float(0) : Float(1.5) }
            var y = [Float](repeating: .nan, count: count)
            dropoutForward(input: x, mask: mask, output: &y)
            XCTAssertEqual(y, zip(x, mask).map { $0 * $1 }, "count \(count)")
        }
    }
}
