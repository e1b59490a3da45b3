import Engine
import Manifests

/// Turns the manifest's model settings into engine objects.
enum Components {
    static func architecture(_ spec: ArchSpec) -> ArchitectureConfig {
        var config: ArchitectureConfig
        if spec.name == "efficientnet_b0" {
            config = .efficientNet(EfficientNetConfig(widthMultiplier: spec.widthMult ?? 1,
                                                      depthMultiplier: spec.depthMult ?? 1))
        } else {
            config = .resnet(residualNetwork(spec))
        }
        config.head = HeadConfig(pooling: HeadConfig.Pooling(spec.pool),
                                 bnneck: spec.neck == .bnneck, dropout: spec.dropout)
        return config
    }

    /// A named residual network keeps its own stages and stem; `resnet` and
    /// `resnext` take them from the spec; `se_resnext` always has SE.
    private static func residualNetwork(_ spec: ArchSpec) -> ResNetConfig {
        var config = ModelRegistry.defaultConfig(for: spec.name)
            ?? ResNetConfig(widths: spec.widths ?? [64, 128, 256, 512], blocks: spec.blocks ?? [2, 2, 2, 2],
                            stem: ResNetConfig.Stem(spec.stem))
        if spec.name == "resnext" {
            config.block = .bottleneck(cardinality: spec.cardinality ?? ArchSpec.defaultCardinality,
                                       baseWidth: spec.baseWidth ?? ArchSpec.defaultBaseWidth)
        }
        if spec.name != "se_resnext" { config.squeezeExcitation = spec.squeezeExcitation }
        config.ibn = spec.ibn ?? false
        config.zeroInitResidual = spec.zeroInitResidual ?? false
        return config
    }

    static func optimizer(_ spec: OptimizerSpec) -> any Optimizer {
        switch spec.name {
        case .sgd: return SGD(momentum: spec.momentum, nesterov: spec.nesterov, weightDecay: spec.weightDecay)
        case .adam: return Adam(beta1: spec.beta1, beta2: spec.beta2, epsilon: spec.epsilon, weightDecay: spec.weightDecay)
        case .adamw: return AdamW(beta1: spec.beta1, beta2: spec.beta2, epsilon: spec.epsilon, weightDecay: spec.weightDecay)
        }
    }

    /// Epoch-based settings become step-based with `stepsPerEpoch`. A warmup
    /// overlaps the start of step, multi-step and cosine schedules, so their
    /// milestones and restarts stay at the epochs the manifest names; one-cycle
    /// (which anneals over the whole run) starts after it.
    /// The schedule, with SWA's constant rate from its start epoch on when the model averages weights.
    static func policy(_ spec: ScheduleSpec, lr: Float, epochs: Int, stepsPerEpoch: Int, swa: SWASpec?) -> LearningRatePolicy {
        let policy = policy(spec, lr: lr, epochs: epochs, stepsPerEpoch: stepsPerEpoch)
        guard let swa, case .schedule(let schedule) = policy else { return policy }
        return .schedule(HoldSchedule(inner: schedule, fromStep: (swa.startEpoch - 1) * stepsPerEpoch, lr: swa.lr))
    }

    static func policy(_ spec: ScheduleSpec, lr: Float, epochs: Int, stepsPerEpoch: Int) -> LearningRatePolicy {
        let warmup = Int((spec.warmupEpochs * Float(stepsPerEpoch)).rounded())
        // OneCycleSchedule needs two steps; a one-step run simply uses the first.
        let steps = max(2, epochs * stepsPerEpoch - warmup)
        let inner: any Schedule
        switch spec.name {
        case .constant: inner = ConstantSchedule(lr)
        case .step:
            inner = StepSchedule(baseLR: lr, stepSize: (spec.stepEpochs ?? epochs) * stepsPerEpoch, gamma: spec.gamma)
        case .multistep:
            inner = MultiStepSchedule(baseLR: lr, milestones: (spec.milestones ?? []).map { $0 * stepsPerEpoch },
                                      gamma: spec.gamma)
        case .cosine:
            inner = CosineRestartsSchedule(baseLR: lr, minLR: spec.minLR,
                                           cycleLength: max(1, (spec.cycleEpochs ?? epochs) * stepsPerEpoch),
                                           cycleMultiplier: spec.cycleMultiplier)
        case .onecycle:
            inner = OneCycleSchedule(maxLR: lr, totalSteps: steps, pctStart: spec.pctStart,
                                     divFactor: spec.divFactor, finalDivFactor: spec.finalDivFactor)
        case .plateau:
            let plateau = PlateauScheduler(initialLR: lr, factor: spec.factor, patience: spec.patience, minLR: spec.minLR)
            return .plateau(plateau, warmupSteps: warmup)
        }
        guard warmup > 0 else { return .schedule(inner) }
        return .schedule(WarmupSchedule(inner: inner, warmupSteps: warmup, overlapping: spec.name != .onecycle))
    }
}
