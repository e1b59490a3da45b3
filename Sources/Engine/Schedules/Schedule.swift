import Foundation

/// A learning-rate schedule: a pure function from the optimizer step (counted
/// from 0) to the learning rate. Epoch-based settings are converted to steps
/// with the number of steps per epoch when the schedule is built.
public protocol Schedule: Sendable {
    func lr(at step: Int) -> Float
}

/// The same learning rate at every step.
public struct ConstantSchedule: Schedule {
    public let baseLR: Float

    public init(_ lr: Float) { self.baseLR = lr }

    public func lr(at step: Int) -> Float { baseLR }
}

/// torch StepLR: multiply by `gamma` every `stepSize` steps.
public struct StepSchedule: Schedule {
    public let baseLR: Float
    public let stepSize: Int
    public let gamma: Float

    public init(baseLR: Float, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepSchedule: stepSize must be positive, got \(stepSize)")
        self.baseLR = baseLR
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func lr(at step: Int) -> Float {
        Float(Double(baseLR) * pow(Double(gamma), Double(max(step, 0) / stepSize)))
    }
}

/// torch MultiStepLR: multiply by `gamma` at each milestone reached (step ≥ milestone).
public struct MultiStepSchedule: Schedule {
    public let baseLR: Float
    public let milestones: [Int]
    public let gamma: Float

    public init(baseLR: Float, milestones: [Int], gamma: Float = 0.1) {
        self.baseLR = baseLR
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }

    public func lr(at step: Int) -> Float {
        let passed = milestones.reduce(0) { $0 + ($1 <= step ? 1 : 0) }
        return Float(Double(baseLR) * pow(Double(gamma), Double(passed)))
    }
}

/// SGDR (torch CosineAnnealingWarmRestarts): cosine from `baseLR` to `minLR`
/// over a cycle, then restart; each cycle is `cycleMultiplier` times longer.
public struct CosineRestartsSchedule: Schedule {
    public let baseLR: Float
    public let minLR: Float
    public let cycleLength: Int
    public let cycleMultiplier: Int

    public init(baseLR: Float, minLR: Float = 0, cycleLength: Int, cycleMultiplier: Int = 1) {
        precondition(cycleLength > 0, "CosineRestartsSchedule: cycleLength must be positive, got \(cycleLength)")
        precondition(cycleMultiplier >= 1, "CosineRestartsSchedule: cycleMultiplier must be ≥ 1, got \(cycleMultiplier)")
        self.baseLR = baseLR
        self.minLR = minLR
        self.cycleLength = cycleLength
        self.cycleMultiplier = cycleMultiplier
    }

    /// The position inside the current cycle and that cycle's length. Walking
    /// the cycles in integers avoids torch's floating-point logarithm at boundaries.
    public func cyclePosition(at step: Int) -> (inCycle: Int, length: Int) {
        var remaining = max(step, 0)
        var length = cycleLength
        if cycleMultiplier == 1 { return (remaining % length, length) }
        while remaining >= length {
            remaining -= length
            length *= cycleMultiplier
        }
        return (remaining, length)
    }

    public func lr(at step: Int) -> Float {
        let (inCycle, length) = cyclePosition(at: step)
        let cosine = 1 + cos(Double.pi * Double(inCycle) / Double(length))
        return Float(Double(minLR) + Double(baseLR - minLR) * cosine / 2)
    }
}

/// torch OneCycleLR with cosine annealing and two phases: from maxLR/divFactor
/// up to maxLR over the first pctStart of the steps, then down to
/// maxLR/(divFactor·finalDivFactor). Steps past the end keep the final rate.
public struct OneCycleSchedule: Schedule {
    public let maxLR: Float
    public let totalSteps: Int
    public let pctStart: Float
    public let divFactor: Float
    public let finalDivFactor: Float

    public init(maxLR: Float, totalSteps: Int, pctStart: Float = 0.3,
                divFactor: Float = 25, finalDivFactor: Float = 1e4) {
        precondition(totalSteps > 1, "OneCycleSchedule: totalSteps must be > 1, got \(totalSteps)")
        precondition(pctStart > 0 && pctStart < 1, "OneCycleSchedule: pctStart must be in (0, 1), got \(pctStart)")
        self.maxLR = maxLR
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
    }

