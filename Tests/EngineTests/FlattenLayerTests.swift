import XCTest
import Engine
import TestSupport

final class FlattenLayerTests: XCTestCase {
    func testFlattensAllButTheBatchDimensionAndRestoresItInBackward() {
        let flatten = Flatten()
        var random = SeededRandom(seed: 21)
        let x = random.tensor([3, 2, 4, 5])
        let y = flatten.forward(x, mode: .train)
        XCTAssertEqual(y.shape, [3, 40])
        XCTAssertEqual(y.scalars, x.scalars)
        let dOutput = random.tensor([3, 40])
        let dx = flatten.backward(dOutput)
        XCTAssertEqual(dx.shape, [3, 2, 4, 5])
        XCTAssertEqual(dx.scalars, dOutput.scalars)
    }

    func testRankOneAndRankTwoInputs() {
        let flatten = Flatten()
        XCTAssertEqual(flatten.forward(Tensor(zeros: [4]), mode: .eval).shape, [4, 1])
        XCTAssertEqual(flatten.backward(Tensor(zeros: [4, 1])).shape, [4])
        XCTAssertEqual(flatten.forward(Tensor(zeros: [2, 7]), mode: .eval).shape, [2, 7])
    }

    func testGradients() {
        var random = SeededRandom(seed: 22)
        let result = checkLayerGradients(Flatten(), input: random.tensor([2, 3, 2, 3]))
        XCTAssertLessThan(result.error, 1e-3, "\(result)")
        XCTAssertTrue(Flatten().parameters.isEmpty)
    }
}
