import XCTest
import Kernels

/// Odd shapes: non-square, padding, stride > 1, kernels that do not divide the size.
private let oddShapes: [PoolShape] = [
    PoolShape(N: 2, C: 3, H: 7, W: 5, kernel: 3, stride: 2, padding: 1),
    PoolShape(N: 1, C: 2, H: 5, W: 8, kernel: 2, stride: 3, padding: 0),
    PoolShape(N: 3, C: 1, H: 6, W: 9, kernel: 3, stride: 1, padding: 1),
    PoolShape(N: 2, C: 2, H: 4, W: 3, kernel: 1, stride: 2, padding: 0),
    PoolShape(N: 1, C: 3, H: 9, W: 11, kernel: 4, stride: 3, padding: 2),
    PoolShape(N: 2, C: 4, H: 8, W: 8, kernel: 2, stride: 2, padding: 0),
]

final class PoolingTests: XCTestCase {
    func testOutputSizeFollowsTorchFloorMode() {
        let s = PoolShape(N: 1, C: 1, H: 7, W: 5, kernel: 3, stride: 2, padding: 1)
        XCTAssertEqual([s.outH, s.outW], [4, 3])
        let t = PoolShape(N: 1, C: 1, H: 5, W: 8, kernel: 2, stride: 3, padding: 0)
        XCTAssertEqual([t.outH, t.outW], [2, 3])
        XCTAssertEqual(t.outputCount, 6)
        XCTAssertEqual(t.inputCount, 40)
    }

    func testMaxPoolHandExample() {
        let s = PoolShape(N: 1, C: 1, H: 4, W: 4, kernel: 2, stride: 2, padding: 0)
        let x: [Float] = [1, 5, 2, 0,
                          3, 4, 8, 1,
                          0, 9, 6, 7,
                          2, 1, 7, 3]
        var y = [Float](repeating: 0, count: 4), argmax = [Int32](repeating: 0, count: 4)
        maxPoolForward(input: x, output: &y, argmax: &argmax, shape: s)
        XCTAssertEqual(y, [5, 8, 9, 7])
        XCTAssertEqual(argmax, [1, 6, 9, 11])
        var dx = [Float](repeating: 42, count: 16)
        maxPoolBackward(dOutput: [10, 20, 30, 40], argmax: argmax, dInput: &dx, shape: s)
        XCTAssertEqual(dx, [0, 10, 0, 0,
                            0, 0, 20, 0,
                            0, 30, 0, 40,
                            0, 0, 0, 0])
    }

    func testMaxPoolPaddingNeverWins() {
        let s = PoolShape(N: 1, C: 1, H: 2, W: 2, kernel: 2, stride: 1, padding: 1)
        var y = [Float](repeating: 0, count: 9), argmax = [Int32](repeating: 0, count: 9)
        maxPoolForward(input: [-1, -2, -3, -4], output: &y, argmax: &argmax, shape: s)
        XCTAssertEqual(y, [-1, -1, -2,
                           -1, -1, -2,
                           -3, -3, -4])
    }

    func testMaxPoolOverlappingWindowsAddGradients() {
        // Kernel 3, stride 1 over a 3×4 plane: the 9 sits in both windows.
        let s = PoolShape(N: 1, C: 1, H: 3, W: 4, kernel: 3, stride: 1, padding: 0)
        let x: [Float] = [0, 1, 2, 0,
                          1, 2, 9, 1,
                          0, 1, 2, 0]
        var y = [Float](repeating: 0, count: 2), argmax = [Int32](repeating: 0, count: 2)
        maxPoolForward(input: x, output: &y, argmax: &argmax, shape: s)
        XCTAssertEqual(y, [9, 9])
        var dx = [Float](repeating: 0, count: 12)
        maxPoolBackward(dOutput: [1.5, 2.0], argmax: argmax, dInput: &dx, shape: s)
        XCTAssertEqual(dx[6], 3.5)
        XCTAssertEqual(dx.reduce(0, +), 3.5)
    }

    func testMaxPoolPropagatesNaN() {
        let s = PoolShape(N: 1, C: 1, H: 2, W: 2, kernel: 2, stride: 2, padding: 0)
        var y: [Float] = [0], argmax: [Int32] = [0]
        maxPoolForward(input: [1, .nan, 3, 2], output: &y, argmax: &argmax, shape: s)
        XCTAssertTrue(y[0].isNaN)
        var g: [Float] = [0], a: [Int32] = [0]
        globalMaxPoolForward(input: [1, 5, .nan, 2], output: &g, argmax: &a,
                             shape: GlobalPoolShape(N: 1, C: 1, H: 2, W: 2))
        XCTAssertTrue(g[0].isNaN)
    }

