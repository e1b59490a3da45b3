import CDNNL

/// How a rank-4 activation [N, C, H, W] lies in memory. `nchw` is the engine's
/// own layout (PyTorch's). The blocked layouts are oneDNN's: channels in blocks
/// of 8 (its AVX2 kernels) or 16 (AVX-512), the block innermost,
/// [N, C/b, H, W, b]. On the dnnl backend a network keeps its activations
/// in the layout this CPU's kernels use (`native`) between the layers oneDNN
/// runs, so only its edges reorder. Only for C a multiple of the block, so every
/// layout holds exactly N·C·H·W values.
public enum ActivationLayout: Sendable, Hashable {
    case nchw
    case nChw8c
    case nChw16c

    /// Channels per block (1 for nchw).
    public var block: Int {
        switch self {
        case .nchw: 1
        case .nChw8c: 8
        case .nChw16c: 16
        }
    }

    /// Whether a tensor of `channels` channels can be laid out so.
    public func fits(channels: Int) -> Bool { channels > 0 && channels % block == 0 }

    /// The blocked layout oneDNN's convolutions choose on this CPU (nChw16c with AVX-512,
    /// nChw8c with AVX2), or nil when they keep nchw. Asked of oneDNN once.
    public static var native: ActivationLayout? { DNNLRuntime.shared.nativeLayout }

    var dnnlTag: dnnl_format_tag_t {
        switch self {
        case .nchw: dnnl_nchw
        case .nChw8c: dnnl_nChw8c
        case .nChw16c: dnnl_nChw16c
        }
    }
}

/// `x` [N, C, H, W] laid out as `from`, rewritten as `to`. Every layout holds the same values,
/// so a reorder is a permutation; between two blocked layouts it goes through nchw.
public func reorderActivations(_ x: [Float], shape: [Int], from: ActivationLayout, to: ActivationLayout) -> [Float] {
    guard from != to else { return x }
    precondition(shape.count == 4 && from.fits(channels: shape[1]) && to.fits(channels: shape[1])
                 && x.count == shape.reduce(1, *), "reorderActivations: \(shape) cannot be laid out as \(from) and \(to)")
    if from != .nchw && to != .nchw {
        return reorderActivations(reorderActivations(x, shape: shape, from: from, to: .nchw), shape: shape, from: .nchw, to: to)
    }
    let toBlocked = to != .nchw
    let b = toBlocked ? to.block : from.block
    let (N, C, HW) = (shape[0], shape[1], shape[2] * shape[3])
    var y = [Float](unsafeUninitializedCapacity: x.count) { _, initialized in initialized = x.count }
    x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
        let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
        // The batch is split over the engine's threads, a [b, HW] plain slab against a
        // [HW, b] blocked one at a time: both start at the same offset.
        parallelChunks(N * C / b) { _, range in
            for slab in range {
                let base = slab * b * HW
                for c in 0..<b {
                    for i in 0..<HW {
                        if toBlocked { yp[base + i * b + c] = xp[base + c * HW + i] }
                        else { yp[base + c * HW + i] = xp[base + i * b + c] }
                    }
                }
            }
        }
    }}
    return y
}
