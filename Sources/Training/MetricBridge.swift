import Datasets
import Manifests

extension Metric {
    /// The engine's metric for the manifest's name: an exhaustive bridge, so a
    /// metric added to one vocabulary and not the other fails to compile.
    public init(_ name: MetricName) {
        switch name {
        case .accuracy: self = .accuracy
        case .logLoss: self = .logLoss
        case .macroF1: self = .macroF1
        case .rocAUC: self = .rocAUC
        }
    }
}
