import Datasets
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
