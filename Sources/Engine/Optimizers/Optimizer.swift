import Foundation

/// How one parameter is updated from its gradient; nothing else. The trainer
/// calls `step` once per optimizer step with the scheduled learning rate.
public protocol Optimizer: AnyObject {
    /// Updates `parameter.value` in place. `lr` already includes the parameter's
    /// multiplier; `step` counts optimizer steps from 1.
    func update(_ parameter: Parameter, lr: Float, step: Int)
}

extension Optimizer {
    /// Updates every trainable, unfrozen parameter of the store.
    public func step(_ store: ParameterStore, lr: Float, step: Int) {
        for p in store.all where p.isTrainable {
            update(p, lr: lr * p.lrMultiplier, step: step)
        }
    }
}

/// Per-parameter optimizer state: moment buffers allocated on the parameter's
/// first update and reused afterwards, plus the number of updates it received.
final class MomentState {
    /// Held so the parameter's address, the state's key, cannot be reused by another object.
    let owner: Parameter
    var first: [Float]
    var second: [Float]
    var updates = 0

    init(owner: Parameter, needsSecond: Bool) {
        self.owner = owner
        let count = owner.value.count
        first = [Float](repeating: 0, count: count)
        second = [Float](repeating: 0, count: needsSecond ? count : 0)
    }
}

/// torch.optim.SGD with dampening 0: weight decay is added to the gradient, the
/// momentum buffer starts as the first gradient, Nesterov looks one step ahead.
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var states: [ObjectIdentifier: MomentState] = [:]

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0, got \(momentum)")
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func update(_ parameter: Parameter, lr: Float, step: Int) {
        let decay = parameter.decays ? weightDecay : 0
        if momentum == 0 {
            updatePlain(parameter, lr: lr, decay: decay)
            return
        }
        let state = state(for: parameter)
        let isFirst = state.updates == 0
        state.updates += 1
        let (mu, nesterov) = (momentum, self.nesterov)
        parameter.value.scalars.withUnsafeMutableBufferPointer { value in
            parameter.grad.scalars.withUnsafeBufferPointer { grad in
                state.first.withUnsafeMutableBufferPointer { buffer in
                    for i in 0..<value.count {
                        let g = grad[i] + decay * value[i]
                        let b = isFirst ? g : mu * buffer[i] + g
                        buffer[i] = b
                        value[i] -= lr * (nesterov ? g + mu * b : b)
                    }
                }
            }
        }
    }

    private func updatePlain(_ parameter: Parameter, lr: Float, decay: Float) {
        parameter.value.scalars.withUnsafeMutableBufferPointer { value in
            parameter.grad.scalars.withUnsafeBufferPointer { grad in
                for i in 0..<value.count {
                    value[i] -= lr * (grad[i] + decay * value[i])
                }
            }
        }
    }

    private func state(for parameter: Parameter) -> MomentState {
        let key = ObjectIdentifier(parameter)
        if let existing = states[key] { return existing }
        let created = MomentState(owner: parameter, needsSecond: false)
        states[key] = created
        return created
    }
}

/// The Adam update shared by `Adam` and `AdamW`: bias-corrected first and second
/// moments. Bias correction counts this parameter's own updates, as torch does,
/// so a parameter unfrozen late (or state rebuilt after a resume) starts at 1.
final class AdamCore {
    let beta1: Float
    let beta2: Float
    let epsilon: Float
    let weightDecay: Float
    /// AdamW: decay shrinks the weight directly instead of entering the gradient.
    let decoupled: Bool
    private var states: [ObjectIdentifier: MomentState] = [:]

    init(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupled: Bool) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2),
                     "Adam: betas must be in [0, 1), got \(beta1), \(beta2)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    func update(_ parameter: Parameter, lr: Float) {
        let state = state(for: parameter)
        state.updates += 1
        let t = Double(state.updates)
        // Scalars in double precision, as torch computes them in Python floats.
        let stepSize = Float(Double(lr) / (1 - pow(Double(beta1), t)))
        let correction2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let decay = parameter.decays ? weightDecay : 0
        let l2 = decoupled ? 0 : decay
        let shrink = decoupled ? 1 - lr * decay : 1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        // Eight lanes at a time: written as scalars, the square root and division
        // stay scalar (a libm call per element) and the update runs 2× slower.
        parameter.value.scalars.withUnsafeMutableBufferPointer { value in
            parameter.grad.scalars.withUnsafeBufferPointer { grad in
                state.first.withUnsafeMutableBufferPointer { m in
                    state.second.withUnsafeMutableBufferPointer { v in
                        var lanes = Lanes(count: value.count)
                        while let range = lanes.next() {
                            let p = Lanes.load(UnsafeBufferPointer(value), range) * shrink
                            let g = Lanes.load(grad, range) + l2 * p
                            let m0 = Lanes.load(UnsafeBufferPointer(m), range)
                            let mi = m0 + (1 - b1) * (g - m0)
                            let vi = b2 * Lanes.load(UnsafeBufferPointer(v), range) + (1 - b2) * g * g
                            Lanes.store(mi, m, range)
                            Lanes.store(vi, v, range)
                            Lanes.store(p - stepSize * mi / (vi.squareRoot() / correction2 + eps), value, range)
                        }
                    }
                }
            }
        }
    }

    private func state(for parameter: Parameter) -> MomentState {
        let key = ObjectIdentifier(parameter)
        if let existing = states[key] { return existing }
        let created = MomentState(owner: parameter, needsSecond: true)
        states[key] = created
        return created
    }
}

/// Walks a buffer in chunks of eight floats; the last chunk may be shorter and
/// is padded with zeros on load and cut on store.
struct Lanes {
    typealias Vector = SIMD8<Float>
    let count: Int
    var start = 0

    init(count: Int) { self.count = count }

    mutating func next() -> Range<Int>? {
        guard start < count else { return nil }
        defer { start += Vector.scalarCount }
        return start..<min(start + Vector.scalarCount, count)
    }

    @inline(__always)
    static func load(_ buffer: UnsafeBufferPointer<Float>, _ range: Range<Int>) -> Vector {
        if range.count == Vector.scalarCount {
            return UnsafeRawPointer(buffer.baseAddress! + range.lowerBound).loadUnaligned(as: Vector.self)
        }
        var vector = Vector(repeating: 0)
        for (lane, index) in range.enumerated() { vector[lane] = buffer[index] }
        return vector
    }

    @inline(__always)
    static func store(_ vector: Vector, _ buffer: UnsafeMutableBufferPointer<Float>, _ range: Range<Int>) {
        if range.count == Vector.scalarCount {
            UnsafeMutableRawPointer(buffer.baseAddress! + range.lowerBound).storeBytes(of: vector, as: Vector.self)
            return
        }
        for (lane, index) in range.enumerated() { buffer[index] = vector[lane] }
    }
}

/// torch.optim.Adam: L2 weight decay added to the gradient.
public final class Adam: Optimizer {
    private let core: AdamCore

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        core = AdamCore(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupled: false)
    }

    public var weightDecay: Float { core.weightDecay }

    public func update(_ parameter: Parameter, lr: Float, step: Int) {
        core.update(parameter, lr: lr)
    }
}

/// torch.optim.AdamW: decoupled weight decay, p *= 1 - lr·wd before the Adam step.
public final class AdamW: Optimizer {
    private let core: AdamCore

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        core = AdamCore(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decoupled: true)
    }

    public var weightDecay: Float { core.weightDecay }

    public func update(_ parameter: Parameter, lr: Float, step: Int) {
        core.update(parameter, lr: lr)
    }
}
