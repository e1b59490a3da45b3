import XCTest
@testable import Engine
import Kernels
import TestSupport

final class ConvLayerTests: XCTestCase {
    /// Direct 7-loop convolution, the definition the fast path must match.
    func naiveConv(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int) -> Tensor {
        let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (F, R, S) = (w.shape[0], w.shape[2], w.shape[3])
        let P = (H + 2 * padding - R) / stride + 1, Q = (W + 2 * padding - S) / stride + 1
        var y = Tensor(zeros: [N, F, P, Q])
        for n in 0..<N { for f in 0..<F { for p in 0..<P { for q in 0..<Q {
            var s: Float = 0
            for c in 0..<C { for r in 0..<R { for t in 0..<S {
                let iy = p * stride - padding + r, ix = q * stride - padding + t
                if iy >= 0 && iy < H && ix >= 0 && ix < W {
                    s += x[((n * C + c) * H + iy) * W + ix] * w[((f * C + c) * R + r) * S + t]
                }
            }}}
            y[((n * F + f) * P + p) * Q + q] = s
        }}}}
        return y
    }

    func testForwardMatchesNaiveAcrossShapes() {
        var random = SeededRandom(seed: 1)
        for (threads, k, stride, padding, n) in [(1, 3, 1, 1, 3), (2, 3, 2, 1, 5), (2, 1, 2, 0, 4), (1, 5, 1, 2, 2), (2, 2, 3, 0, 7)] {
            ComputeThreads.set(threads)
            let conv = Conv2d(name: "c", inChannels: 3, outChannels: 4, kernel: k, stride: stride, padding: padding, random: &random)
            let x = random.tensor([n, 3, 9, 7])
            let y = conv.forward(x, mode: .train)
            let expected = naiveConv(x, conv.weight.value, stride: stride, padding: padding)
            XCTAssertEqual(y.shape, expected.shape)
            for i in 0..<y.count { XCTAssertEqual(y[i], expected[i], accuracy: 1e-4, "k\(k) s\(stride) p\(padding) at \(i)") }
        }
        ComputeThreads.set(1)
    }

    func testGradients() {
        var random = SeededRandom(seed: 2)
        for (threads, k, stride, padding, bias) in [(1, 3, 1, 1, false), (2, 3, 2, 1, true), (2, 1, 2, 0, false),
                                                  (1, 4, 2, 2, true), (2, 5, 1, 2, false), (1, 1, 1, 0, true)] {
            ComputeThreads.set(threads)
            let conv = Conv2d(name: "c", inChannels: 2, outChannels: 3, kernel: k, stride: stride, padding: padding,
                              bias: bias, random: &random)
            let result = checkLayerGradients(conv, input: random.tensor([3, 2, 6, 5]))
            XCTAssertLessThan(result.error, 1e-2, "k\(k) s\(stride) p\(padding): \(result)")
        }
        ComputeThreads.set(1)
    }

    func testThreadCountDoesNotChangeGradientsBeyondRounding() {
        var random = SeededRandom(seed: 3)
        let conv = Conv2d(name: "c", inChannels: 3, outChannels: 5, kernel: 3, padding: 1, random: &random)
        let x = random.tensor([6, 3, 8, 8]), dy = random.tensor([6, 5, 8, 8])
        var grads: [[Float]] = []
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            conv.weight.zeroGrad()
            _ = conv.forward(x, mode: .train)
            _ = conv.backward(dy)
            grads.append(conv.weight.grad.scalars)
        }
        for i in 0..<grads[0].count { XCTAssertEqual(grads[0][i], grads[1][i], accuracy: 1e-4) }
        ComputeThreads.set(1)
    }
}
