import Datasets
import Engine
import Manifests

/// The manifest names a metric (`MetricName`, Manifests) and Datasets computes
/// it (`Metric`): these switches have no default, so a metric added to one
/// side and not the other is a compile error instead of a silent fallback.
extension Metric {
    public init(_ name: MetricName) {
        switch name {
        case .accuracy: self = .accuracy
        case .logLoss: self = .logLoss
        case .macroF1: self = .macroF1
        case .rocAUC: self = .rocAUC
        }
    }
}

extension SubmissionFormat {
    /// Whether `submission.csv` carries probabilities: as asked, or with `auto`
    /// when the competition's metric scores probabilities (roc_auc, log_loss).
    public func writesProbabilities(for metric: Metric) -> Bool {
        switch self {
        case .auto: metric.scoresProbabilities
        case .label: false
        case .probabilities: true
        }
    }
}

extension ResNetConfig.Stem {
    /// The engine's stem for the manifest's: exhaustive, like the metric bridge.
    public init(_ kind: StemKind) {
        switch kind {
        case .conv3: self = .conv3
        case .conv7Pool: self = .conv7Pool
        }
    }
}

extension HeadConfig.Pooling {
    /// The engine's head pooling for the manifest's (`nil`: average): exhaustive, like the stem bridge.
    public init(_ kind: PoolKind?) {
        switch kind {
        case nil, .avg: self = .avg
        case .max: self = .max
        case .gem: self = .gem
        case .dual: self = .dual
        }
    }
}
