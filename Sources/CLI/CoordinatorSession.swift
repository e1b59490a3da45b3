import Cluster
import Datasets
import Engine
import Ensemble
import Foundation
import Manifests
import Storage
import Training

/// What `foldwise run` and `foldwise coordinator` share: an experiment
/// directory (its database, the common files, exports) and a coordinator bound
/// to an endpoint, and the scoring of the finished prediction sets.
struct CoordinatorSession {
    let manifest: Manifest
    let data: ExperimentData
    let directory: ExperimentDirectory
    let shell: CoordinatorShell
    var database: ExperimentDatabase { shell.database }

    init(manifestPath: String, directory: String?, endpoint: String, threads: Int,
         configure: (ZMQSocket) throws -> Void = { _ in }, log: @escaping @Sendable (String) -> Void) throws {
        manifest = try Manifest.load(URL(fileURLWithPath: manifestPath))
        data = try ExperimentData(manifest: manifest, threads: threads)
        try FoldRunner(manifest: manifest, data: data).checkModels()
        self.directory = ExperimentDirectory(URL(fileURLWithPath: directory ?? "runs/\(manifest.name)"))
        // Refuses a folder of another manifest or other data before the database is touched.
        let files = try PredictionFiles(directory: self.directory.url, manifest: manifest, dataFingerprint: data.fingerprint)
        try files.writeCommon(data: data, seeds: manifest.cv.seeds)
        try Self.writeSample(manifest: manifest, data: data, to: self.directory.url.appendingPathComponent("sample_submission.csv"))
        let database = try ExperimentDatabase.open(at: self.directory.database)
        let cluster = manifest.cluster
        shell = try CoordinatorShell(
            context: try ZMQContext(), endpoint: endpoint, manifest: manifest, dataFingerprint: data.fingerprint,
            database: database,
            settings: CoordinatorSettings(maxAttempts: cluster.maxAttempts, heartbeatInterval: cluster.heartbeatInterval,
                                          liveness: cluster.liveness, retryDelay: cluster.retryDelay,
                                          maxRetryDelay: cluster.maxRetryDelay),
            configure: configure, log: log)
    }

    /// The competition's sample submission, kept beside the database so
    /// `foldwise submit` works from DIR alone; without one (a test CSV instead),
    /// a sample with the id and label columns.
    static func writeSample(manifest: Manifest, data: ExperimentData, to target: URL) throws {
        let text: String
        if let sample = manifest.data.sampleSubmission {
            text = try String(contentsOf: manifest.resolve(sample), encoding: .utf8)
        } else {
            text = ([[manifest.data.idColumn, manifest.data.labelColumn].joined(separator: ",")]
                    + data.test.ids.map { "\($0),\(data.train.classNames[0])" }).joined(separator: "\n") + "\n"
        }
        try Data(text.utf8).write(to: target, options: .atomic)
    }

    /// Scores every complete prediction set (OOF, and held-out test when the
    /// manifest names test labels) and runs the level-2 stage when the
    /// manifest has one; the catalog then knows every scored result.
    func evaluate() throws -> (summary: RunSummary, sets: [AssembledSet], catalog: ResultCatalog?) {
        let metric = Metric(rawValue: manifest.metric.rawValue) ?? .accuracy
        let sets = try ExperimentResults.assemble(database: database, experimentID: shell.experimentID,
                                                  folds: manifest.cv.folds, trainRows: data.train.ids.count)
        var summary = RunSummary(directory: directory.url.path, database: directory.database.path, metric: metric.rawValue)
        for set in sets {
            let oofScore = metric.score(probabilities: set.oof.scalars, classes: data.classes, labels: data.train.labels)
            try database.recordScore(ScoreRecord(experimentID: shell.experimentID, subject: set.name,
                                                 metric: "oof:\(metric.rawValue)", value: oofScore))
            let testScore = data.testLabels.map {
                metric.score(probabilities: set.test.scalars, classes: data.classes, labels: $0)
            }
            if let testScore {
                try database.recordScore(ScoreRecord(experimentID: shell.experimentID, subject: set.name,
                                                     metric: "test:\(metric.rawValue)", value: testScore))
            }
            summary.sets.append(.init(name: set.name, seeds: set.seeds, oofScore: oofScore, testScore: testScore))
        }
        guard !sets.isEmpty else { return (summary, sets, nil) }
        let catalog = try ResultCatalog(directory: directory, database: database, experimentID: shell.experimentID)
        if let section = manifest.ensemble {
            for result in try Level2Stage.run(catalog, section: section, data: data) {
                let test = data.testLabels.map { metric.score(probabilities: result.test, classes: data.classes, labels: $0) }
                summary.sets.append(.init(name: result.name, seeds: [], oofScore: result.score, testScore: test))
            }
        }
        return (summary, sets, catalog)
    }

