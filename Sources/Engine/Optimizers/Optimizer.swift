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
