import Kernels

/// y = x·Wᵀ + b with weight [out, in] (PyTorch's layout), on [N, in] inputs.
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    private var input = Tensor(zeros: [0])

    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true, random: inout SeededRandom) {
        // PyTorch's default: U(-1/√in, 1/√in) for weight and bias.
        let bound = 1 / Float(inFeatures).squareRoot()
        var w = Tensor(zeros: [outFeatures, inFeatures])
        for i in 0..<w.count { w[i] = random.uniform(-bound, bound) }
        weight = Parameter(name: name + ".weight", value: w)
        if bias {
            var b = Tensor(zeros: [outFeatures])
            for i in 0..<b.count { b[i] = random.uniform(-bound, bound) }
            self.bias = Parameter(name: name + ".bias", value: b, decays: false)
        } else {
            self.bias = nil
        }
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (N, inF, outF) = (x.shape[0], weight.shape[1], weight.shape[0])
        precondition(x.rank == 2 && x.shape[1] == inF, "Linear \(weight.name): input \(x.shape) needs [N, \(inF)]")
        input = x
        var y = Tensor(zeros: [N, outF])
        if let bias {
            for n in 0..<N { for o in 0..<outF { y[n * outF + o] = bias.value[o] } }
        }
        matmul(x.scalars, weight.value.scalars, into: &y.scalars, M: N, N: outF, K: inF, transB: true, beta: 1)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (N, inF, outF) = (input.shape[0], weight.shape[1], weight.shape[0])
        matmul(dy.scalars, input.scalars, into: &weight.grad.scalars, M: outF, N: inF, K: N, transA: true, beta: 1)
        if let bias {
            for n in 0..<N { for o in 0..<outF { bias.grad[o] += dy[n * outF + o] } }
        }
        var dx = Tensor(zeros: [N, inF])
        matmul(dy.scalars, weight.value.scalars, into: &dx.scalars, M: N, N: inF, K: outF)
        return dx
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
}