    public func lr(at step: Int) -> Float {
        let initial = Double(maxLR) / Double(divFactor)
        let final = initial / Double(finalDivFactor)
        let warmEnd = Double(pctStart) * Double(totalSteps) - 1
        let end = Double(totalSteps - 1)
        let t = Double(min(max(step, 0), totalSteps - 1))
        if t <= warmEnd {
            let fraction = warmEnd > 0 ? t / warmEnd : 1
            return Float(Self.cosineAnneal(from: initial, to: Double(maxLR), fraction: fraction))
        }
        return Float(Self.cosineAnneal(from: Double(maxLR), to: final, fraction: (t - warmEnd) / (end - warmEnd)))
    }

    static func cosineAnneal(from start: Double, to end: Double, fraction: Double) -> Double {
        end + (start - end) / 2 * (cos(Double.pi * fraction) + 1)
    }
}

/// Linear warm-up in front of another schedule: step s < warmupSteps gets
/// inner.lr(0)·(s+1)/warmupSteps, later steps get inner.lr(s - warmupSteps).
public struct WarmupSchedule: Schedule {
    public let inner: any Schedule
    public let warmupSteps: Int
    /// false: the inner schedule starts after the warmup (its step 0 follows it).
    /// true: the warmup replaces the inner schedule's first steps, which keeps
    /// its milestones and restarts at their absolute steps (timm's default).
    public let overlapping: Bool

    public init(inner: any Schedule, warmupSteps: Int, overlapping: Bool = false) {
        precondition(warmupSteps >= 0, "WarmupSchedule: warmupSteps must be ≥ 0, got \(warmupSteps)")
        self.inner = inner
        self.warmupSteps = warmupSteps
        self.overlapping = overlapping
    }

    public func lr(at step: Int) -> Float {
        if step < warmupSteps {
            let target = inner.lr(at: overlapping ? warmupSteps : 0)
            return target * Float(max(step, 0) + 1) / Float(warmupSteps)
        }
        return inner.lr(at: overlapping ? step : step - warmupSteps)
    }
}

/// The inner schedule until `fromStep`, then a constant rate: SWA's learning
/// rate over the averaged epochs (PyTorch's SWALR with no annealing).
public struct HoldSchedule: Schedule {
    public let inner: any Schedule
    public let fromStep: Int
    public let heldLR: Float

    public init(inner: any Schedule, fromStep: Int, lr: Float) {
        (self.inner, self.fromStep, self.heldLR) = (inner, fromStep, lr)
    }

    public func lr(at step: Int) -> Float { step >= fromStep ? heldLR : inner.lr(at: step) }
}

/// torch ReduceLROnPlateau (threshold_mode "rel"): after more than `patience`
/// observations without a relative improvement of `threshold`, multiply the
/// learning rate by `factor`, not going below `minLR`. Stateful, so a class.
public final class PlateauScheduler {
    public enum Direction: Sendable { case min, max }

    public let factor: Double
    public let patience: Int
    public let minLR: Double
    public let mode: Direction
    public let threshold: Double
    public let cooldown: Int
    public private(set) var lr: Double
    public private(set) var best: Double
    public private(set) var badObservations = 0
    private var cooldownLeft = 0

    public init(initialLR: Float, factor: Float = 0.1, patience: Int = 10, minLR: Float = 0,
                mode: Direction = .min, threshold: Double = 1e-4, cooldown: Int = 0) {
        precondition(factor < 1, "PlateauScheduler: factor must be < 1, got \(factor)")
        self.lr = Double(initialLR)
        self.factor = Double(factor)
        self.patience = patience
        self.minLR = Double(minLR)
        self.mode = mode
        self.threshold = threshold
        self.cooldown = cooldown
        self.best = mode == .min ? .infinity : -.infinity
    }

    /// Records one validation metric and returns the learning rate to use next.
    @discardableResult
    public func observe(_ metric: Double) -> Float {
        if isImprovement(metric) {
            best = metric
            badObservations = 0
        } else {
            badObservations += 1
        }
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            badObservations = 0
        }
        if badObservations > patience {
            let reduced = max(lr * factor, minLR)
            // torch ignores reductions smaller than 1e-8.
            if lr - reduced > 1e-8 { lr = reduced }
            cooldownLeft = cooldown
            badObservations = 0
        }
        return Float(lr)
    }

    private func isImprovement(_ metric: Double) -> Bool {
        switch mode {
        case .min: return metric < best * (1 - threshold)
        case .max: return metric > best * (1 + threshold)
        }
    }
}
