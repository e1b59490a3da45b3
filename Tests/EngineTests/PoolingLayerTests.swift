import XCTest
import Engine
import TestSupport

final class PoolingLayerTests: XCTestCase {
    func testMaxPoolDefaultStrideIsTheKernel() {
        let pool = MaxPool2d(kernel: 2)
        XCTAssertEqual(pool.stride, 2)
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [1, 5, 2, 0,
                                                      3, 4, 8, 1])
        let y = pool.forward(x, mode: .train)
        XCTAssertEqual(y.shape, [1, 1, 1, 2])
        XCTAssertEqual(y.scalars, [5, 8])
        let dx = pool.backward(Tensor(shape: [1, 1, 1, 2], scalars: [-1, 2]))
        XCTAssertEqual(dx.shape, [1, 1, 2, 4])
        XCTAssertEqual(dx.scalars, [0, -1, 0, 0, 0, 0, 2, 0])
    }

    func testMaxPoolGradientsOnOddShapes() {
        for (shape, kernel, stride, padding) in [([2, 3, 7, 5], 3, 2, 1), ([1, 2, 5, 8], 2, 3, 0), ([2, 1, 6, 6], 3, 1, 1)] {
            let pool = MaxPool2d(kernel: kernel, stride: stride, padding: padding)
            let result = checkLayerGradients(pool, input: distinctValues(shape, seed: 11))
            XCTAssertLessThan(result.error, 1e-3, "\(shape) k\(kernel) s\(stride) p\(padding): \(result)")
        }
    }

    func testAvgPoolShapeValuesAndGradients() {
        let pool = AvgPool2d(kernel: 3, stride: 2, padding: 1)
        var random = SeededRandom(seed: 12)
        let x = random.tensor([2, 3, 7, 5])
        let y = pool.forward(x, mode: .eval)
        XCTAssertEqual(y.shape, [2, 3, 4, 3])
        // Output (0,0,1,1) averages rows 1...3, columns 1...3 of plane 0 over 9.
        let expected = (1...3).flatMap { h in (1...3).map { w in x[h * 5 + w] } }.reduce(0, +) / 9
        XCTAssertEqual(y[1 * 3 + 1], expected, accuracy: 1e-6)
        let result = checkLayerGradients(pool, input: x)
        XCTAssertLessThan(result.error, 1e-3, "\(result)")
    }

    func testGlobalAvgPoolValuesAndGradients() {
        let pool = GlobalAvgPool()
        let x = Tensor(shape: [2, 2, 1, 2], scalars: [1, 3, 5, 7, -2, 2, 0, 10])
        let y = pool.forward(x, mode: .train)
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.scalars, [2, 6, 0, 5])
        let dx = pool.backward(Tensor(shape: [2, 2], scalars: [2, 4, 6, 8]))
        XCTAssertEqual(dx.shape, [2, 2, 1, 2])
        XCTAssertEqual(dx.scalars, [1, 1, 2, 2, 3, 3, 4, 4])

        var random = SeededRandom(seed: 13)
        let result = checkLayerGradients(pool, input: random.tensor([3, 4, 5, 3]))
        XCTAssertLessThan(result.error, 1e-3, "\(result)")
    }

    func testGlobalMaxPoolValuesAndGradients() {
        let pool = GlobalMaxPool()
        let x = Tensor(shape: [1, 2, 2, 2], scalars: [1, 9, 3, 4, -5, -6, -1, -7])
        let y = pool.forward(x, mode: .eval)
        XCTAssertEqual(y.shape, [1, 2])
        XCTAssertEqual(y.scalars, [9, -1])
        let dx = pool.backward(Tensor(shape: [1, 2], scalars: [3, 4]))
        XCTAssertEqual(dx.scalars, [0, 3, 0, 0, 0, 0, 4, 0])

        let result = checkLayerGradients(pool, input: distinctValues([3, 4, 5, 3], seed: 14))
        XCTAssertLessThan(result.error, 1e-3, "\(result)")
    }

    func testPoolingLayersHaveNoParameters() {
        let layers: [any Layer] = [MaxPool2d(kernel: 2), AvgPool2d(kernel: 2), GlobalAvgPool(), GlobalMaxPool()]
        for layer in layers { XCTAssertTrue(layer.parameters.isEmpty) }
    }

    /// A second forward with a new batch size must not reuse stale buffers.
    func testBatchSizeCanChangeBetweenCalls() {
        let pool = MaxPool2d(kernel: 2, stride: 2)
        _ = pool.forward(distinctValues([4, 2, 4, 4], seed: 15), mode: .train)
        let small = distinctValues([1, 2, 4, 4], seed: 16)
        let y = pool.forward(small, mode: .train)
        XCTAssertEqual(y.shape, [1, 2, 2, 2])
        let dx = pool.backward(Tensor(repeating: 1, shape: [1, 2, 2, 2]))
        XCTAssertEqual(dx.shape, [1, 2, 4, 4])
        XCTAssertEqual(dx.scalars.reduce(0, +), 8)
    }
}

/// Values at least 0.05 apart in random order, so the checker's ±0.01 steps never change a max.
private func distinctValues(_ shape: [Int], seed: UInt64) -> Tensor {
    var random = SeededRandom(seed: seed)
    let count = shape.reduce(1, *)
    let values = (0..<count).map { Float($0) * 0.05 - Float(count) * 0.025 }.shuffled(using: &random)
    return Tensor(shape: shape, scalars: values)
}
