/// A learning-rate schedule: a pure function from the optimizer step (counted
/// from 0) to the learning rate. Epoch-based settings are converted to steps
/// with the number of steps per epoch when the schedule is built.
public protocol Schedule: Sendable {
    func lr(at step: Int) -> Float
}
