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
    var first: [Float]
    var second: [Float]
    var updates = 0

    init(count: Int, needsSecond: Bool) {
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
        let created = MomentState(count: parameter.value.count, needsSecond: false)
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
        parameter.value.scalars.withUnsafeMutableBufferPointer { value in
            parameter.grad.scalars.withUnsafeBufferPointer { grad in
                state.first.withUnsafeMutableBufferPointer { m in
                    state.second.withUnsafeMutableBufferPointer { v in
                        for i in 0..<value.count {
                            let p = value[i] * shrink
                            let g = grad[i] + l2 * p
                            let mi = m[i] + (1 - b1) * (g - m[i])
                            let vi = b2 * v[i] + (1 - b2) * g * g
                            m[i] = mi
                            v[i] = vi
                            value[i] = p - stepSize * mi / (vi.squareRoot() / correction2 + eps)
                        }
                    }
                }
            }
        }
    }

    private func state(for parameter: Parameter) -> MomentState {
        let key = ObjectIdentifier(parameter)
        if let existing = states[key] { return existing }
        let created = MomentState(count: parameter.value.count, needsSecond: true)
        states[key] = created
        return created
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
