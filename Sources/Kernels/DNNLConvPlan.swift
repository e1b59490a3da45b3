import CDNNL

// A oneDNN convolution primitive for one shape, direction and pair of activation
// layouts. Blocked activations (nChw16c, nChw8c) go in and out as they are; plain
// NCHW ones and the [F, C/groups, R, S] weights are reordered per call into the
// layouts oneDNN chooses (format `any`: nChw16c, OIhw16i16o and friends on AVX-512).

enum ConvDirection: Hashable { case forward, backwardData, backwardWeights }

/// oneDNN sizes a primitive's work split for the OpenMP team at creation, so the team size
/// is part of the key: a primitive made for 2 threads would still ask for 2 after a change to 1.
struct ConvPlanKey: Hashable {
    var shape: ConvShape
    var direction: ConvDirection
    var bias: Bool
    var layouts: ConvLayouts
    var threads = ComputeThreads.current
}

/// The layouts of a convolution's input (x, dx) and output (y, dy) activations.
public struct ConvLayouts: Hashable, Sendable {
    public var input: ActivationLayout
    public var output: ActivationLayout
    public init(input: ActivationLayout = .nchw, output: ActivationLayout = .nchw) { (self.input, self.output) = (input, output) }
    public static let plain = ConvLayouts()
}

/// A oneDNN primitive for one shape and direction of a convolution.
enum ConvPlan {
    static func make(_ key: ConvPlanKey, engine: dnnl_engine_t) -> DNNLPlan {
        let s = key.shape
        let plain = ConvPlan.plainDescs(s, key.layouts)
        let attr = DNNLAttributes()
        // Backward primitives need the forward one as a hint.
        var forward = ConvPlan.descriptor(s, .forward, bias: key.bias, key.layouts)
        var forwardPD: dnnl_primitive_desc_t?
        dnnlCheck(dnnl_primitive_desc_create(&forwardPD, &forward, attr.value, engine, nil), "convolution forward pd for \(s)")
        defer { dnnl_primitive_desc_destroy(forwardPD) }
        var pd = forwardPD
        if key.direction != .forward {
            var backward = ConvPlan.descriptor(s, key.direction, bias: key.bias, key.layouts)
            dnnlCheck(dnnl_primitive_desc_create(&pd, &backward, attr.value, engine, forwardPD), "convolution \(key.direction) pd for \(s)")
        }
        defer { if key.direction != .forward { dnnl_primitive_desc_destroy(pd) } }
        let args: [DNNLArgument]
        switch key.direction {
        case .forward:
            args = [.input(DNNL_ARG_SRC, plain.x), .input(DNNL_ARG_WEIGHTS, plain.w), .output(DNNL_ARG_DST, plain.y)]
                + (key.bias ? [.input(DNNL_ARG_BIAS, plain.bias)] : [])
        case .backwardData:
            args = [.input(DNNL_ARG_DIFF_DST, plain.y), .input(DNNL_ARG_WEIGHTS, plain.w), .output(DNNL_ARG_DIFF_SRC, plain.x)]
        case .backwardWeights:
            args = [.input(DNNL_ARG_SRC, plain.x), .input(DNNL_ARG_DIFF_DST, plain.y), .output(DNNL_ARG_DIFF_WEIGHTS, plain.w)]
                + (key.bias ? [.output(DNNL_ARG_DIFF_BIAS, plain.bias)] : [])
        }
        return DNNLPlan(pd!, args, engine: engine, what: "convolution \(key.direction) for \(s)")
    }

    /// The engine's layouts: x [N, C, H, W], w [F, Cg, R, S] (as [G, Fg, Cg, R, S] when grouped), y [N, F, P, Q].
    private static func plainDescs(_ s: ConvShape, _ layouts: ConvLayouts)
        -> (x: dnnl_memory_desc_t, w: dnnl_memory_desc_t, y: dnnl_memory_desc_t, bias: dnnl_memory_desc_t) {
        (dnnlMemoryDesc([s.N, s.C, s.H, s.W], layouts.input.dnnlTag),
         s.groups > 1 ? dnnlMemoryDesc([s.groups, s.Fg, s.Cg, s.R, s.S], dnnl_goihw) : dnnlMemoryDesc([s.F, s.C, s.R, s.S], dnnl_oihw),
         dnnlMemoryDesc([s.N, s.F, s.P, s.Q], layouts.output.dnnlTag),
         dnnlMemoryDesc([s.F], dnnl_x))
    }

    /// The operation descriptor. Blocked activations are named as such, so they pass between
    /// layers without reorders; plain ones and the weights are left to oneDNN (format `any`) and
    /// reordered per call. Right padding is the left padding: oneDNN's shape check divides like
    /// PyTorch's floor, so rows past the last output window are simply never read.
    private static func descriptor(_ s: ConvShape, _ direction: ConvDirection, bias: Bool,
                                   _ layouts: ConvLayouts) -> dnnl_convolution_desc_t {
        let any = dnnl_format_tag_any
        var x = dnnlMemoryDesc([s.N, s.C, s.H, s.W], layouts.input == .nchw ? any : layouts.input.dnnlTag)
        var w = s.groups > 1 ? dnnlMemoryDesc([s.groups, s.Fg, s.Cg, s.R, s.S], any) : dnnlMemoryDesc([s.F, s.C, s.R, s.S], any)
        var y = dnnlMemoryDesc([s.N, s.F, s.P, s.Q], layouts.output == .nchw ? any : layouts.output.dnnlTag)
        // A zero descriptor (ndims 0) means "no bias" to oneDNN.
        var b = bias ? dnnlMemoryDesc([s.F], any) : dnnl_memory_desc_t()
        let strides: [Int64] = [Int64(s.stride), Int64(s.stride)]
        let padding: [Int64] = [Int64(s.padding), Int64(s.padding)]
        var desc = dnnl_convolution_desc_t()
        let alg = dnnl_convolution_direct
        switch direction {
        case .forward:
            dnnlCheck(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, alg, &x, &w, &b, &y, strides, padding, padding),
                      "convolution_forward_desc_init for \(s)")
        case .backwardData:
            dnnlCheck(dnnl_convolution_backward_data_desc_init(&desc, alg, &x, &w, &y, strides, padding, padding),
                      "convolution_backward_data_desc_init for \(s)")
        case .backwardWeights:
            dnnlCheck(dnnl_convolution_backward_weights_desc_init(&desc, alg, &x, &w, &b, &y, strides, padding, padding),
                      "convolution_backward_weights_desc_init for \(s)")
        }
        return desc
    }
}

