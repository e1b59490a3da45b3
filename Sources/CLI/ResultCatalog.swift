import Cluster
import Datasets
import Engine
import Ensemble
import Foundation
import Manifests
import Storage
import Training

/// Every scored result of an experiment — the base prediction sets
/// (`<model>/<set>`) and the level-2 blends and stackers (`blend/…`,
/// `stack/…`) — with their OOF scores, read from the database and DIR's files.
struct ResultCatalog {
    static let level2Stage = "level2"
    static let level2Set = "ensemble"

    let directory: ExperimentDirectory
    let database: ExperimentDatabase
    let experimentID: Int64
    let manifest: Manifest
    let metric: Metric
    let labels: [Int]
    let classNames: [String]
    let base: [AssembledSet]

    init(directory: ExperimentDirectory, database: ExperimentDatabase, experimentID: Int64) throws {
        (self.directory, self.database, self.experimentID) = (directory, database, experimentID)
        guard let experiment = try database.experiments().first(where: { $0.id == experimentID }) else {
            throw UserInputError(message: "\(directory.database.path) holds no experiment \(experimentID)", fix: "run `foldwise run` first")
        }
        manifest = try Manifest.fromCanonicalJSON(experiment.manifestJSON)
        metric = Metric(rawValue: manifest.metric.rawValue) ?? .accuracy
        labels = try NPY.read(directory.url.appendingPathComponent("labels.npy")).integers ?? []
        classNames = try JSONDecoder().decode([String].self, from: Data(contentsOf: directory.url.appendingPathComponent("classes.json")))
        base = try ExperimentResults.assemble(database: database, experimentID: experimentID, folds: manifest.cv.folds,
                                              trainRows: labels.count)
    }

    /// The OOF score of every scored subject, best first.
    func leaderboard() throws -> [(subject: String, score: Double)] {
        let key = "oof:\(metric.rawValue)"
        let scores = try database.scores(experimentID: experimentID).filter { $0.metric == key }
        return scores.map { ($0.subject, $0.value) }.sorted { a, b in
            metric.higherIsBetter ? a.1 > b.1 : a.1 < b.1
        }
    }

    /// The OOF predictions [train rows, K] of a subject.
    func oofPredictions(_ subject: String) throws -> [Float]? {
        if let set = base.first(where: { $0.name == subject }) { return set.oof.scalars }
        return try level2Predictions(subject, kind: .oof)
    }

    private func level2Predictions(_ subject: String, kind: PredictionKind) throws -> [Float]? {
        let task = try database.tasks(experimentID: experimentID, state: .done)
            .first { $0.stage == Self.level2Stage && $0.model == subject }
        guard let task else { return nil }
        return try database.predictions(taskID: task.id).first { $0.kind == kind && $0.name == Self.level2Set }?.values
    }

    /// The test predictions [test rows, K] of a subject.
    func testPredictions(_ subject: String) throws -> [Float]? {
        if let set = base.first(where: { $0.name == subject }) { return set.test.scalars }
        return try level2Predictions(subject, kind: .test)
    }

    /// Writes DIR/submission.csv from `subject` (default: the best by OOF score),
    /// checked against the sample submission, and records the choice.
    func writeSubmission(subject requested: String?) throws -> (subject: String, path: URL) {
        let board = try leaderboard()
        guard let subject = requested ?? board.first?.subject else {
            throw UserInputError(message: "nothing in \(directory.url.path) is scored yet", fix: "let `foldwise run` finish first")
        }
        guard let test = try testPredictions(subject) else {
            throw UserInputError(message: "\(subject) is not a prediction set of this experiment",
                                 fix: "pick one of: \(board.map(\.subject).joined(separator: ", "))")
        }
        let sample = directory.url.appendingPathComponent("sample_submission.csv")
        let submission = try Submission(sample: sample, idColumn: manifest.data.idColumn, classNames: classNames,
                                        probabilities: manifest.submission.format.writesProbabilities(for: metric))
        let testIDs = try String(contentsOf: directory.url.appendingPathComponent("test_ids.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map(String.init)
        let target = directory.url.appendingPathComponent("submission.csv")
        let text = try submission.csv(probabilities: test, classes: classNames.count, testIDs: testIDs, classNames: classNames)
        try submission.check(text, classNames: classNames, file: target)
        try Data(text.utf8).write(to: target, options: .atomic)
        let score = board.first { $0.subject == subject }?.score
        var choice: [String: Any] = ["set": subject, "path": target.path]
        choice["score"] = score
        let json = try StageOutputRecord.jsonText(choice)
        try database.recordStageOutput(StageOutputRecord(experimentID: experimentID, stage: "submission", name: "choice", json: json))
        return (subject, target)
    }
}

/// The level-2 stage of `run` and `coordinator`: blends and stackers over the
/// base sets, each stored as a computed task with its OOF and test predictions.
enum Level2Stage {
    static func run(_ catalog: ResultCatalog, section: EnsembleSection, data: ExperimentData) throws -> [EnsembleResult] {
        let chosen = section.sets.map { names in catalog.base.filter { names.contains($0.name) } } ?? catalog.base
        guard chosen.count >= 1, let seed = catalog.manifest.cv.seeds.first else { return [] }
        let inputs = try StackingInputs(
            sets: chosen.map { StackingInputs.BaseSet(name: $0.name, oof: $0.oof.scalars, test: $0.test.scalars) },
            labels: catalog.labels, folds: data.folds(catalog.manifest.cv, seed: seed), classes: catalog.classNames.count)
        let results = try Level2.run(inputs, metric: catalog.metric, blends: section.blends.map(\.rawValue),
                                     stackers: section.stackers.map(\.rawValue))
        let key = catalog.metric.rawValue
        for result in results {
            let task = TaskRecord(id: "level2:\(result.name)", experimentID: catalog.experimentID, stage: ResultCatalog.level2Stage,
                                  model: result.name, seed: seed, fold: 0, round: 0)
            var scores = [ScoreRecord(experimentID: catalog.experimentID, subject: result.name, metric: "oof:\(key)", value: result.score)]
            if let testLabels = data.testLabels {
                scores.append(ScoreRecord(experimentID: catalog.experimentID, subject: result.name, metric: "test:\(key)",
                                          value: catalog.metric.score(probabilities: result.test, classes: inputs.classes, labels: testLabels)))
            }
            var outputs: [StageOutputRecord] = []
            if let weights = result.weights {
                let named = Dictionary(uniqueKeysWithValues: zip(chosen.map(\.name), weights))
                let json = try StageOutputRecord.jsonText(["weights": named])
                outputs.append(StageOutputRecord(experimentID: catalog.experimentID, stage: ResultCatalog.level2Stage, name: result.name, json: json))
            }
            try catalog.database.storeComputedTask(task, worker: "coordinator", predictions: [
                PredictionSet(name: ResultCatalog.level2Set, kind: .oof, shape: [inputs.rows, inputs.classes], values: result.oof),
                PredictionSet(name: ResultCatalog.level2Set, kind: .test, shape: [inputs.testRows, inputs.classes], values: result.test),
            ], scores: scores, outputs: outputs)
        }
        return results
    }
}

extension StageOutputRecord {
    /// A stage output's JSON text (sorted keys, so equal decisions are equal text).
    static func jsonText(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
