import XCTest
@testable import Engine
import Kernels
import TestSupport

/// Grouped and depthwise Conv2d against the definition, and their gradients.
final class GroupedConvTests: XCTestCase {
    /// Direct loops over PyTorch's definition: filter f of group f / (F/G) sees channels g·C/G…
    func naiveGroupedConv(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int, groups: Int) -> Tensor {
        let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (F, Cg, R, S) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let P = (H + 2 * padding - R) / stride + 1, Q = (W + 2 * padding - S) / stride + 1
        var y = Tensor(zeros: [N, F, P, Q])
        for n in 0..<N { for f in 0..<F { for p in 0..<P { for q in 0..<Q {
            let g = f / (F / groups)
            var s: Float = 0
            for c in 0..<Cg { for r in 0..<R { for t in 0..<S {
                let iy = p * stride - padding + r, ix = q * stride - padding + t
                if iy >= 0 && iy < H && ix >= 0 && ix < W {
                    s += x[((n * C + g * Cg + c) * H + iy) * W + ix] * w[((f * Cg + c) * R + r) * S + t]
                }
            }}}
            y[((n * F + f) * P + p) * Q + q] = s
        }}}}
        return y
    }

    /// (threads, channels, filters, groups, kernel, stride, padding, batch): grouped, depthwise
    /// (groups == C == F), and a channel multiplier (groups == C < F).
    let cases = [(1, 6, 4, 2, 3, 1, 1, 3), (2, 6, 9, 3, 3, 2, 1, 5), (2, 4, 4, 4, 3, 1, 1, 4), (1, 5, 5, 5, 5, 2, 2, 2),
                 (2, 3, 3, 3, 3, 2, 1, 3), (1, 4, 8, 4, 1, 1, 0, 2), (2, 8, 8, 8, 2, 3, 0, 3), (1, 4, 4, 2, 4, 1, 2, 2)]

    func testForwardMatchesNaiveLoops() {
        var random = SeededRandom(seed: 21)
        for (threads, C, F, groups, k, stride, padding, n) in cases {
            ComputeThreads.set(threads)
            let conv = Conv2d(name: "c", inChannels: C, outChannels: F, kernel: k, stride: stride, padding: padding,
                              groups: groups, random: &random)
            XCTAssertEqual(conv.weight.shape, [F, C / groups, k, k])
            let x = random.tensor([n, C, 9, 7])
            let y = conv.forward(x, mode: .train)
            let expected = naiveGroupedConv(x, conv.weight.value, stride: stride, padding: padding, groups: groups)
            XCTAssertEqual(y.shape, expected.shape)
            for i in 0..<y.count {
                XCTAssertEqual(y[i], expected[i], accuracy: 1e-4, "C\(C) F\(F) g\(groups) k\(k) s\(stride) p\(padding) at \(i)")
            }
        }
        ComputeThreads.set(1)
    }

    func testGradientsOfInputWeightAndBias() {
        var random = SeededRandom(seed: 22)
        for (threads, C, F, groups, k, stride, padding, n) in cases {
            ComputeThreads.set(threads)
            let conv = Conv2d(name: "c", inChannels: C, outChannels: F, kernel: k, stride: stride, padding: padding,
                              groups: groups, bias: true, random: &random)
            let result = checkLayerGradients(conv, input: random.tensor([n, C, 6, 5]), samples: 60)
            XCTAssertLessThan(result.error, 1e-2, "C\(C) F\(F) g\(groups) k\(k) s\(stride) p\(padding): \(result)")
        }
        ComputeThreads.set(1)
    }

    /// The first layer of a network skips dL/dInput; the weight gradient must not change.
    func testWeightGradientWithoutInputGradient() {
        var random = SeededRandom(seed: 23)
        for groups in [2, 6] {
            let conv = Conv2d(name: "c", inChannels: 6, outChannels: 6, kernel: 3, padding: 1, groups: groups, random: &random)
            let x = random.tensor([2, 6, 5, 5]), dy = random.tensor([2, 6, 5, 5])
            var grads: [[Float]] = []
            for computes in [true, false] {
                conv.computesInputGradient = computes
                conv.weight.zeroGrad()
                _ = conv.forward(x, mode: .train)
                _ = conv.backward(dy)
                grads.append(conv.weight.grad.scalars)
            }
            for i in 0..<grads[0].count { XCTAssertEqual(grads[0][i], grads[1][i], accuracy: 1e-5) }
        }
    }

    /// Kaiming-normal with PyTorch's fan-out (every filter: out·k·k) as torchvision's ResNeXt
    /// initialises its grouped convolutions; per group (out/groups·k·k) as timm's EfficientNet
    /// initialises its depthwise ones.
    func testInitialisationFollowsTorchvisionOrTimmsFanOut() {
        var random = SeededRandom(seed: 24)
        for (groups, perGroup, fanOut) in [(8, false, 256 * 9), (8, true, 32 * 9), (256, true, 9)] {
            let conv = Conv2d(name: "c", inChannels: 256, outChannels: 256, kernel: 3, groups: groups,
                              fanOutPerGroup: perGroup, random: &random)
            let w = conv.weight.value.scalars
            let std = (w.reduce(0) { $0 + Double($1 * $1) } / Double(w.count)).squareRoot()
            XCTAssertEqual(std, (2 / Double(fanOut)).squareRoot(), accuracy: 0.05 * (2 / Double(fanOut)).squareRoot(),
                           "groups \(groups) per group \(perGroup)")
        }
    }
}
