import XCTest
@testable import Kernels

/// Shapes for the oneDNN convolution against the OpenBLAS one: stride 2, padding, groups,
/// depthwise, 1×1, non-square kernels and sizes that strides do not divide, and resnet_ref's
/// widths (where oneDNN picks blocked layouts and the reorders run).
private let shapes: [(ConvShape, bias: Bool)] = [
    (ConvShape(N: 2, C: 3, H: 9, W: 9, F: 8, R: 3, S: 3, stride: 1, padding: 1), false),
    (ConvShape(N: 3, C: 4, H: 7, W: 8, F: 6, R: 3, S: 3, stride: 2, padding: 1), true),
    (ConvShape(N: 2, C: 8, H: 6, W: 6, F: 16, R: 1, S: 1, stride: 2, padding: 0), false),
    (ConvShape(N: 2, C: 6, H: 7, W: 5, F: 9, R: 3, S: 3, stride: 2, padding: 1, groups: 3), true),
    (ConvShape(N: 2, C: 4, H: 8, W: 8, F: 4, R: 3, S: 3, stride: 1, padding: 1, groups: 4), false),
    (ConvShape(N: 1, C: 5, H: 11, W: 6, F: 3, R: 4, S: 2, stride: 3, padding: 2), true),
    (ConvShape(N: 3, C: 1, H: 28, W: 28, F: 32, R: 3, S: 3, stride: 1, padding: 1), false),
    (ConvShape(N: 2, C: 32, H: 14, W: 14, F: 32, R: 3, S: 3, stride: 1, padding: 1), false),
    (ConvShape(N: 2, C: 32, H: 14, W: 14, F: 64, R: 3, S: 3, stride: 2, padding: 1), false),
    (ConvShape(N: 2, C: 32, H: 14, W: 14, F: 64, R: 1, S: 1, stride: 2, padding: 0), true),
    (ConvShape(N: 2, C: 64, H: 7, W: 7, F: 64, R: 3, S: 3, stride: 1, padding: 1, groups: 4), false),
]

final class DNNLConvTests: XCTestCase {
    override func tearDown() { ComputeThreads.set(1) }