    func testMaxPoolMatchesNaiveOnOddShapes() {
        var random = TestRandom(seed: 1)
        for s in oddShapes {
            let x = random.floats(s.inputCount)
            let dy = random.floats(s.outputCount)
            var y = [Float](repeating: 0, count: s.outputCount), argmax = [Int32](repeating: -1, count: s.outputCount)
            maxPoolForward(input: x, output: &y, argmax: &argmax, shape: s)
            let (naiveY, naiveArgmax) = naiveMaxPool(x, s)
            XCTAssertEqual(y, naiveY, "\(s)")
            XCTAssertEqual(argmax, naiveArgmax, "\(s)")
            var dx = random.floats(s.inputCount)
            maxPoolBackward(dOutput: dy, argmax: argmax, dInput: &dx, shape: s)
            assertClose(dx, naiveMaxPoolBackward(dy, naiveArgmax, s), "\(s)")
        }
    }

    func testAvgPoolCountsPaddingInTheDivisor() {
        let s = PoolShape(N: 1, C: 1, H: 2, W: 2, kernel: 2, stride: 1, padding: 1)
        var y = [Float](repeating: 0, count: 9)
        avgPoolForward(input: [1, 2, 3, 4], output: &y, shape: s)
        assertClose(y, [0.25, 0.75, 0.5,
                        1.0, 2.5, 1.5,
                        0.75, 1.75, 1.0], "count_include_pad")
        var dx = [Float](repeating: 42, count: 4)
        avgPoolBackward(dOutput: [Float](repeating: 1, count: 9), dInput: &dx, shape: s)
        XCTAssertEqual(dx, [1, 1, 1, 1])
    }

    func testAvgPoolMatchesNaiveOnOddShapes() {
        var random = TestRandom(seed: 2)
        for s in oddShapes {
            let x = random.floats(s.inputCount)
            let dy = random.floats(s.outputCount)
            var y = random.floats(s.outputCount)
            avgPoolForward(input: x, output: &y, shape: s)
            assertClose(y, naiveAvgPool(x, s), "\(s)")
            var dx = random.floats(s.inputCount)
            avgPoolBackward(dOutput: dy, dInput: &dx, shape: s)
            assertClose(dx, naiveAvgPoolBackward(dy, s), "\(s)")
        }
    }

    /// Average pooling is linear, so its backward must be its adjoint: <A x, g> = <x, Aᵀ g>.
    func testAvgPoolBackwardIsTheAdjointOfForward() {
        var random = TestRandom(seed: 3)
        for s in oddShapes {
            let x = random.floats(s.inputCount), g = random.floats(s.outputCount)
            var y = [Float](repeating: 0, count: s.outputCount), dx = [Float](repeating: 0, count: s.inputCount)
            avgPoolForward(input: x, output: &y, shape: s)
            avgPoolBackward(dOutput: g, dInput: &dx, shape: s)
            XCTAssertEqual(dot(y, g), dot(x, dx), accuracy: 1e-4, "\(s)")
        }
    }

    func testGlobalAvgPoolHandExampleAndNaive() {
        let s = GlobalPoolShape(N: 1, C: 2, H: 2, W: 3)
        var y: [Float] = [0, 0]
        globalAvgPoolForward(input: [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, -6], output: &y, shape: s)
        XCTAssertEqual(y, [3.5, -1])
        var dx = [Float](repeating: 42, count: 12)
        globalAvgPoolBackward(dOutput: [6, 12], dInput: &dx, shape: s)
        XCTAssertEqual(dx, [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2])

        // A 13×17 plane exercises both the eight-lane loop and its tail.
        var random = TestRandom(seed: 4)
        let big = GlobalPoolShape(N: 2, C: 3, H: 13, W: 17)
        let x = random.floats(big.inputCount)
        var out = [Float](repeating: 0, count: big.outputCount)
        globalAvgPoolForward(input: x, output: &out, shape: big)
        let plane = 13 * 17
        let naive = (0..<6).map { p in x[p * plane..<(p + 1) * plane].reduce(0, +) / Float(plane) }
        assertClose(out, naive, "global average")
    }

