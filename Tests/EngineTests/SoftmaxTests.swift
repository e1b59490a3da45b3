import XCTest
import TestSupport
@testable import Engine

final class SoftmaxTests: XCTestCase {
    // softmax([1, 2, 3]) = e^k / (e + e² + e³), computed in double precision.
    private let probabilities: [Float] = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219]
    private let logProbabilities: [Float] = [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806]

    private func assertClose(_ actual: [Float], _ expected: [Float], accuracy: Float = 1e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a, e, accuracy: accuracy, "got \(actual)", file: file, line: line)
        }
    }

    func testSoftmaxValuesPerRow() {
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 0])
        let y = softmax(logits)
        XCTAssertEqual(y.shape, [2, 3])
        assertClose(Array(y.scalars[0..<3]), probabilities)
        assertClose(Array(y.scalars[3..<6]), [1.0 / 3, 1.0 / 3, 1.0 / 3])
    }

    func testLogSoftmaxValuesPerRow() {
        let y = logSoftmax(Tensor(shape: [1, 3], scalars: [1, 2, 3]))
        assertClose(y.scalars, logProbabilities)
    }

    func testLargeLogitsDoNotOverflow() {
        // Shifting every logit by 1000 must not change the result.
        let shifted = Tensor(shape: [2, 3], scalars: [1001, 1002, 1003, -999, -998, -997])
        assertClose(Array(softmax(shifted).scalars[0..<3]), probabilities)
        assertClose(Array(softmax(shifted).scalars[3..<6]), probabilities)
        assertClose(Array(logSoftmax(shifted).scalars[3..<6]), logProbabilities, accuracy: 1e-4)
        let extreme = logSoftmax(Tensor(shape: [1, 2], scalars: [0, -200]))
        assertClose(extreme.scalars, [0, -200])
    }

    func testHigherRankUsesLastDimension() {
        let logits = Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, 1, 2, 3])
        let y = softmax(logits)
        XCTAssertEqual(y.shape, [2, 1, 3])
        assertClose(Array(y.scalars[3..<6]), probabilities)
    }

    func testSoftmaxLayerGradients() {
        var random = SeededRandom(seed: 11)
        let input = random.tensor([4, 5], scale: 2)
        let result = checkLayerGradients(SoftmaxLayer(), input: input, epsilon: 1e-2)
        XCTAssertLessThan(result.error, 1e-2, result.description)
    }

    func testLogSoftmaxLayerGradients() {
        var random = SeededRandom(seed: 12)
        let input = random.tensor([4, 5], scale: 2)
        let result = checkLayerGradients(LogSoftmaxLayer(), input: input, epsilon: 1e-2)
        XCTAssertLessThan(result.error, 1e-2, result.description)
    }

    func testLayersMatchFunctionsAndHaveNoParameters() {
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 4])
        XCTAssertEqual(SoftmaxLayer().forward(logits, mode: .eval), softmax(logits))
        XCTAssertEqual(LogSoftmaxLayer().forward(logits, mode: .eval), logSoftmax(logits))
        XCTAssertTrue(SoftmaxLayer().parameters.isEmpty)
        XCTAssertTrue(LogSoftmaxLayer().parameters.isEmpty)
    }
}
