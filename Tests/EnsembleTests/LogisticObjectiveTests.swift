import Engine
import Foundation
import Kernels
import XCTest
@testable import Ensemble

/// Plain-loop versions of the objectives (sum over rows, then divided by N),
/// the reference for the blocked, vectorised ones.
private enum Reference {
    static func softmax(x: [Float], labels: [Int], D: Int, K: Int, penalty: Double,
                        theta: [Double]) -> (value: Double, gradient: [Double]) {
        let N = labels.count
        var value = 0.0
        var gradient = [Double](repeating: 0, count: theta.count)
        for i in 0..<N {
            let logits = (0..<K).map { k in theta[K * D + k] + (0..<D).reduce(0.0) { $0 + theta[k * D + $1] * Double(x[i * D + $1]) } }
            let largest = logits.max()!
            let total = logits.reduce(0.0) { $0 + exp($1 - largest) }
            value += log(total) + largest - logits[labels[i]]
            for k in 0..<K {
                let residual = exp(logits[k] - largest) / total - (k == labels[i] ? 1 : 0)
                gradient[K * D + k] += residual
                for j in 0..<D { gradient[k * D + j] += residual * Double(x[i * D + j]) }
            }
        }
        for index in 0..<(K * D) {
            value += penalty / 2 * theta[index] * theta[index]
            gradient[index] += penalty * theta[index]
        }
        return (value / Double(N), gradient.map { $0 / Double(N) })
    }

    static func binary(x: [Float], labels: [Int], D: Int, penalty: Double, theta: [Double]) -> (value: Double, gradient: [Double]) {
        let N = labels.count
        var value = 0.0
        var gradient = [Double](repeating: 0, count: D + 1)
        for i in 0..<N {
            let z = theta[D] + (0..<D).reduce(0.0) { $0 + theta[$1] * Double(x[i * D + $1]) }
            let p = 1 / (1 + exp(-z))
            value -= labels[i] == 1 ? log(p) : log(1 - p)
            gradient[D] += p - Double(labels[i])
            for j in 0..<D { gradient[j] += (p - Double(labels[i])) * Double(x[i * D + j]) }
        }
        for j in 0..<D {
            value += penalty / 2 * theta[j] * theta[j]
            gradient[j] += penalty * theta[j]
        }
        return (value / Double(N), gradient.map { $0 / Double(N) })
    }
}

final class LogisticObjectiveTests: XCTestCase {
    /// Random features in [0, 1) (rows of probabilities are what stackers see) and labels.
    func data(rows N: Int, features D: Int, classes K: Int, seed: UInt64) -> (x: [Float], labels: [Int], theta: [Double]) {
        var random = SeededRandom(seed: seed)
        let x = (0..<(N * D)).map { _ in random.nextFloat() }
        let labels = (0..<N).map { _ in random.int(below: K) }
        let parameters = K == 2 ? D + 1 : K * (D + 1)
        let theta = (0..<parameters).map { _ in Double(random.uniform(-2, 2)) }
        return (x, labels, theta)
    }

