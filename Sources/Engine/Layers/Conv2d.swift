import Kernels

/// 2-d convolution over NCHW with weight [F, C/groups, R, S] (PyTorch's layout
/// and grouping: group g maps its C/groups channels to its F/groups filters).
/// groups == C == F is a depthwise convolution. FOLDWISE_ENGINE picks the kernels
/// (oneDNN by default where the CPU has its blocked kernels, or im2col + OpenBLAS).
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int
    public let groups: Int
    /// The first layer of a network does not need dL/dInput; skipping it saves a gemm and a col2im.
    public var computesInputGradient = true
    /// Whether oneDNN may leave the output in its blocked layout (when F is a multiple of the block) for
    /// the next layer; Model sets it for the convolutions of its network. Off, the output is nchw.
    public var emitsBlocked = false
    private var input = Tensor(zeros: [0])
    private var workspace = Workspace()
    /// What the last forward ran: the backend (so a backward matches it), the layout its input
    /// arrived in (dInput goes back so) and the layouts it ran in.
    private var ran: (backend: KernelBackend, arrived: ActivationLayout, layouts: ConvLayouts) = (.blas, .nchw, .plain)
    /// oneDNN's layouts by shape and preferred layouts (see dnnlConvLayouts).
    private var layoutChoices: [LayoutChoiceKey: ConvLayouts] = [:]
    /// The batch size is left out (as 0): whether oneDNN has a fast kernel does not depend on it,
    /// and a new batch size (the last partial batch, evaluation) should not create unused plans.
    private struct LayoutChoiceKey: Hashable {
        var shape: ConvShape, preferred: ConvLayouts
        init(_ shape: ConvShape, _ preferred: ConvLayouts) {
            (self.shape, self.preferred) = (shape, preferred)
            self.shape.N = 0
        }
    }

    public init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = false, fanOutPerGroup: Bool = false, random: inout SeededRandom) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d \(name): \(groups) groups must divide \(inChannels) input and \(outChannels) output channels")
        // Kaiming-normal initialisation for ReLU networks (fan-out), as torchvision's ResNets and
        // ResNeXts use (PyTorch's fan-out counts every filter, also of a grouped convolution);
        // with `fanOutPerGroup` one group's filters, as timm's EfficientNets count for depthwise ones.
        let fanOut = Float((fanOutPerGroup ? outChannels / groups : outChannels) * kernel * kernel)
        let std = (2 / fanOut).squareRoot()
        var w = Tensor(zeros: [outChannels, inChannels / groups, kernel, kernel])
        for i in 0..<w.count { w[i] = random.normal() * std }
        self.weight = Parameter(name: name + ".weight", value: w)
        self.bias = bias ? Parameter(name: name + ".bias", value: Tensor(zeros: [outChannels]), decays: false) : nil
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    private func shape(for x: Tensor) -> ConvShape {
        precondition(x.rank == 4 && x.shape[1] == weight.shape[1] * groups,
                     "Conv2d \(weight.name): input \(x.shape) does not match weight \(weight.shape) in \(groups) groups")
        return ConvShape(N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3], F: weight.shape[0],
                         R: weight.shape[2], S: weight.shape[3], stride: stride, padding: padding, groups: groups)
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let s = shape(for: x)
        let backend = KernelBackend.selected
        ran = (backend, x.layout, backend == .dnnl ? dnnlLayouts(s, input: x.layout) : .plain)
        input = x.converted(to: ran.layouts.input)
        var y = Tensor(uninitialized: [s.N, s.F, s.P, s.Q])
        y.layout = ran.layouts.output
        switch backend {
        case .blas:
            convForward(input: input.scalars, weight: weight.value.scalars, bias: bias?.value.scalars,
                        output: &y.scalars, shape: s, workspace: &workspace)
        case .dnnl:
            dnnlConvForward(input: input.scalars, weight: weight.value.scalars, bias: bias?.value.scalars,
                            output: &y.scalars, shape: s, layouts: ran.layouts)
        }
        return y
    }

    /// The input as it came, the output in this CPU's blocked layout when allowed and F fits it,
    /// unless oneDNN lacks a fast kernel for that pair.
    private func dnnlLayouts(_ s: ConvShape, input: ActivationLayout) -> ConvLayouts {
        var preferred = ConvLayouts(input: input, output: .nchw)
        if emitsBlocked, let native = ActivationLayout.native, native.fits(channels: s.F) { preferred.output = native }
        let key = LayoutChoiceKey(s, preferred)
        if let choice = layoutChoices[key] { return choice }
        let choice = dnnlConvLayouts(s, bias: bias != nil, inputGradient: computesInputGradient, preferred: preferred)
        layoutChoices[key] = choice
        return choice
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.layout == ran.layouts.output, "Conv2d \(weight.name): dOutput is \(dy.layout), the output was \(ran.layouts.output)")
        let s = shape(for: input)
        var dx = computesInputGradient ? input.uninitializedLike() : Tensor(zeros: [0])
        var dBias = bias?.grad.scalars
        switch ran.backend {
        case .blas:
            convBackward(input: input.scalars, weight: weight.value.scalars, dOutput: dy.scalars,
                         dInput: &dx.scalars, computeDInput: computesInputGradient,
                         dWeight: &weight.grad.scalars, dBias: &dBias, shape: s, workspace: &workspace)
        case .dnnl:
            dnnlConvBackward(input: input.scalars, weight: weight.value.scalars, dOutput: dy.scalars,
                             dInput: &dx.scalars, computeDInput: computesInputGradient,
                             dWeight: &weight.grad.scalars, dBias: &dBias, shape: s, layouts: ran.layouts)
        }
        if let dBias { bias?.grad.scalars = dBias }  // F values: the copy is negligible
        return computesInputGradient ? dx.converted(to: ran.arrived) : dx
    }

    public var acceptsBlocked: Bool { true }
    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
}
