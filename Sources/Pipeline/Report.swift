import Datasets
import Foundation

/// Everything `foldwise report` shows, as plain values gathered from the
/// experiment database, so the text and the HTML are pure functions of it.
public struct ReportData: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var subject: String
        public var kind: Subject.Kind
        /// Pooled over every train row: the score the final choice is made by (nested for fitted level-2 results).
        public var oofScore: Double
        /// The mean of the per-fold OOF scores.
        public var foldMeanScore: Double?
        /// A fitted blend's weights fitted and scored on every row: optimistic, shown only.
        public var inSampleScore: Double?
        public var testScore: Double?

        public init(subject: String, kind: Subject.Kind, oofScore: Double, foldMeanScore: Double? = nil,
                    inSampleScore: Double? = nil, testScore: Double? = nil) {
            (self.subject, self.kind, self.oofScore, self.testScore) = (subject, kind, oofScore, testScore)
            (self.foldMeanScore, self.inSampleScore) = (foldMeanScore, inSampleScore)
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
    /// undefined on these labels, a diverged loss) goes last; equal scores go
    /// to the simpler result (base set, blend, stacker), then by subject.
    public var leaderboard: [Row] {
        rows.sorted { a, b in
            Metric.ranks(a.oofScore, before: b.oofScore, higherIsBetter: higherIsBetter) ?? ((a.kind, a.subject) < (b.kind, b.subject))
        }
    }

    /// Whether a per-fold mean differs from its pooled score anywhere (then the table shows both).
    public var showsFoldMeans: Bool {
        rows.contains { row in row.foldMeanScore.map { abs($0 - row.oofScore) > 5e-5 } ?? false }
    }

    /// Whether any fitted blend has an in-sample score to show beside its nested one.
    public var showsInSample: Bool { rows.contains { $0.inSampleScore != nil } }

    /// The recorded final choice, else the best subject by OOF score.
    public var finalSubject: String? { finalChoice ?? leaderboard.first?.subject }

    /// The leaderboard as an aligned text table, best first; the final
    /// ensemble is marked with `*`.
    public func leaderboardText() -> String {
        let final = finalSubject
        let (foldMeans, inSample) = (showsFoldMeans, showsInSample)
        let header = ["#", "subject", "kind", "oof \(metricName)"] + (foldMeans ? ["fold mean"] : [])
            + (inSample ? ["in-sample"] : []) + ["test \(metricName)", ""]
        let optional = { (value: Double?) -> String in value.map(Self.format) ?? "-" }
        let body = leaderboard.enumerated().map { index, row -> [String] in
            var cells: [String] = [String(index + 1), row.subject, row.kind.name, Self.format(row.oofScore)]
            if foldMeans { cells.append(optional(row.foldMeanScore)) }
            if inSample { cells.append(optional(row.inSampleScore)) }
            cells += [optional(row.testScore), row.subject == final ? "*" : ""]
            return cells
        }
        let table = [header] + body
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        // Numbers align right, names left.
        let rightAligned = Set([0] + Array(3..<(header.count - 1)))
        let lines = table.map { cells in
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }
        let direction = higherIsBetter ? "higher is better" : "lower is better"
        let notes = (inSample ? "; in-sample = a fitted blend scored on the rows it was fitted on (optimistic, never used to choose)" : "")
        return (["experiment \(experimentName): OOF \(metricName), \(direction); * = final ensemble" + notes] + lines)
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
