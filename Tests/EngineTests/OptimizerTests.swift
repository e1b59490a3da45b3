import Foundation
import XCTest
import TestSupport
@testable import Engine

/// Expected values were computed with torch.optim (float32) from the same start
/// point and gradients: p0 = [1, -2, 0.5] and the three gradients below.
final class OptimizerTests: XCTestCase {
    private let start: [Float] = [1, -2, 0.5]
    private let gradients: [[Float]] = [[0.1, -0.2, 0.3], [-0.5, 0.4, 0.05], [0.2, 0.2, -0.1]]

    private func makeParameter(_ name: String = "w", decays: Bool = true) -> Parameter {
        Parameter(name: name, value: Tensor(shape: [3], scalars: start), decays: decays)
    }

    /// Runs three steps and returns the value after each.
    private func run(_ optimizer: any Optimizer, lr: Float, decays: Bool = true) -> [[Float]] {
        let p = makeParameter(decays: decays)
        let store = ParameterStore([p])
        var history: [[Float]] = []
        for (index, g) in gradients.enumerated() {
            p.grad = Tensor(shape: [3], scalars: g)
            optimizer.step(store, lr: lr, step: index + 1)
            history.append(p.value.scalars)
        }
        return history
    }

    private func assertClose(_ actual: [[Float]], _ expected: [[Float]],
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            for (x, y) in zip(a, e) {
                XCTAssertEqual(x, y, accuracy: 2e-6 * max(1, abs(y)), "got \(a), expected \(e)", file: file, line: line)
            }
        }
    }

    func testPlainSGD() {
        // Hand check of step 1: 1 - 0.1·0.1 = 0.99.
        assertClose(run(SGD(), lr: 0.1), [
            [0.99, -1.98, 0.47],
            [1.04, -2.02, 0.465],
            [1.02, -2.04, 0.475],
        ])
    }

    func testSGDMomentumStartsBufferAtFirstGradient() {
        // Step 2 by hand: buffer = 0.9·0.1 - 0.5 = -0.41; 0.99 + 0.041 = 1.031.
        assertClose(run(SGD(momentum: 0.9), lr: 0.1), [
            [0.99, -1.98, 0.47],
            [1.031, -2.002, 0.438],
            [1.0479, -2.0418, 0.4192],
        ])
    }

    func testSGDNesterovWithWeightDecay() {
        assertClose(run(SGD(momentum: 0.9, nesterov: true, weightDecay: 0.01), lr: 0.1), [
            [0.9790999889373779, -1.9581999778747559, 0.4420500099658966],
            [1.0633296966552734, -2.0126593112945557, 0.40700510144233704],
            [1.0549973249435425, -2.0616111755371094, 0.39858922362327576],
        ])
    }

    func testSGDWeightDecayEntersGradient() {
        // Step 1 by hand: 1 - 0.1·(0.1 + 0.1·1) = 0.98.
        assertClose(run(SGD(weightDecay: 0.1), lr: 0.1), [
            [0.98, -1.96, 0.465],
            [1.0202000141143799, -1.9804000854492188, 0.45535001158714294],
            [0.9899979829788208, -1.9805960655212402, 0.4607965052127838],
        ])
    }

    func testAdam() {
        // Step 1 of Adam moves every coordinate by lr·sign(g) (bias correction).
        assertClose(run(Adam(), lr: 0.1), [
            [0.9, -1.9, 0.4],
            [0.959835410118103, -1.9366103410720825, 0.32166728377342224],
            [0.9795548915863037, -1.9885344505310059, 0.28412187099456787],
        ])
    }

    func testAdamWithL2DecayAndCustomBetas() {
        assertClose(run(Adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1), lr: 0.1), [
            [0.9000004529953003, -1.9000002145767212, 0.40000027418136597],
            [0.9429911375045776, -1.880842924118042, 0.31938284635543823],
            [0.930670440196991, -1.868844985961914, 0.2751898765563965],
        ])
    }

    func testAdamWDecoupledDecay() {
        // Step 1 by hand: 1·(1 - 0.01·0.1) - 0.01 = 0.989.
        assertClose(run(AdamW(weightDecay: 0.1), lr: 0.01), [
            [0.989, -1.988, 0.4895],
            [0.9939945936203003, -1.989673137664795, 0.4811772406101227],
            [0.9949725866317749, -1.9928759336471558, 0.4769415557384491],
        ])
    }

    func testAdamOnFullVectorChunksMatchesTheFormula() {
        // 19 values: two full chunks of eight plus a tail of three.
        for decoupled in [false, true] {
            var random = SeededRandom(seed: 5)
            let count = 19
            let start = random.tensor([count])
            let p = Parameter(name: "w", value: start)
            let optimizer: any Optimizer = decoupled ? AdamW(weightDecay: 0.1) : Adam(weightDecay: 0.1)
            let (lr, b1, b2, eps, wd) = (0.01, 0.9, 0.999, 1e-8, 0.1)
            var value = start.scalars.map(Double.init)
            var m = [Double](repeating: 0, count: count), v = m
            for step in 1...3 {
                p.grad = random.tensor([count])
                optimizer.update(p, lr: Float(lr), step: step)
                let t = Double(step)
                for i in 0..<count {
                    if decoupled { value[i] *= 1 - lr * wd }
                    let g = Double(p.grad[i]) + (decoupled ? 0 : wd * value[i])
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    let denominator = (v[i] / (1 - pow(b2, t))).squareRoot() + eps
                    value[i] -= lr / (1 - pow(b1, t)) * m[i] / denominator
                }
            }
            for i in 0..<count {
                XCTAssertEqual(Double(p.value[i]), value[i], accuracy: 1e-5, "index \(i), decoupled \(decoupled)")
            }
        }
    }

    func testNoDecayWhenParameterDoesNotDecay() {
        assertClose(run(SGD(weightDecay: 0.1), lr: 0.1, decays: false), run(SGD(), lr: 0.1))
        assertClose(run(SGD(momentum: 0.9, nesterov: true, weightDecay: 0.5), lr: 0.1, decays: false),
                    run(SGD(momentum: 0.9, nesterov: true), lr: 0.1))
        assertClose(run(Adam(weightDecay: 0.1), lr: 0.1, decays: false), run(Adam(), lr: 0.1))
        assertClose(run(AdamW(weightDecay: 0.1), lr: 0.01, decays: false), run(Adam(), lr: 0.01))
    }

    func testLearningRateMultiplierScalesTheStep() {
        let half = makeParameter("half")
        half.lrMultiplier = 0.5
        let full = makeParameter("full")
        let store = ParameterStore([half, full])
        for p in store.all { p.grad = Tensor(shape: [3], scalars: gradients[0]) }
        SGD().step(store, lr: 0.2, step: 1)
        XCTAssertEqual(half.value.scalars, [0.99, -1.98, 0.47])
        XCTAssertEqual(full.value.scalars, [0.98, -1.96, 0.44])
    }

    func testFrozenParametersAndBuffersAreNotUpdated() {
        let frozen = makeParameter("frozen")
        frozen.frozen = true
        frozen.grad = Tensor(shape: [3], scalars: gradients[0])
        let buffer = Parameter(name: "running", value: Tensor(shape: [3], scalars: start), isBuffer: true)
        let store = ParameterStore([frozen, buffer])
        for optimizer in [SGD(momentum: 0.9), Adam(), AdamW()] as [any Optimizer] {
            optimizer.step(store, lr: 0.1, step: 1)
        }
        XCTAssertEqual(frozen.value.scalars, start)
        XCTAssertEqual(buffer.value.scalars, start)
    }

    func testStateIsKeptPerParameter() {
        // Two parameters with different gradients must not share momentum buffers.
        let a = makeParameter("a"), b = makeParameter("b")
        let store = ParameterStore([a, b])
        let optimizer = SGD(momentum: 0.9)
        a.grad = Tensor(shape: [3], scalars: gradients[0])
        b.grad = Tensor(zeros: [3])
        optimizer.step(store, lr: 0.1, step: 1)
        a.grad = Tensor(shape: [3], scalars: gradients[1])
        optimizer.step(store, lr: 0.1, step: 2)
        XCTAssertEqual(b.value.scalars, start)
        for (x, y) in zip(a.value.scalars, [1.031, -2.002, 0.438] as [Float]) {
            XCTAssertEqual(x, y, accuracy: 1e-6)
        }
    }
}
