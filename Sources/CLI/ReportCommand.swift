import ArgumentParser
import Datasets
import Ensemble
import Foundation
import Storage

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the leaderboard of every prediction set, blend and stacker by OOF score, and write DIR/report.html.",
        discussion: """
            The report is one self-contained HTML file (no scripts, fonts or images to fetch): the OOF \
            score of every scored subject, learning curves per model, seed and fold, each blend's \
            weights, and the confusion matrix of the final ensemble (the submission's choice, else the \
            best subject by OOF score).
            """)

    @Argument(help: "The experiment directory (default: the current one, or the only one under runs/).")
    var dir: String?

    func run() throws {
        let directory = try ExperimentDirectory.locate(dir)
        let data = try ReportSources(directory: directory).gather()
        let target = directory.url.appendingPathComponent("report.html")
        try Data(ReportHTML.render(data).utf8).write(to: target, options: .atomic)
        print(data.leaderboardText())
        print("report: \(target.path)")
    }
}

/// Reads what the report shows: scores, epoch metrics and stage outputs from
/// the database, the base sets, labels and class names through `ResultCatalog`.
struct ReportSources {
    let experimentName: String
    let catalog: ResultCatalog
    var database: ExperimentDatabase { catalog.database }
    var experimentID: Int64 { catalog.experimentID }

    init(directory: ExperimentDirectory) throws {
        let (database, experiment, experimentID) = try directory.openExperiment()
        experimentName = experiment.name
        catalog = try ResultCatalog(directory: directory, database: database, experimentID: experimentID)
    }

    func gather() throws -> ReportData {
        let metric = catalog.metric
        let rows = try scoredRows(metric: metric)
        guard !rows.isEmpty else {
            let path = catalog.directory.url.path
            throw UserInputError(message: "nothing in \(path) is scored yet (no prediction set has every fold of a seed)",
                                 fix: "let `foldwise run` finish; `foldwise status \(path)` shows how far it is")
        }
        var data = ReportData(experimentName: experimentName, metricName: metric.rawValue, higherIsBetter: metric.higherIsBetter,
                              rows: rows, curves: try curves(), blendWeights: try blendWeights(), finalChoice: try finalChoice())
        if let subject = data.finalSubject { data.confusion = try confusion(of: subject) }
        return data
    }

    /// Prediction sets, blends and stackers (subjects with a "/"; task scores are keyed by task id).
    func scoredRows(metric: Metric) throws -> [ReportData.Row] {
        let scores = try database.scores(experimentID: experimentID).filter { $0.subject.contains("/") }
        let tests = Dictionary(scores.filter { $0.metric == "test:\(metric.rawValue)" }.map { ($0.subject, $0.value) },
                               uniquingKeysWith: { first, _ in first })
        return scores.filter { $0.metric == "oof:\(metric.rawValue)" }
            .map { ReportData.Row(subject: $0.subject, oofScore: $0.value, testScore: tests[$0.subject]) }
    }

    /// Every trained task's epochs of its latest attempt that recorded any.
    func curves() throws -> [ReportData.Curve] {
        var curves: [(task: TaskRecord, curve: ReportData.Curve)] = []
        for task in try database.tasks(experimentID: experimentID) where task.stage != ResultCatalog.level2Stage {
            let epochs = try database.epochs(taskID: task.id)
            guard let attempt = epochs.map(\.attempt).max() else { continue }
            let points = epochs.filter { $0.attempt == attempt }.map {
                ReportData.EpochPoint(epoch: $0.epoch, trainLoss: $0.trainLoss, validationLoss: $0.validationLoss,
                                      validationScore: $0.validationScore)
            }
            let model = task.round > 0 ? "\(task.model) (round \(task.round))" : task.model
            curves.append((task, ReportData.Curve(model: model, seed: task.seed, fold: task.fold, epochs: points)))
        }
        return curves.sorted { a, b in
            (a.task.round, a.task.model, a.task.seed, a.task.fold) < (b.task.round, b.task.model, b.task.seed, b.task.fold)
        }.map(\.curve)
    }

    /// Level-2 outputs that carry `{"weights": {set: weight}}`, heaviest set first.
    func blendWeights() throws -> [ReportData.BlendWeights] {
        struct Stored: Decodable { var weights: [String: Double] }
        return try database.stageOutputs(experimentID: experimentID, stage: ResultCatalog.level2Stage).compactMap { output in
            guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(output.json.utf8)) else { return nil }
            let weights = stored.weights.map { ReportData.SetWeight(set: $0.key, weight: $0.value) }
                .sorted { ($0.weight, $1.set) > ($1.weight, $0.set) }
            return ReportData.BlendWeights(subject: output.name, weights: weights)
        }
    }

    /// The subject `foldwise submit` recorded, if any.
    func finalChoice() throws -> String? {
        struct Stored: Decodable { var set: String }
        let output = try database.stageOutputs(experimentID: experimentID, stage: "submission").first { $0.name == "choice" }
        return output.flatMap { try? JSONDecoder().decode(Stored.self, from: Data($0.json.utf8)).set }
    }

    /// The subject's OOF confusion matrix; nil when its OOF predictions are not stored whole.
    func confusion(of subject: String) throws -> ConfusionMatrix? {
        let (labels, classNames) = (catalog.labels, catalog.classNames)
        let oof: [Float]?
        if let set = catalog.base.first(where: { $0.name == subject }) {
            oof = set.oof.scalars
        } else {
            let task = try database.tasks(experimentID: experimentID, state: .done)
                .first { $0.stage == ResultCatalog.level2Stage && $0.model == subject }
            oof = try task.flatMap { task in
                try database.predictions(taskID: task.id).first { $0.kind == .oof && $0.name == ResultCatalog.level2Set }?.values
            }
        }
        guard let oof, !classNames.isEmpty, oof.count == labels.count * classNames.count,
              labels.allSatisfy({ (0..<classNames.count).contains($0) }) else { return nil }
        return ConfusionMatrix(classNames: classNames, labels: labels, probabilities: oof)
    }
}
