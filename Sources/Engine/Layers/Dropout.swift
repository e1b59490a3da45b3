import Kernels

/// Inverted dropout: in training each value is zeroed with probability p and
/// the survivors are scaled by 1/(1-p), so evaluation is the identity. The
/// layer owns its seeded stream, which advances once per training forward.
public final class Dropout: Layer {
    public let p: Float
    private var random: SeededRandom
    /// The mask of the last training forward (0 or 1/(1-p) per value); empty
    /// when the last forward was the identity.
    public private(set) var mask: [Float] = []
    private var lastShape: [Int]?

    public init(p: Float, seed: UInt64) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        self.random = SeededRandom(seed: seed)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        lastShape = input.shape
        if mode == .eval || p == 0 {
            mask = []
            return input
        }
        drawMask(count: input.count)
        return applyMask(input)
    }

    /// A training forward with a given mask instead of a fresh one: replays a
    /// pass exactly (e.g. for gradient checks). Backward then uses this mask.
    public func forward(_ input: Tensor, mask: [Float]) -> Tensor {
        precondition(mask.count == input.count,
                     "Dropout.forward: mask has \(mask.count) values, input \(input.shape) has \(input.count)")
        lastShape = input.shape
        self.mask = mask
        return applyMask(input)
    }

    public func backward(_ dOutput: Tensor) -> Tensor {
        guard let shape = lastShape else { preconditionFailure("Dropout.backward called before forward") }
        precondition(dOutput.shape == shape, "Dropout.backward: dOutput shape \(dOutput.shape), forward input \(shape)")
        if mask.isEmpty { return dOutput }
        var dInput = Tensor(uninitialized: shape)
        dropoutBackward(dOutput: dOutput.scalars, mask: mask, dInput: &dInput.scalars)
        return dInput
    }

    public var parameters: [Parameter] { [] }

    private func applyMask(_ input: Tensor) -> Tensor {
        var output = Tensor(uninitialized: input.shape)
        dropoutForward(input: input.scalars, mask: mask, output: &output.scalars)
        return output
    }

    /// Reuses the mask's storage when the size is unchanged. Works on local
    /// copies so the loop does not pay for class-property access checks.
    private func drawMask(count: Int) {
        var newMask = mask, stream = random
        mask = []
        if newMask.count != count { newMask = [Float](repeating: 0, count: count) }
        let (p, keep) = (p, 1 / (1 - p))
        for i in 0..<count { newMask[i] = stream.nextFloat() < p ? 0 : keep }
        (mask, random) = (newMask, stream)
    }
}
