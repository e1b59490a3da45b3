/// Where the learning rate of each step comes from: a pure schedule, or
/// ReduceLROnPlateau (which needs a validation metric every epoch) behind an
/// optional linear warmup.
public enum LearningRatePolicy {
    case schedule(any Schedule)
    case plateau(PlateauScheduler, warmupSteps: Int)
}

/// One model's optimisation loop, step by step: the caller owns the data and
/// the epochs; the trainer owns the forward, loss, backward, schedule and update.
public final class Trainer {
    public let model: Model
    public let loss: any Loss
    public let optimizer: any Optimizer
    public let policy: LearningRatePolicy
    /// Gradient accumulation: the optimizer steps once every this many batches,
    /// on the mean of their gradients (an effective batch this many times larger).
    public let accumulationSteps: Int
    /// Optimizer steps taken; the schedule advances with these, not with batches.
    public private(set) var step = 0
    /// Batches whose gradients wait for the next optimizer step.
    public private(set) var pendingBatches = 0

    public init(model: Model, loss: any Loss, optimizer: any Optimizer, policy: LearningRatePolicy,
                accumulationSteps: Int = 1) {
        precondition(accumulationSteps >= 1, "Trainer: accumulationSteps must be >= 1, got \(accumulationSteps)")
        (self.model, self.loss, self.optimizer, self.policy) = (model, loss, optimizer, policy)
        self.accumulationSteps = accumulationSteps
    }

    /// The learning rate the next step will use.
    public var learningRate: Float {
        switch policy {
        case .schedule(let schedule):
            return schedule.lr(at: step)
        case .plateau(let plateau, let warmupSteps):
            let warm = step < warmupSteps ? Float(step + 1) / Float(warmupSteps) : 1
            return Float(plateau.lr) * warm
        }
    }

    /// Trains on one batch; returns its loss. The optimizer steps after every
    /// `accumulationSteps` batches (after each one by default).
    @discardableResult
    public func trainStep(images: Tensor, targets: Targets) -> Float {
        accumulate { backward in
            let (value, dLogits) = loss.evaluate(logits: model.forward(images, mode: .train), targets: targets)
            backward(dLogits)
            return value
        }
    }

    /// Adds one batch's gradients. `batch` runs the model's forward passes (train
    /// mode) and hands each pass's dLoss/dLogits to `backward` right after it
    /// (layers keep only their last forward); it returns the batch loss. Steps
    /// the optimizer once `accumulationSteps` batches are in.
    @discardableResult
    public func accumulate(_ batch: (_ backward: (Tensor) -> Void) -> Float) -> Float {
        if pendingBatches == 0 { model.parameters.zeroGrads() }
        let scale = 1 / Float(accumulationSteps)
        let value = batch { dLogits in
            guard scale != 1 else { return model.backward(dLogits) }
            var scaled = dLogits
            for i in 0..<scaled.count { scaled[i] *= scale }
            model.backward(scaled)
        }
        pendingBatches += 1
        if pendingBatches == accumulationSteps { flush() }
        return value
    }

    /// Steps the optimizer on the mean gradient of the batches gathered so far,
    /// if any (at the end of an epoch whose batch count is not a multiple of
    /// `accumulationSteps`); returns whether it stepped.
    @discardableResult
    public func flush() -> Bool {
        guard pendingBatches > 0 else { return false }
        // Each batch was scaled by 1/accumulationSteps; a short group is rescaled to its own mean.
        if pendingBatches < accumulationSteps {
            let rescale = Float(accumulationSteps) / Float(pendingBatches)
            for parameter in model.parameters.all where parameter.isTrainable {
                parameter.grad.scalars.withUnsafeMutableBufferPointer { grad in
                    for i in 0..<grad.count { grad[i] *= rescale }
                }
            }
        }
        let lr = learningRate
        step += 1
        optimizer.step(model.parameters, lr: lr, step: step)
        pendingBatches = 0
        return true
    }

    /// Tells a plateau policy the epoch's validation loss; other policies ignore it.
    public func endEpoch(validationLoss: Double) {
        if case .plateau(let plateau, _) = policy { plateau.observe(validationLoss) }
    }

    /// Class probabilities [N, K] in eval mode.
    public func predictProbabilities(_ images: Tensor) -> Tensor {
        softmax(model.forward(images, mode: .eval))
    }
}
