import Foundation
import Storage

/// What a finished run reports: every current subject's scores, the task
/// counts, the submission's choice, the report and the files written.
public struct RunSummary: Encodable, Sendable {
    public struct SetScore: Encodable, Sendable {
        public var name: String
        public var seeds: [Int]
        public var oofScore: Double
        public var testScore: Double?
    }
    public struct Choice: Encodable, Sendable { public var set: String; public var path: String }

    public var directory: String
    public var database: String
    public var metric = ""
    public var tasks: [String: Int] = [:]
    public var sets: [SetScore] = []
    public var submission: Choice?
    public var report: String?
    /// The leaderboard as text, for the terminal (not part of the JSON).
    public var leaderboard: String?
    public var paths: [String] = []

    private enum CodingKeys: String, CodingKey { case directory, database, metric, tasks, sets, submission, report, paths }

    public init(directory: String, database: String, metric: String) {
        (self.directory, self.database, self.metric) = (directory, database, metric)
    }

    /// The leaderboard (or one line per set, as `train` prints them), then the submission and the report.
    public func lines() -> [String] {
        let paths = (submission.map { ["submission: \($0.path) (from \($0.set), the best OOF score)"] } ?? [])
            + (report.map { ["report: \($0)"] } ?? [])
        if let leaderboard { return [leaderboard] + paths }
        return sets.map { set in
            var line = String(format: "%@: OOF %@ %.4f", set.name, metric, set.oofScore)
            if !set.seeds.isEmpty { line += " over \(set.seeds.count) seed\(set.seeds.count == 1 ? "" : "s")" }
            if let test = set.testScore { line += String(format: "; held-out test %@ %.4f", metric, test) }
            return line
        } + paths
    }
}

extension ExperimentPipeline {
    /// Scores everything, exports the arrays, writes the submission from the
    /// best result by OOF score and the report.
    public func finish() throws -> RunSummary {
        let evaluation = try evaluate()
        let catalog = evaluation.catalog
        var summary = RunSummary(directory: directory.url.path, database: directory.database.path, metric: catalog.metric.rawValue)
        let seeds = Dictionary(uniqueKeysWithValues: catalog.base.map { ($0.subject, $0.seeds) })
        summary.sets = (evaluation.base + evaluation.level2).map {
            RunSummary.SetScore(name: $0.subject.name, seeds: seeds[$0.subject] ?? [], oofScore: $0.oof, testScore: $0.test)
        }
        summary.tasks = Dictionary(uniqueKeysWithValues: try database.counts(experimentID: experimentID).map { ($0.key.rawValue, $0.value) })
        summary.paths = try ExperimentExport(directory: directory).write(catalog.base)
        guard !catalog.base.isEmpty else { return summary }
        let (subject, path) = try catalog.writeSubmission(subject: nil)
        summary.submission = .init(set: subject.name, path: path.path)
        summary.paths.append(path.path)
        let experimentName = try database.experiments().first { $0.id == experimentID }?.name ?? manifest.name
        let report = try ReportSources(catalog: catalog, experimentName: experimentName).gather()
        let reportPath = directory.file("report.html")
        try Data(ReportHTML.render(report).utf8).write(to: reportPath, options: .atomic)
        summary.report = reportPath.path
        summary.leaderboard = report.leaderboardText()
        summary.paths.append(reportPath.path)
        return summary
    }
}
