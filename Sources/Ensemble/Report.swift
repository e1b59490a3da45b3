import Datasets
import Foundation

/// Everything `foldwise report` shows, as plain values gathered from the
/// experiment database, so the text and the HTML are pure functions of it.
public struct ReportData: Sendable, Equatable {
    /// Where a scored subject comes from: a base prediction set
    /// (`<model>/<set>`), a blend (`blend/<method>`) or a stacker (`stack/<learner>`).
    public enum Kind: String, Sendable, Equatable {
        case base, blend, stacker

        public init(subject: String) {
            if subject.hasPrefix("blend/") { self = .blend } else if subject.hasPrefix("stack/") { self = .stacker } else { self = .base }
        }
    }

    public struct Row: Sendable, Equatable {
        public var subject: String
        public var kind: Kind
        public var oofScore: Double
        public var testScore: Double?

        public init(subject: String, kind: Kind? = nil, oofScore: Double, testScore: Double? = nil) {
            (self.subject, self.kind, self.oofScore, self.testScore) = (subject, kind ?? Kind(subject: subject), oofScore, testScore)
        }
    }

    public struct EpochPoint: Sendable, Equatable {
        public var epoch: Int
        public var trainLoss: Double
        public var validationLoss: Double?
        public var validationScore: Double?

        public init(epoch: Int, trainLoss: Double, validationLoss: Double?, validationScore: Double?) {
            (self.epoch, self.trainLoss, self.validationLoss, self.validationScore) = (epoch, trainLoss, validationLoss, validationScore)
        }
    }

    /// One training task's metrics per epoch (its latest attempt).
    public struct Curve: Sendable, Equatable {
        public var model: String
        public var seed: Int
        public var fold: Int
        public var epochs: [EpochPoint]

        public init(model: String, seed: Int, fold: Int, epochs: [EpochPoint]) {
            (self.model, self.seed, self.fold, self.epochs) = (model, seed, fold, epochs)
        }
    }

    public struct SetWeight: Sendable, Equatable {
        public var set: String
        public var weight: Double

        public init(set: String, weight: Double) { (self.set, self.weight) = (set, weight) }
    }

    /// The weight a blend gives each base set.
    public struct BlendWeights: Sendable, Equatable {
        public var subject: String
        public var weights: [SetWeight]

        public init(subject: String, weights: [SetWeight]) { (self.subject, self.weights) = (subject, weights) }
    }

    public var experimentName: String
    public var metricName: String
    public var higherIsBetter: Bool
    public var rows: [Row]
    public var curves: [Curve]
    public var blendWeights: [BlendWeights]
    /// The final ensemble's OOF confusion matrix, when its OOF predictions are stored.
    public var confusion: ConfusionMatrix?
    /// The subject the submission was made from; nil when none was recorded.
    public var finalChoice: String?

    public init(experimentName: String, metricName: String, higherIsBetter: Bool, rows: [Row], curves: [Curve] = [],
                blendWeights: [BlendWeights] = [], confusion: ConfusionMatrix? = nil, finalChoice: String? = nil) {
        self.experimentName = experimentName
        self.metricName = metricName
        self.higherIsBetter = higherIsBetter
        self.rows = rows
        self.curves = curves
        self.blendWeights = blendWeights
        self.confusion = confusion
        self.finalChoice = finalChoice
    }

    /// The rows best first in the metric's direction; a NaN score (a metric
    /// undefined on these labels) goes last; ties keep subject order.
    public var leaderboard: [Row] {
        rows.sorted { a, b in
            if a.oofScore.isNaN != b.oofScore.isNaN { return b.oofScore.isNaN }
            if a.oofScore != b.oofScore, !a.oofScore.isNaN {
                return higherIsBetter ? a.oofScore > b.oofScore : a.oofScore < b.oofScore
            }
            return a.subject < b.subject
        }
    }

    /// The recorded final choice, else the best subject by OOF score.
    public var finalSubject: String? { finalChoice ?? leaderboard.first?.subject }

    /// The leaderboard as an aligned text table, best first; the final
    /// ensemble is marked with `*`.
    public func leaderboardText() -> String {
        let final = finalSubject
        let header = ["#", "subject", "kind", "oof \(metricName)", "test \(metricName)", ""]
        let body = leaderboard.enumerated().map { index, row in
            [String(index + 1), row.subject, row.kind.rawValue, Self.format(row.oofScore),
             row.testScore.map(Self.format) ?? "-", row.subject == final ? "*" : ""]
        }
        let table = [header] + body
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        // Numbers align right, names left.
        let rightAligned: Set<Int> = [0, 3, 4]
        let lines = table.map { cells in
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }
        let direction = higherIsBetter ? "higher is better" : "lower is better"
        return (["experiment \(experimentName): OOF \(metricName), \(direction); * = final ensemble"] + lines)
            .joined(separator: "\n")
    }

    static func format(_ score: Double) -> String { score.isNaN ? "nan" : String(format: "%.4f", score) }
}

/// Counts of (true class, predicted class) pairs; rows are the true classes.
public struct ConfusionMatrix: Sendable, Equatable {
    public var classNames: [String]
    public var counts: [[Int]]

    public init(classNames: [String], counts: [[Int]]) {
        precondition(counts.count == classNames.count && counts.allSatisfy { $0.count == classNames.count },
                     "ConfusionMatrix: counts must be \(classNames.count)×\(classNames.count)")
        (self.classNames, self.counts) = (classNames, counts)
    }

    /// From class probabilities [N·K] row-major: each row's predicted class is its argmax.
    public init(classNames: [String], labels: [Int], probabilities: [Float]) {
        let K = classNames.count
        precondition(K >= 1 && probabilities.count == labels.count * K,
                     "ConfusionMatrix: \(probabilities.count) probabilities for \(labels.count) rows of \(K) classes")
        precondition(labels.allSatisfy { (0..<K).contains($0) }, "ConfusionMatrix: a label is outside 0..<\(K)")
        var counts = [[Int]](repeating: [Int](repeating: 0, count: K), count: K)
        for (label, predicted) in zip(labels, predictedClasses(probabilities, classes: K)) { counts[label][predicted] += 1 }
        self.init(classNames: classNames, counts: counts)
    }

    public var total: Int { counts.joined().reduce(0, +) }
}