    func testGlobalMaxPoolHandExampleAndNaive() {
        let s = GlobalPoolShape(N: 2, C: 1, H: 1, W: 3)
        var y: [Float] = [0, 0], argmax: [Int32] = [0, 0]
        globalMaxPoolForward(input: [1, 7, 3, -5, -2, -9], output: &y, argmax: &argmax, shape: s)
        XCTAssertEqual(y, [7, -2])
        XCTAssertEqual(argmax, [1, 1])
        var dx = [Float](repeating: 42, count: 6)
        globalMaxPoolBackward(dOutput: [10, 20], argmax: argmax, dInput: &dx, shape: s)
        XCTAssertEqual(dx, [0, 10, 0, 0, 20, 0])

        var random = TestRandom(seed: 5)
        let big = GlobalPoolShape(N: 3, C: 2, H: 5, W: 7)
        let x = random.floats(big.inputCount)
        var out = [Float](repeating: 0, count: big.outputCount), a = [Int32](repeating: 0, count: big.outputCount)
        globalMaxPoolForward(input: x, output: &out, argmax: &a, shape: big)
        for p in 0..<6 {
            let planeValues = Array(x[p * 35..<(p + 1) * 35])
            XCTAssertEqual(out[p], planeValues.max())
            XCTAssertEqual(Int(a[p]), planeValues.firstIndex(of: planeValues.max()!))
        }
    }

    /// Large enough to take the multi-threaded path; must equal the one-thread result.
    func testThreadedPoolingMatchesSingleThread() {
        var random = TestRandom(seed: 6)
        let s = PoolShape(N: 4, C: 16, H: 33, W: 31, kernel: 3, stride: 2, padding: 1)
        let x = random.floats(s.inputCount)
        let previous = ComputeThreads.current
        defer { ComputeThreads.set(previous) }
        var results: [[Float]] = []
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            var y = [Float](repeating: 0, count: s.outputCount), argmax = [Int32](repeating: 0, count: s.outputCount)
            maxPoolForward(input: x, output: &y, argmax: &argmax, shape: s)
            var dx = [Float](repeating: 0, count: s.inputCount)
            avgPoolBackward(dOutput: y, dInput: &dx, shape: s)
            results.append(y + dx)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(Array(results[0][0..<s.outputCount]), naiveMaxPool(x, s).output)
    }
}

// MARK: - Naive references: every window position checked against the padded bounds.

private func naiveMaxPool(_ x: [Float], _ s: PoolShape) -> (output: [Float], argmax: [Int32]) {
    var y: [Float] = [], argmax: [Int32] = []
    for plane in 0..<(s.N * s.C) {
        for oh in 0..<s.outH {
            for ow in 0..<s.outW {
                var best: Float?, bestIndex = -1
                for kh in 0..<s.kernel {
                    for kw in 0..<s.kernel {
                        let h = oh * s.stride - s.padding + kh, w = ow * s.stride - s.padding + kw
                        guard h >= 0, h < s.H, w >= 0, w < s.W else { continue }
                        let v = x[plane * s.H * s.W + h * s.W + w]
                        if best == nil || v > best! { (best, bestIndex) = (v, h * s.W + w) }
                    }
                }
                y.append(best!)
                argmax.append(Int32(bestIndex))
            }
        }
    }
    return (y, argmax)
}

private func naiveMaxPoolBackward(_ dy: [Float], _ argmax: [Int32], _ s: PoolShape) -> [Float] {
    var dx = [Float](repeating: 0, count: s.inputCount)
    let outPlane = s.outH * s.outW
    for o in 0..<s.outputCount { dx[(o / outPlane) * s.H * s.W + Int(argmax[o])] += dy[o] }
    return dx
}

private func naiveAvgPool(_ x: [Float], _ s: PoolShape) -> [Float] {
    var y: [Float] = []
    for plane in 0..<(s.N * s.C) {
        for oh in 0..<s.outH {
            for ow in 0..<s.outW {
                var sum: Float = 0
                for kh in 0..<s.kernel {
                    for kw in 0..<s.kernel {
                        let h = oh * s.stride - s.padding + kh, w = ow * s.stride - s.padding + kw
                        if h >= 0, h < s.H, w >= 0, w < s.W { sum += x[plane * s.H * s.W + h * s.W + w] }
                    }
                }
                y.append(sum / Float(s.kernel * s.kernel))
            }
        }
    }
    return y
}

private func naiveAvgPoolBackward(_ dy: [Float], _ s: PoolShape) -> [Float] {
    var dx = [Float](repeating: 0, count: s.inputCount)
    var o = 0
    for plane in 0..<(s.N * s.C) {
        for oh in 0..<s.outH {
            for ow in 0..<s.outW {
                for kh in 0..<s.kernel {
                    for kw in 0..<s.kernel {
                        let h = oh * s.stride - s.padding + kh, w = ow * s.stride - s.padding + kw
                        if h >= 0, h < s.H, w >= 0, w < s.W {
                            dx[plane * s.H * s.W + h * s.W + w] += dy[o] / Float(s.kernel * s.kernel)
                        }
                    }
                }
                o += 1
            }
        }
    }
    return dx
}

private func dot(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}

private func assertClose(_ a: [Float], _ b: [Float], _ message: String,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThan(worst, 1e-5, message, file: file, line: line)
}