    /// Scores everything, writes the submission from the best result and exports the arrays.
    func finish() throws -> RunSummary {
        var (summary, sets, catalog) = try evaluate()
        summary.tasks = try Dictionary(uniqueKeysWithValues: database.counts(experimentID: shell.experimentID)
            .map { ($0.key.rawValue, $0.value) })
        summary.paths = try ExperimentExport(directory: directory).write(sets)
        guard let catalog else { return summary }
        let (subject, path) = try catalog.writeSubmission(subject: nil)
        summary.submission = .init(set: subject, path: path.path)
        summary.paths.append(path.path)
        let report = try ReportSources(directory: directory).gather()
        let reportPath = directory.url.appendingPathComponent("report.html")
        try Data(ReportHTML.render(report).utf8).write(to: reportPath, options: .atomic)
        summary.report = reportPath.path
        summary.leaderboard = report.leaderboardText()
        summary.paths.append(reportPath.path)
        return summary
    }

    var hasLaterStages: Bool { manifest.ensemble?.pseudoLabel != nil || manifest.ensemble?.distill != nil }

    /// Serves every stage: the base models, then each pseudo-label round
    /// (selected from the best result so far) and the distilled student (taught
    /// by the best result's OOF and test predictions). Returns false when
    /// `afterPoll` stopped it; run again, it resumes at the stage it reached.
    func runStages(log: (String) -> Void, afterPoll: (CoordinatorShell) -> Bool) throws -> Bool {
        let pseudoSpec = manifest.ensemble?.pseudoLabel, distillSpec = manifest.ensemble?.distill
        shell.holdsWorkers = hasLaterStages
        guard try shell.run(afterPoll: afterPoll) else { return false }
        var pseudo = (rows: [Int](), labels: [Int]())
        if let spec = pseudoSpec {
            for round in 1...spec.rounds {
                // A resumed run reuses the recorded selection, so a round's tasks always train on the same rows.
                let stage = "\(StagePlan.pseudoStage)-\(StagePlan.settingsTag(manifest))", name = "round-\(round)"
                if let stored = try recorded(stage: stage, name: name), let rows = stored["rows"] as? [Int],
                   let labels = stored["labels"] as? [Int] {
                    pseudo = (rows, labels)
                } else {
                    let (subject, test) = try best(of: try shell.serve { try evaluate().catalog }, named: nil)
                    let selection = PseudoLabels.select(testProbabilities: test, classes: data.classes, threshold: spec.threshold,
                                                        minFraction: spec.minFraction, maxFraction: spec.maxFraction)
                    pseudo = (selection.rows, selection.labels)
                    try record(stage: stage, name: name, ["from": subject, "count": selection.rows.count, "rows": selection.rows,
                                                          "labels": selection.labels, "threshold": Double(spec.threshold)])
                    log("pseudo-label round \(round): \(selection.rows.count) of \(data.test.ids.count) test rows from \(subject)")
                }
                let tasks = StagePlan.pseudoTasks(manifest, spec: spec, round: round)
                let extras = TaskExtras(pseudoRows: pseudo.rows, pseudoLabels: pseudo.labels)
                try shell.addTasks(tasks, inputs: Dictionary(uniqueKeysWithValues: tasks.map { ($0.id, (extras, [])) }))
                shell.holdsWorkers = round < spec.rounds || distillSpec != nil
                guard try shell.run(afterPoll: afterPoll) else { return false }
            }
        }
        if let spec = distillSpec {
            let catalog = try shell.serve { try evaluate().catalog }
            let stage = "\(StagePlan.distillStage)-\(StagePlan.settingsTag(manifest))"
            // A resumed run keeps the teacher it chose, though later sets may now score higher.
            let chosen = try recorded(stage: stage, name: "teacher")?["from"] as? String
            let (subject, test) = try best(of: catalog, named: chosen ?? (spec.teacher == "best" ? nil : spec.teacher))
            guard let oof = try catalog?.oofPredictions(subject) else {
                throw UserInputError(message: "the distillation teacher \(subject) has no OOF predictions", fix: "pick another `ensemble.distill.teacher`")
            }
            log("distillation: \(spec.student) learns from \(subject) (T = \(spec.temperature), alpha = \(spec.alpha))")
            if chosen == nil { try record(stage: stage, name: "teacher", ["from": subject]) }
            let K = data.classes
            let teacher = [Payload(shape: [oof.count / K, K], scalars: oof), Payload(shape: [test.count / K, K], scalars: test)]
            let extras = TaskExtras(pseudoRows: pseudo.rows, pseudoLabels: pseudo.labels, temperature: spec.temperature, alpha: spec.alpha)
            let tasks = StagePlan.distillTasks(manifest, spec: spec)
            try shell.addTasks(tasks, inputs: Dictionary(uniqueKeysWithValues: tasks.map { ($0.id, (extras, teacher)) }))
            shell.holdsWorkers = false
            guard try shell.run(afterPoll: afterPoll) else { return false }
        }
        try shell.shutdownWorkers()
        return true
    }

