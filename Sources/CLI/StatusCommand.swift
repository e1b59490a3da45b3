import ArgumentParser
import Cluster
import Foundation
import Manifests
import Pipeline
import Storage

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show an experiment's tasks, running epochs, failures and scores (during a run or after it).")

    @Argument(help: "The experiment directory (default: the current one, or the only one under runs/).")
    var dir: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let directory = try ExperimentDirectory.locate(dir)
        let (database, experiment, experimentID) = try directory.openExperiment(forReading: true)
        let tasks = try database.tasks(experimentID: experimentID)
        let stages = (try? Manifest.fromCanonicalJSON(experiment.manifestJSON)).map(StagePlan.stages) ?? []
        var report = StatusReport(experiment: experiment.name, manifestHash: experiment.manifestHash,
                                  database: directory.database.path, integrityOK: try database.integrityCheck(),
                                  coordinatorRunning: ExperimentLock.isHeld(directory))
        report.tasks = Dictionary(uniqueKeysWithValues: try database.counts(experimentID: experimentID).map { ($0.key.rawValue, $0.value) })
        for task in tasks where task.state == .running {
            let attempt = try database.attempts(taskID: task.id).last
            let epoch = try database.epochs(taskID: task.id).last { $0.attempt == task.attempts }
            report.running.append(.init(task: Self.label(task, stages: stages), worker: attempt?.workerID ?? "?", host: attempt?.host ?? "?",
                                        attempt: task.attempts, epoch: epoch?.epoch ?? 0,
                                        validationScore: epoch?.validationScore))
        }
        for task in tasks {
            for attempt in try database.attempts(taskID: task.id) where attempt.outcome == .failed || attempt.outcome == .abandoned {
                report.problems.append(.init(task: Self.label(task, stages: stages), attempt: attempt.attempt, outcome: attempt.outcome.rawValue,
                                             worker: attempt.workerID, message: attempt.message ?? ""))
            }
        }
        report.scores = try Self.currentScores(directory: directory, database: database, experimentID: experimentID)
        if json { print(try report.jsonString()) } else { print(report.text()) }
    }

    /// `resnet+pl1 seed 0 fold 2`: the model under its stage's name.
    static func label(_ task: TaskRecord, stages: [KeyedStage] = []) -> String {
        let stage = stages.first { $0.owns(storageName: task.stage, round: task.round) }?.stage ?? .base
        return "\(stage.label(model: task.model)) seed \(task.seed) fold \(task.fold)"
    }

    /// The current subjects' OOF scores, best first (the catalogue's
    /// leaderboard: results of settings no longer in the manifest are not listed).
    static func currentScores(directory: ExperimentDirectory, database: ExperimentDatabase, experimentID: Int64) throws -> [StatusReport.Score] {
        let catalog = try ResultCatalog(directory: directory, database: database, experimentID: experimentID)
        return try catalog.leaderboard().map { .init(set: $0.subject.name, metric: ScoreKey(.oof, catalog.metric).text, value: $0.score) }
    }
}

struct StatusReport: JSONSummary {
    struct Running: Encodable { var task, worker, host: String; var attempt, epoch: Int; var validationScore: Double? }
    struct Problem: Encodable { var task: String; var attempt: Int; var outcome, worker, message: String }
    struct Score: Encodable { var set, metric: String; var value: Double }
    var experiment: String
    var manifestHash: String
    var database: String
    var integrityOK: Bool
    /// Whether a coordinator holds the folder's lock now: without one, "running" tasks were left by one that died.
    var coordinatorRunning: Bool
    var tasks: [String: Int] = [:]
    var running: [Running] = []
    var problems: [Problem] = []
    var scores: [Score] = []

    func text() -> String {
        let total = tasks.values.reduce(0, +)
        var lines = ["experiment \(experiment) (manifest \(manifestHash)) in \(database)",
                     "tasks: \(tasks["done"] ?? 0)/\(total) done, \(tasks["running"] ?? 0) running, \(tasks["queued"] ?? 0) queued, "
                     + "\(tasks["failed"] ?? 0) failed, \(tasks["abandoned"] ?? 0) abandoned",
                     "database integrity: \(integrityOK ? "ok" : "FAILED (run `sqlite3 \(database) 'PRAGMA integrity_check'`)")"]
        if !running.isEmpty && !coordinatorRunning {
            lines.append("  no coordinator is running on this folder: the tasks below were left running by one that stopped; "
                         + "the next run requeues them")
        }
        for r in running {
            let score = r.validationScore.map { String(format: ", validation %.4f", $0) } ?? ""
            lines.append("  running: \(r.task) on \(r.worker) (\(r.host)), attempt \(r.attempt), epoch \(r.epoch)\(score)")
        }
        for p in problems { lines.append("  \(p.outcome): \(p.task) attempt \(p.attempt) on \(p.worker): \(p.message)") }
        for s in scores { lines.append(String(format: "  %@ %@ %.4f", s.set, s.metric, s.value)) }
        // Workers named themselves and worded their failures: each line prints as one line.
        return lines.map(LogText.line).joined(separator: "\n")
    }
}
