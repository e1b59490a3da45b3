import Datasets
import Foundation
import Storage

/// Reads what the report shows: the current subjects' scores, epoch metrics,
/// blend weights and the submission's choice, through `ResultCatalog`.
public struct ReportSources {
    public let experimentName: String
    public let catalog: ResultCatalog
    var database: ExperimentDatabase { catalog.database }
    var experimentID: Int64 { catalog.experimentID }

    public init(directory: ExperimentDirectory) throws {
        let (database, experiment, experimentID) = try directory.openExperiment()
        experimentName = experiment.name
        catalog = try ResultCatalog(directory: directory, database: database, experimentID: experimentID)
    }

    public init(catalog: ResultCatalog, experimentName: String) { (self.catalog, self.experimentName) = (catalog, experimentName) }

    public func gather() throws -> ReportData {
        let metric = catalog.metric
        let rows = try scoredRows()
        guard !rows.isEmpty else {
            let path = catalog.directory.url.path
            throw PipelineError(message: "nothing in \(path) is scored yet (no prediction set has every fold of a seed)",
                                fix: "let `foldwise run` finish; `foldwise status \(path)` shows how far it is")
        }
        var data = ReportData(experimentName: experimentName, metricName: metric.rawValue, higherIsBetter: metric.higherIsBetter,
                              rows: rows, curves: try curves(), blendWeights: try blendWeights(), finalChoice: try finalChoice())
        if let name = data.finalSubject, let subject = catalog.subject(named: name) { data.confusion = try confusion(of: subject) }
        return data
    }

    /// Every current subject with an OOF score.
    func scoredRows() throws -> [ReportData.Row] {
        let (oof, foldMean, inSample, test) = (try catalog.scores(.oof), try catalog.scores(.oofFoldMean),
                                               try catalog.scores(.inSample), try catalog.scores(.test))
        return catalog.subjects.compactMap { subject in
            oof[subject].map { ReportData.Row(subject: subject.name, kind: subject.kind, oofScore: $0, foldMeanScore: foldMean[subject],
                                              inSampleScore: inSample[subject], testScore: test[subject]) }
        }
    }

    /// Every current stage's trained tasks: epochs of the latest attempt that recorded any, titled by the stage's model name.
    func curves() throws -> [ReportData.Curve] {
        var curves: [(order: Int, task: TaskRecord, curve: ReportData.Curve)] = []
        for task in try database.tasks(experimentID: experimentID) {
            guard let index = catalog.stages.firstIndex(where: { $0.owns(storageName: task.stage, round: task.round) }) else { continue }
            let epochs = try database.epochs(taskID: task.id)
            guard let attempt = epochs.map(\.attempt).max() else { continue }
            let points = epochs.filter { $0.attempt == attempt }.map {
                ReportData.EpochPoint(epoch: $0.epoch, trainLoss: $0.trainLoss, validationLoss: $0.validationLoss,
                                      validationScore: $0.validationScore)
            }
            let model = catalog.stages[index].stage.label(model: task.model)
            curves.append((index, task, ReportData.Curve(model: model, seed: task.seed, fold: task.fold, epochs: points)))
        }
        return curves.sorted { a, b in
            (a.order, a.task.model, a.task.seed, a.task.fold) < (b.order, b.task.model, b.task.seed, b.task.fold)
        }.map(\.curve)
    }

    /// The weights of every current blend that has them, heaviest set first.
    func blendWeights() throws -> [ReportData.BlendWeights] {
        try catalog.subjects.compactMap { subject in
            guard case .level2 = subject,
                  let stored = try database.output(BlendWeightsOutput.self, at: .weights(subject), experimentID: experimentID)
            else { return nil }
            let weights = stored.weights.map { ReportData.SetWeight(set: $0.key, weight: $0.value) }
                .sorted { ($0.weight, $1.set) > ($1.weight, $0.set) }
            return ReportData.BlendWeights(subject: subject.name, weights: weights)
        }
    }

    /// The subject the last submission was written from, if it is still a current subject.
    func finalChoice() throws -> String? {
        let choice = try database.output(SubmissionChoice.self, at: .submission, experimentID: experimentID)?.set
        return choice.flatMap { catalog.subject(named: $0)?.name }
    }

    /// The subject's OOF confusion matrix; nil when its OOF predictions are not stored whole.
    func confusion(of subject: Subject) throws -> ConfusionMatrix? {
        let (labels, classNames) = (catalog.labels, catalog.classNames)
        guard let oof = try catalog.oofPredictions(subject), !classNames.isEmpty, oof.count == labels.count * classNames.count,
              labels.allSatisfy({ (0..<classNames.count).contains($0) }) else { return nil }
        return ConfusionMatrix(classNames: classNames, labels: labels, probabilities: oof)
    }
}