    /// The test predictions of the named result, or of the best one by OOF score.
    private func best(of catalog: ResultCatalog?, named: String?) throws -> (subject: String, test: [Float]) {
        guard let catalog, let subject = try named ?? catalog.leaderboard().first?.subject,
              let test = try catalog.testPredictions(subject) else {
            throw UserInputError(message: "no result named \(named ?? "best") is scored in \(directory.url.path)",
                                 fix: "check `ensemble.distill.teacher`, or let the base models finish")
        }
        return (subject, test)
    }

    private func recorded(stage: String, name: String) throws -> [String: Any]? {
        guard let output = try database.stageOutputs(experimentID: shell.experimentID, stage: stage).first(where: { $0.name == name })
        else { return nil }
        return try JSONSerialization.jsonObject(with: Data(output.json.utf8)) as? [String: Any]
    }

    private func record(stage: String, name: String, _ object: [String: Any]) throws {
        let json = try StageOutputRecord.jsonText(object)
        try database.recordStageOutput(StageOutputRecord(experimentID: shell.experimentID, stage: stage, name: name, json: json))
    }
}

/// An experiment directory: the database, the files `PredictionFiles` writes, logs and exports.
struct ExperimentDirectory {
    let url: URL
    init(_ url: URL) { self.url = url.standardizedFileURL }
    var database: URL { url.appendingPathComponent("experiment.sqlite") }
    var logs: URL { url.appendingPathComponent("logs") }
    var export: URL { url.appendingPathComponent("export") }

    /// The directory's database and its experiment; a database without one is a user error.
    func openExperiment() throws -> (database: ExperimentDatabase, experiment: ExperimentRecord, id: Int64) {
        let database = try ExperimentDatabase.open(at: self.database)
        guard let experiment = try database.experiments().last, let id = experiment.id else {
            throw UserInputError(message: "\(self.database.path) holds no experiment yet", fix: "start one with `foldwise run`")
        }
        return (database, experiment, id)
    }

    /// DIR when given; else the current folder when it holds an experiment;
    /// else the only experiment under runs/.
    static func locate(_ path: String?) throws -> ExperimentDirectory {
        let fm = FileManager.default
        if let path {
            let directory = ExperimentDirectory(URL(fileURLWithPath: path))
            guard fm.fileExists(atPath: directory.database.path) else {
                throw UserInputError(message: "\(path) holds no experiment database (experiment.sqlite)",
                                     fix: "pass the --dir of a `foldwise run` or `foldwise coordinator`")
            }
            return directory
        }
        let here = ExperimentDirectory(URL(fileURLWithPath: fm.currentDirectoryPath))
        if fm.fileExists(atPath: here.database.path) { return here }
        let runs = (try? fm.contentsOfDirectory(atPath: "runs")) ?? []
        let candidates = runs.sorted().map { ExperimentDirectory(URL(fileURLWithPath: "runs/\($0)")) }
            .filter { fm.fileExists(atPath: $0.database.path) }
        guard candidates.count == 1 else {
            throw UserInputError(message: candidates.isEmpty ? "no experiment here or under runs/"
                                     : "several experiments under runs/: \(candidates.map { $0.url.lastPathComponent }.joined(separator: ", "))",
                                 fix: "name the experiment directory, e.g. `foldwise status runs/digits`")
        }
        return candidates[0]
    }
}

/// The `--json` summary of a run or coordinator.
struct RunSummary: JSONSummary {
    struct SetScore: Encodable { var name: String; var seeds: [Int]; var oofScore: Double; var testScore: Double? }
    var directory: String
    var database: String
    var metric = ""
    var tasks: [String: Int] = [:]
    var sets: [SetScore] = []
    var submission: Choice?
    var report: String?
    /// The leaderboard as text, for the terminal (not part of the JSON).
    var leaderboard: String?
    var paths: [String] = []

    private enum CodingKeys: String, CodingKey { case directory, database, metric, tasks, sets, submission, report, paths }
    struct Choice: Encodable { var set: String; var path: String }

    /// The leaderboard (or one line per set, as `train` prints them), then the submission and the report.
    func lines() -> [String] {
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

/// A command's `--json` output: one object, snake_case keys, sorted, paths unescaped.
protocol JSONSummary: Encodable {}

extension JSONSummary {
    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