    func assertClose(_ a: (value: Double, gradient: [Double]), _ b: (value: Double, gradient: [Double]),
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.value, b.value, accuracy: 1e-12 * max(1, abs(b.value)), file: file, line: line)
        XCTAssertEqual(a.gradient.count, b.gradient.count, file: file, line: line)
        for (x, y) in zip(a.gradient, b.gradient) { XCTAssertEqual(x, y, accuracy: 1e-12, file: file, line: line) }
    }

    func testSoftmaxMatchesPlainLoopsForEveryWidthAndBlockRemainder() {
        // 7 features leave a partial chunk; 150 rows leave a partial block of 64.
        for (D, K) in [(7, 3), (8, 5), (30, 10), (1, 4)] {
            let (x, labels, theta) = data(rows: 150, features: D, classes: K, seed: UInt64(D * 10 + K))
            let objective = SoftmaxObjective(x: x, labels: labels, D: D, K: K, penalty: 0.7)
            assertClose(objective.evaluate(theta), Reference.softmax(x: x, labels: labels, D: D, K: K, penalty: 0.7, theta: theta))
        }
    }

    func testBinaryMatchesPlainLoops() {
        for D in [1, 5, 12] {
            let (x, labels, theta) = data(rows: 130, features: D, classes: 2, seed: UInt64(D))
            let objective = BinaryObjective(x: x, labels: labels, D: D, penalty: 1.3)
            assertClose(objective.evaluate(theta), Reference.binary(x: x, labels: labels, D: D, penalty: 1.3, theta: theta))
        }
    }

    func testRowChunksGiveTheSameBitsOnOneThreadOrTwo() {
        // 9,000 rows: two chunks of the evaluation, one of them partial.
        let (x, labels, theta) = data(rows: 9000, features: 6, classes: 3, seed: 21)
        let softmax = SoftmaxObjective(x: x, labels: labels, D: 6, K: 3, penalty: 1)
        let binary = BinaryObjective(x: x, labels: labels.map { $0 % 2 }, D: 6, penalty: 1)
        let binaryTheta = Array(theta[0..<7])
        let saved = ComputeThreads.current
        defer { ComputeThreads.set(saved) }
        ComputeThreads.set(1)
        let (single, singleBinary) = (softmax.evaluate(theta), binary.evaluate(binaryTheta))
        ComputeThreads.set(2)
        let (double, doubleBinary) = (softmax.evaluate(theta), binary.evaluate(binaryTheta))
        XCTAssertEqual(single.value.bitPattern, double.value.bitPattern)
        XCTAssertEqual(single.gradient.map(\.bitPattern), double.gradient.map(\.bitPattern))
        XCTAssertEqual(singleBinary.value.bitPattern, doubleBinary.value.bitPattern)
        XCTAssertEqual(singleBinary.gradient.map(\.bitPattern), doubleBinary.gradient.map(\.bitPattern))
        assertClose(double, Reference.softmax(x: x, labels: labels, D: 6, K: 3, penalty: 1, theta: theta))
        assertClose(doubleBinary, Reference.binary(x: x, labels: labels.map { $0 % 2 }, D: 6, penalty: 1, theta: binaryTheta))
    }

    func testGradientsMatchFiniteDifferences() {
        let (x, labels, theta) = data(rows: 9, features: 3, classes: 3, seed: 4)
        let softmax = SoftmaxObjective(x: x, labels: labels, D: 3, K: 3, penalty: 0.8)
        assertGradientMatchesFiniteDifferences(softmax.evaluate, theta)
        let (bx, blabels, btheta) = data(rows: 9, features: 3, classes: 2, seed: 5)
        let binary = BinaryObjective(x: bx, labels: blabels, D: 3, penalty: 0.8)
        assertGradientMatchesFiniteDifferences(binary.evaluate, btheta)
    }

    func assertGradientMatchesFiniteDifferences(_ function: ([Double]) -> (value: Double, gradient: [Double]), _ theta: [Double],
                                                file: StaticString = #filePath, line: UInt = #line) {
        let gradient = function(theta).gradient
        for index in theta.indices {
            var up = theta, down = theta
            up[index] += 1e-6
            down[index] -= 1e-6
            let numeric = (function(up).value - function(down).value) / 2e-6
            XCTAssertEqual(gradient[index], numeric, accuracy: 1e-7, "parameter \(index)", file: file, line: line)
        }
    }

    func testObjectiveIsMeanCrossEntropyPlusHalfPenaltyOnWeightsOverN() {
        // Two rows, two classes, one feature; row 0 logits (w0·2 + b0, w1·2 + b1) = (1.5, -0.5), label 1;
        // row 1 has feature 0, logits (0.5, -0.5), label 0.
        let objective = SoftmaxObjective(x: [2, 0], labels: [1, 0], D: 1, K: 2, penalty: 4)
        let (value, _) = objective.evaluate([0.5, 0, 0.5, -0.5])
        let crossEntropy = (log(exp(1.5) + exp(-0.5)) + 0.5) + (log(exp(0.5) + exp(-0.5)) - 0.5)
        XCTAssertEqual(value, (crossEntropy + 2 * 0.25) / 2, accuracy: 1e-12)
        // The binary model: z = 0.5·2 + 0.25 for class 1 (CE = softplus(−z)), 0.25 for class 0 (softplus(z)).
        let binary = BinaryObjective(x: [2, 0], labels: [1, 0], D: 1, penalty: 4)
        let softplus = { (a: Double) in log(1 + exp(a)) }
        XCTAssertEqual(binary.evaluate([0.5, 0.25]).value, (softplus(-1.25) + softplus(0.25) + 2 * 0.25) / 2, accuracy: 1e-12)
    }

    func testVectorExponentialIsWithinAFewUlpsOfExp() {
        var worst = 0.0
        var x = -708.0
        while x + 0.731 <= 709 {
            let values = SIMD4(x, x + 0.123, x + 0.5, x + 0.731)
            let ours = exponential(values)
            for lane in 0..<4 { worst = max(worst, abs(ours[lane] / exp(values[lane]) - 1)) }
            x += 0.917
        }
        XCTAssertLessThan(worst, 1e-15)
        XCTAssertEqual(exponential(SIMD4(0, -1e-300, 1, -1)), SIMD4(1, 1, M_E, 1 / M_E))
        // Far below the range: a tiny positive value, never NaN or a negative.
        let tiny = exponential(SIMD4(repeating: -1e6))
        XCTAssertTrue(tiny[0] >= 0 && tiny[0] < 1e-307)
    }

    func testLogSumAddsLogarithmsWithoutOverflow() {
        var sum = LogSum()
        var expected = 0.0
        for i in 0..<10_000 {
            let value = 1 + Double(i % 97) * 0.37
            sum.add(value)
            expected += log(value)
        }
        XCTAssertEqual(sum.total, expected, accuracy: 1e-9 * expected)
        XCTAssertEqual(LogSum().total, 0)
    }

    func testLBFGSMinimisesAnIllConditionedQuadratic() {
        let scales: [Double] = [1, 10, 100, 1000]
        let minimum = LBFGS.minimise({ theta in
            let value = zip(theta, scales).reduce(0) { $0 + $1.1 * ($1.0 - 1) * ($1.0 - 1) / 2 }
            return (value, zip(theta, scales).map { $1 * ($0 - 1) })
        }, start: [0, 0, 0, 0], tolerance: 1e-9, maxIterations: 200)
        for value in minimum { XCTAssertEqual(value, 1, accuracy: 1e-9) }
    }
}