    func testForwardAndBackwardMatchTheBLASPath() {
        var random = TestRandom(seed: 12)
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            for (s, bias) in shapes {
                let x = random.floats(s.N * s.C * s.H * s.W), w = random.floats(s.F * s.CRS)
                let b = bias ? random.floats(s.F) : nil, dy = random.floats(s.N * s.F * s.P * s.Q)
                let start = random.floats(s.F * s.CRS), startBias = bias ? random.floats(s.F) : nil
                let label = "\(s) bias \(bias) threads \(threads)"
                var blas = Workspace()
                var yBLAS = [Float](repeating: 0, count: dy.count), yDNNL = yBLAS
                convForward(input: x, weight: w, bias: b, output: &yBLAS, shape: s, workspace: &blas)
                dnnlConvForward(input: x, weight: w, bias: b, output: &yDNNL, shape: s)
                assertRelativelyClose(yDNNL, yBLAS, "forward " + label, tolerance: 2e-4)

                var (dxBLAS, dwBLAS, dbBLAS) = ([Float](), start, startBias)
                var (dxDNNL, dwDNNL, dbDNNL) = ([Float](), start, startBias)
                convBackward(input: x, weight: w, dOutput: dy, dInput: &dxBLAS, computeDInput: true,
                             dWeight: &dwBLAS, dBias: &dbBLAS, shape: s, workspace: &blas)
                dnnlConvBackward(input: x, weight: w, dOutput: dy, dInput: &dxDNNL, computeDInput: true,
                                 dWeight: &dwDNNL, dBias: &dbDNNL, shape: s)
                assertRelativelyClose(dxDNNL, dxBLAS, "backward data " + label, tolerance: 2e-4)
                assertRelativelyClose(dwDNNL, dwBLAS, "backward weights (added into) " + label, tolerance: 2e-4)
                if bias { assertRelativelyClose(dbDNNL!, dbBLAS!, "backward bias (added into) " + label, tolerance: 2e-4) }
            }
        }
    }

    /// The first layer skips dInput: the buffer is left as it was.
    func testWithoutInputGradientLeavesDInputAlone() {
        let s = shapes[1].0
        var random = TestRandom(seed: 3)
        let x = random.floats(s.N * s.C * s.H * s.W), w = random.floats(s.F * s.CRS)
        var dx = [Float](), dw = [Float](repeating: 0, count: w.count), db: [Float]? = nil
        dnnlConvBackward(input: x, weight: w, dOutput: random.floats(s.N * s.F * s.P * s.Q), dInput: &dx,
                         computeDInput: false, dWeight: &dw, dBias: &db, shape: s)
        XCTAssertEqual(dx, [])
        XCTAssertGreaterThan(dw.map(abs).max()!, 0)
    }

    /// Central differences of L = Σ y · probe against dInput, dWeight and dBias, in Double.
    func testGradientsMatchFiniteDifferences() {
        var random = TestRandom(seed: 5)
        for s in [shapes[1].0, shapes[3].0, shapes[5].0] {
            let x = random.floats(s.N * s.C * s.H * s.W), w = random.floats(s.F * s.CRS), b = random.floats(s.F)
            let probe = random.floats(s.N * s.F * s.P * s.Q)
            func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
                var y = [Float](repeating: 0, count: probe.count)
                dnnlConvForward(input: x, weight: w, bias: b, output: &y, shape: s)
                return zip(y, probe).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            }
            var dx = [Float](), dw = [Float](repeating: 0, count: w.count), db: [Float]? = [Float](repeating: 0, count: s.F)
            dnnlConvBackward(input: x, weight: w, dOutput: probe, dInput: &dx, computeDInput: true,
                             dWeight: &dw, dBias: &db, shape: s)
            /// dL/d(values[i]) with `values` one of x, w, b, through `place` putting it back in.
            func numeric(_ values: [Float], _ i: Int, _ place: ([Float]) -> Double) -> Float {
                let epsilon: Float = 1e-2
                var plus = values, minus = values
                plus[i] += epsilon
                minus[i] -= epsilon
                return Float((place(plus) - place(minus)) / Double(2 * epsilon))
            }
            for i in stride(from: 0, to: x.count, by: max(1, x.count / 23)) {
                XCTAssertEqual(dx[i], numeric(x, i) { loss($0, w, b) }, accuracy: 2e-3 * max(1, abs(dx[i])), "dInput[\(i)] \(s)")
            }
            for i in stride(from: 0, to: w.count, by: max(1, w.count / 23)) {
                XCTAssertEqual(dw[i], numeric(w, i) { loss(x, $0, b) }, accuracy: 2e-3 * max(1, abs(dw[i])), "dWeight[\(i)] \(s)")
            }
            for f in 0..<s.F { XCTAssertEqual(db![f], numeric(b, f) { loss(x, w, $0) }, accuracy: 2e-3 * max(1, abs(db![f])), "dBias[\(f)] \(s)") }
        }
    }

    /// A cached primitive gives the same answer on a second call, and after other shapes ran.
    func testCachedPrimitivesAreReusedExactly() {
        var random = TestRandom(seed: 9)
        let (s, other) = (shapes[7].0, shapes[8].0)
        let x = random.floats(s.N * s.C * s.H * s.W), w = random.floats(s.F * s.CRS)
        var first = [Float](repeating: 0, count: s.N * s.F * s.P * s.Q), second = first
        dnnlConvForward(input: x, weight: w, bias: nil, output: &first, shape: s)
        var y = [Float](repeating: 0, count: other.N * other.F * other.P * other.Q)
        dnnlConvForward(input: random.floats(other.N * other.C * other.H * other.W), weight: random.floats(other.F * other.CRS),
                        bias: nil, output: &y, shape: other)
        dnnlConvForward(input: x, weight: w, bias: nil, output: &second, shape: s)
        XCTAssertEqual(first, second)
    }

    /// oneDNN fixes a primitive's work split at creation: one primitive per team size.
    func testPrimitivesAreKeptPerThreadCount() {
        let s = shapes[2].0
        var random = TestRandom(seed: 4)
        let x = random.floats(s.N * s.C * s.H * s.W), w = random.floats(s.F * s.CRS)
        var y = [Float](repeating: 0, count: s.N * s.F * s.P * s.Q)
        for threads in [1, 2] {
            ComputeThreads.set(threads)
            dnnlConvForward(input: x, weight: w, bias: nil, output: &y, shape: s)
        }
        let teams = DNNLRuntime.shared.run(threads: 1) { runtime in
            Set(runtime.plans.keys.compactMap { key -> Int? in
                guard case .conv(let conv) = key, conv.shape == s, conv.direction == .forward else { return nil }
                return conv.threads
            })
        }
        XCTAssertEqual(teams, [1, 2])
    }

    func testBackendParsesTheEnvironmentValue() {
        XCTAssertEqual(KernelBackend.parse(nil), KernelBackend.cpuDefault)
        XCTAssertEqual(KernelBackend.parse(""), KernelBackend.cpuDefault)
        XCTAssertEqual(KernelBackend.cpuDefault, ActivationLayout.native == nil ? .blas : .dnnl)
        XCTAssertNil(KernelBackend.parse("mkl"))
        XCTAssertEqual(KernelBackend.parse("dnnl"), .dnnl)
        XCTAssertEqual(KernelBackend.parse("BLAS"), .blas)
    }
}
