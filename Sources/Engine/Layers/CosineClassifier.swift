import Kernels

/// Logits s·cos θ between each L2-normalised feature row and each
/// L2-normalised weight row (weight [K, D], no bias): the classifier that
/// ArcFace and CosFace put their angular margins on. Norms are floored at
/// 1e-12, as torch.nn.functional.normalize does.
public final class CosineClassifier: Layer {
    public let weight: Parameter
    public let scale: Float
    private var normalisedInput = Tensor(zeros: [0]), inputNorms: [Float] = []
    private var normalisedWeight = Tensor(zeros: [0]), weightNorms: [Float] = []

    public init(name: String, inFeatures: Int, outFeatures: Int, scale: Float, random: inout SeededRandom) {
        precondition(scale > 0, "CosineClassifier \(name): scale must be > 0, got \(scale)")
        // Linear's default initialisation; only the rows' directions matter.
        let bound = 1 / Float(inFeatures).squareRoot()
        var w = Tensor(zeros: [outFeatures, inFeatures])
        for i in 0..<w.count { w[i] = random.uniform(-bound, bound) }
        weight = Parameter(name: name + ".weight", value: w)
        self.scale = scale
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (K, D) = (weight.shape[0], weight.shape[1])
        precondition(x.rank == 2 && x.shape[1] == D, "CosineClassifier \(weight.name): input \(x.shape) needs [N, \(D)]")
        let (xn, xNorms) = normalisedRows(x)
        let (wn, wNorms) = normalisedRows(weight.value)
        var y = Tensor(zeros: [x.shape[0], K])
        matmul(xn.scalars, wn.scalars, into: &y.scalars, M: x.shape[0], N: K, K: D, transB: true, alpha: scale)
        (normalisedInput, inputNorms, normalisedWeight, weightNorms) = (xn, xNorms, wn, wNorms)
        return y
    }

    /// With G = s·dL/dy: dL/dx̂ = G·Ŵ and dL/dŴ = Gᵀ·x̂, each taken back through
    /// its normalisation: dv = (dv̂ − (dv̂·v̂)·v̂) / |v|.
    public func backward(_ dy: Tensor) -> Tensor {
        let (N, K, D) = (dy.shape[0], weight.shape[0], weight.shape[1])
        var dxn = Tensor(zeros: [N, D]), dwn = Tensor(zeros: [K, D])
        matmul(dy.scalars, normalisedWeight.scalars, into: &dxn.scalars, M: N, N: D, K: K, alpha: scale)
        matmul(dy.scalars, normalisedInput.scalars, into: &dwn.scalars, M: K, N: D, K: N, transA: true, alpha: scale)
        let dw = throughNormalisation(dwn, normalised: normalisedWeight, norms: weightNorms)
        addInPlace(&weight.grad.scalars, dw.scalars)
        return throughNormalisation(dxn, normalised: normalisedInput, norms: inputNorms)
    }

    public var parameters: [Parameter] { [weight] }
}

/// Each row divided by its L2 norm (floored at 1e-12), and the norms used.
private func normalisedRows(_ m: Tensor) -> (Tensor, [Float]) {
    let (rows, D) = (m.shape[0], m.shape[1])
    var out = m, norms = [Float](repeating: 0, count: rows)
    for r in 0..<rows {
        var sum: Float = 0
        for j in 0..<D { sum += m[r * D + j] * m[r * D + j] }
        norms[r] = max(sum.squareRoot(), 1e-12)
        for j in 0..<D { out[r * D + j] /= norms[r] }
    }
    return (out, norms)
}

/// The gradient of v = u/|u| taken back to u, row by row: (dv − (dv·v)·v)/|u|.
private func throughNormalisation(_ dv: Tensor, normalised v: Tensor, norms: [Float]) -> Tensor {
    let D = v.shape[1]
    var du = dv
    for r in 0..<v.shape[0] {
        var dot: Float = 0
        for j in 0..<D { dot += dv[r * D + j] * v[r * D + j] }
        for j in 0..<D { du[r * D + j] = (dv[r * D + j] - dot * v[r * D + j]) / norms[r] }
    }
    return du
}
