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
    public private(set) var step = 0

    public init(model: Model, loss: any Loss, optimizer: any Optimizer, policy: LearningRatePolicy) {
        (self.model, self.loss, self.optimizer, self.policy) = (model, loss, optimizer, policy)
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

    /// One optimizer step on a batch; returns the batch loss.
    @discardableResult
    public func trainStep(images: Tensor, targets: Targets) -> Float {
        model.parameters.zeroGrads()
        let logits = model.forward(images, mode: .train)
        let (value, dLogits) = loss.evaluate(logits: logits, targets: targets)
        model.backward(dLogits)
        let lr = learningRate
        step += 1
        optimizer.step(model.parameters, lr: lr, step: step)
        return value
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
