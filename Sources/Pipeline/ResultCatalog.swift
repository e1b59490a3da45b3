import Datasets
import Engine
import Ensemble
import Foundation
import Manifests
import Storage
import Training

/// Every result the current manifest produces — the base prediction sets of
/// its stages and its level-2 blends and stackers — with their predictions and
/// recorded scores. Results of other settings (an earlier `pseudo_label`, a
/// blend no longer listed) may still be in the database; they are not subjects
/// here, so nothing can choose them.
public struct ResultCatalog {
    public let directory: ExperimentDirectory
    public let database: ExperimentDatabase
    public let experimentID: Int64
    public let manifest: Manifest
    public let metric: Metric
    public let labels: [Int]
    public let classNames: [String]
    /// The training stages whose sets are assembled (all of the manifest's, or those run so far).
    public let stages: [KeyedStage]
    public let base: [AssembledSet]

    /// The catalog of `stages` (default: every stage of the experiment's manifest).
    public init(directory: ExperimentDirectory, database: ExperimentDatabase, experimentID: Int64,
                stages: [KeyedStage]? = nil) throws {
        (self.directory, self.database, self.experimentID) = (directory, database, experimentID)
        guard let experiment = try database.experiments().first(where: { $0.id == experimentID }) else {
            throw PipelineError(message: "\(directory.database.path) holds no experiment \(experimentID)", fix: "run `foldwise run` first")
        }
        manifest = try Manifest.fromCanonicalJSON(experiment.manifestJSON)
        metric = Metric(manifest.metric)
        labels = try directory.labels()
        classNames = try directory.classNames()
        self.stages = stages ?? StagePlan.stages(manifest)
        base = try ResultAssembly.assemble(database: database, experimentID: experimentID, stages: self.stages,
                                           folds: manifest.cv.folds, trainRows: labels.count)
    }

    /// The directory's experiment, every stage.
    public static func open(_ directory: ExperimentDirectory) throws -> ResultCatalog {
        let (database, _, id) = try directory.openExperiment()
        return try ResultCatalog(directory: directory, database: database, experimentID: id)
    }

    public var classes: Int { classNames.count }

    /// The level-2 methods the manifest asks for.
    public var methods: [Level2Method] { manifest.ensemble?.methods ?? [] }

    /// Base sets, then the level-2 results (which exist once any base set does).
    public var subjects: [Subject] { base.map(\.subject) + (base.isEmpty ? [] : methods.map(Subject.level2)) }

    public func subject(named name: String) -> Subject? { subjects.first { $0.name == name } }

    /// The recorded score of every current subject under `split`.
    public func scores(_ split: ScoreSplit) throws -> [Subject: Double] {
        let key = ScoreKey(split, metric).text
        let byName = Dictionary(try database.scores(experimentID: experimentID).filter { $0.metric == key }.map { ($0.subject, $0.value) },
                                uniquingKeysWith: { first, _ in first })
        return Dictionary(uniqueKeysWithValues: subjects.compactMap { subject in byName[subject.name].map { (subject, $0) } })
    }

    /// Every current subject with an OOF score, best first: NaN last; equal
    /// scores go to the simpler result (base set, then blend, then stacker), then by name.
    public func leaderboard() throws -> [(subject: Subject, score: Double)] {
        let scores = try scores(.oof)
        return subjects.compactMap { subject in scores[subject].map { (subject, $0) } }.sorted { a, b in
            if let better = metric.ranks(a.score, before: b.score) { return better }
            return (a.subject.kind, a.subject.name) < (b.subject.kind, b.subject.name)
        }
    }

    /// The best subject by OOF score that `eligible` accepts.
    public func best(where eligible: (Subject) -> Bool = { _ in true }) throws -> Subject? {
        try leaderboard().first { eligible($0.subject) }?.subject
    }

    /// The OOF predictions [train rows, K] of a subject.
    public func oofPredictions(_ subject: Subject) throws -> [Float]? { try predictions(subject, .oof) }

    /// The test predictions [test rows, K] of a subject.
    public func testPredictions(_ subject: Subject) throws -> [Float]? { try predictions(subject, .test) }

    private func predictions(_ subject: Subject, _ kind: PredictionKind) throws -> [Float]? {
        switch subject {
        case .set:
            let set = base.first { $0.subject == subject }
            return kind == .oof ? set?.oof.scalars : set?.test.scalars
        case .level2:
            return try database.resultPredictions(experimentID: experimentID, subject: subject.name, kind: kind)?.values
        }
    }
}
