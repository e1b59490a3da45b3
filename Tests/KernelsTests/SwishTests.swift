import XCTest
import Kernels

final class SwishTests: XCTestCase {
    /// More values than one thread block, so the split across threads is exercised too.
    func testValuesAndDerivativeAcrossThreads() {
        let x = (0..<10_000).map { Float($0 % 200) / 10 - 10 }
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            var y = [Float](repeating: 0, count: x.count), dx = y
            swishForward(x, &y)
            swishBackward(input: x, dOutput: [Float](repeating: 2, count: x.count), dInput: &dx)
            for i in stride(from: 0, to: x.count, by: 37) {
                let s = 1 / (1 + expf(-x[i]))
                XCTAssertEqual(y[i], x[i] * s, accuracy: 1e-5)
                XCTAssertEqual(dx[i], 2 * (s + x[i] * s * (1 - s)), accuracy: 1e-5)
            }
        }
        ComputeThreads.set(1)
    }
}
