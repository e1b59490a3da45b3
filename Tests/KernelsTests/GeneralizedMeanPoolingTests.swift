import XCTest
import Kernels

final class GeneralizedMeanPoolingTests: XCTestCase {
    let shape = GlobalPoolShape(N: 1, C: 2, H: 2, W: 2)
    let x: [Float] = [0.5, 1, 2, 4,
                      0.25, 3, 3, 0.5]

    func pooled(p: Float) -> [Float] {
        var y = [Float](repeating: 0, count: 2)
        gemPoolForward(input: x, p: p, epsilon: 1e-6, output: &y, shape: shape)
        return y
    }

    func testAverageAtOneAndNearMaxForLargeExponents() {
        XCTAssertEqual(pooled(p: 1)[0], 7.5 / 4, accuracy: 1e-6)
        XCTAssertEqual(pooled(p: 1)[1], 6.75 / 4, accuracy: 1e-6)
        XCTAssertEqual(pooled(p: 60)[0], 4, accuracy: 0.1)
        XCTAssertEqual(pooled(p: 60)[1], 3, accuracy: 0.1)
    }

    func testExponentGradientMatchesFiniteDifferences() {
        let dy: [Float] = [0.7, -1.3]
        var dx = [Float](repeating: 0, count: 8)
        let dP = gemPoolBackward(input: x, p: 3, epsilon: 1e-6, dOutput: dy, dInput: &dx, shape: shape)
        func loss(_ p: Float) -> Float { zip(pooled(p: p), dy).map(*).reduce(0, +) }
        XCTAssertEqual(dP, (loss(3.01) - loss(2.99)) / 0.02, accuracy: 1e-3)
        // dy/dx = y/m · x^(p−1)/HW; for x = 4 in plane 0, m = (0.125 + 1 + 8 + 64)/4.
        let m: Float = 73.125 / 4
        XCTAssertEqual(dx[3], 0.7 * powf(m, 1 / 3) / m * 16 / 4, accuracy: 1e-4)
    }
}
