import XCTest
@testable import Kernels

/// oneDNN's batch normalisation (with and without the fused ReLU, plain and blocked)
/// against the engine's own kernels, which have their own finite-difference checks.
final class DNNLBatchNormTests: XCTestCase {
    override func tearDown() { ComputeThreads.set(1) }

    private let shapes = [NormShape(N: 3, C: 16, HW: 25), NormShape(N: 2, C: 32, HW: 49), NormShape(N: 4, C: 48, HW: 1)]

    func testTrainingForwardAndBackwardMatchTheEngineKernels() {
        var random = TestRandom(seed: 31)
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            for s in shapes {
                for relu in [false, true] {
                    for layout in [ActivationLayout.nchw, .nChw8c, .nChw16c] {
                        let label = "\(s) relu \(relu) \(layout) threads \(threads)"
                        let x = random.floats(s.N * s.C * s.HW).map { $0 * 3 + 0.5 }
                        let gamma = random.floats(s.C), beta = random.floats(s.C), dy = random.floats(x.count)
                        let dGammaStart = random.floats(s.C), dBetaStart = random.floats(s.C)
                        var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: s.C)
                        var variance = mean, invStd = mean
                        batchNormTrainForward(input: x, gamma: gamma, beta: beta, output: &y, mean: &mean, variance: &variance,
                                              invStd: &invStd, shape: s, epsilon: 1e-5, relu: relu)
                        var dx = y, dGamma = dGammaStart, dBeta = dBetaStart
                        batchNormBackward(input: x, reluOutput: relu ? y : nil, gamma: gamma, mean: mean, invStd: invStd,
                                          dOutput: dy, dInput: &dx, dGamma: &dGamma, dBeta: &dBeta, shape: s)

                        let shape = [s.N, s.C, s.HW, 1]
                        let xL = reorderActivations(x, shape: shape, from: .nchw, to: layout)
                        let dyL = reorderActivations(dy, shape: shape, from: .nchw, to: layout)
                        // NaN-filled outputs: a result oneDNN did not write cannot pass as the expected one.
                        var yL = [Float](repeating: .nan, count: y.count), meanL = [Float](), varianceL = [Float](), mask = [UInt8]()
                        dnnlBatchNormTrainForward(input: xL, gamma: gamma, beta: beta, output: &yL, mean: &meanL, variance: &varianceL,
                                                  workspace: &mask, shape: s, layout: layout, epsilon: 1e-5, relu: relu)
                        assertRelativelyClose(reorderActivations(yL, shape: shape, from: layout, to: .nchw), y, "forward " + label, tolerance: 2e-5)
                        assertRelativelyClose(meanL, mean, "mean " + label, tolerance: 2e-5)
                        assertRelativelyClose(varianceL, variance, "variance " + label, tolerance: 2e-5)
                        var dxL = [Float](repeating: .nan, count: dx.count), dGammaL = dGammaStart, dBetaL = dBetaStart
                        dnnlBatchNormBackward(input: xL, gamma: gamma, mean: meanL, variance: varianceL, workspace: mask,
                                              dOutput: dyL, dInput: &dxL, dGamma: &dGammaL, dBeta: &dBetaL, shape: s,
                                              layout: layout, epsilon: 1e-5, relu: relu)
                        assertRelativelyClose(reorderActivations(dxL, shape: shape, from: layout, to: .nchw), dx, "dInput " + label, tolerance: 2e-5)
                        assertRelativelyClose(dGammaL, dGamma, "dGamma (added into) " + label, tolerance: 2e-5)
                        assertRelativelyClose(dBetaL, dBeta, "dBeta (added into) " + label, tolerance: 2e-5)
                    }
                }
            }
        }
    }

    func testEvalForwardMatchesTheEngineKernel() {
        var random = TestRandom(seed: 8)
        for s in shapes {
            for relu in [false, true] {
                let x = random.floats(s.N * s.C * s.HW), gamma = random.floats(s.C), beta = random.floats(s.C)
                let mean = random.floats(s.C), variance = random.floats(s.C).map { $0 * $0 + 0.1 }
                var y = [Float](repeating: 0, count: x.count), yL = [Float](repeating: .nan, count: x.count)
                batchNormEvalForward(input: x, gamma: gamma, beta: beta, runningMean: mean, runningVariance: variance,
                                     output: &y, shape: s, epsilon: 1e-5, relu: relu)
                let shape = [s.N, s.C, s.HW, 1]
                for layout in [ActivationLayout.nChw8c, .nChw16c] {
                    dnnlBatchNormEvalForward(input: reorderActivations(x, shape: shape, from: .nchw, to: layout), gamma: gamma,
                                             beta: beta, runningMean: mean, runningVariance: variance, output: &yL, shape: s,
                                             layout: layout, epsilon: 1e-5, relu: relu)
                    assertRelativelyClose(reorderActivations(yL, shape: shape, from: layout, to: .nchw), y, "eval \(s) relu \(relu) \(layout)", tolerance: 2e-5)
                }
            }
        }
    }

    func testReorderRoundTripsAndPlacesChannelsInBlocks() {
        let shape = [2, 32, 3, 2]
        let x = (0..<shape.reduce(1, *)).map(Float.init)
        let blocked = reorderActivations(x, shape: shape, from: .nchw, to: .nChw16c)
        // Image 1, channel 17 (block 1, lane 1), position (2, 1).
        let blockedIndex: Int = (((1 * 2 + 1) * 3 + 2) * 2 + 1) * 16 + 1
        let plainIndex: Int = ((1 * 32 + 17) * 3 + 2) * 2 + 1
        XCTAssertEqual(blocked[blockedIndex], x[plainIndex])
        XCTAssertEqual(reorderActivations(blocked, shape: shape, from: .nChw16c, to: .nchw), x)
        let eights = reorderActivations(blocked, shape: shape, from: .nChw16c, to: .nChw8c)
        // Channel 17 is block 2, lane 1 in blocks of 8.
        XCTAssertEqual(eights[(((1 * 4 + 2) * 3 + 2) * 2 + 1) * 8 + 1] as Float, x[plainIndex])
        XCTAssertEqual(reorderActivations(eights, shape: shape, from: .nChw8c, to: .nchw), x)
    }
}
