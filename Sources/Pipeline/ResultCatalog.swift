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

    /// The score of every current subject under `split`: a base set's pooled
    /// OOF score computed from its assembled predictions, every other score as
    /// recorded — a level-2 result's only while it was fitted on the current
    /// base sets (`isCurrent`).
    public func scores(_ split: ScoreSplit) throws -> [Subject: Double] {
        let key = ScoreKey(split, metric).text
        let byName = Dictionary(try database.scores(experimentID: experimentID).filter { $0.metric == key }.map { ($0.subject, $0.value) },
                                uniquingKeysWith: { first, _ in first })
        let current = try currentLevel2()
        return Dictionary(uniqueKeysWithValues: subjects.compactMap { subject in
            switch subject {
            case .set:
                guard split == .oof, let set = base.first(where: { $0.subject == subject }) else { return byName[subject.name].map { (subject, $0) } }
                return (subject, metric.score(probabilities: set.oof.scalars, classes: classes, labels: labels))
            case .level2:
                return current.contains(subject) ? byName[subject.name].map { (subject, $0) } : nil
            }
        })
    }

    /// Each base set named with its stage's storage key, as level 2 records what it was fitted on.
    public func inputIdentities(_ sets: [AssembledSet]) -> [String] {
        sets.map { set in
            // Every assembled set comes from one of `stages`.
            let keyed = stages.first { $0.stage == set.stage }
            return keyed.map { "\($0.storageName):\(set.name)" } ?? set.name
        }
    }

    /// The level-2 subjects whose stored result was fitted on the base sets level 2 would use now.
    public func currentLevel2() throws -> Set<Subject> {
        let sets = Level2Stage.chosenSets(self)
        guard !sets.isEmpty else { return [] }
        let wanted = Level2InputsOutput(sets: inputIdentities(sets))
        return try Set(methods.map(Subject.level2).filter { subject in
            try database.output(Level2InputsOutput.self, at: .level2Inputs(subject), experimentID: experimentID) == wanted
        })
    }

    /// Every current subject with an OOF score, best first: NaN last; equal
    /// scores go to the simpler result (base set, then blend, then stacker), then by name.
    public func leaderboard() throws -> [(subject: Subject, score: Double)] {
        let scores = try scores(.oof)
        return ranked(subjects.compactMap { subject in scores[subject].map { (subject, $0) } })
    }

    /// Best first by `metric`, NaN last; equal scores go to the simpler result, then by name.
    private func ranked(_ scored: [(subject: Subject, score: Double)]) -> [(subject: Subject, score: Double)] {
        scored.sorted { a, b in
            if let better = metric.ranks(a.score, before: b.score) { return better }
            return (a.subject.kind, a.subject.name) < (b.subject.kind, b.subject.name)
        }
    }

    /// The best subject by OOF score that `eligible` accepts.
    public func best(where eligible: (Subject) -> Bool = { _ in true }) throws -> Subject? {
        try leaderboard().first { eligible($0.subject) }?.subject
    }

    /// The best subject `eligible` accepts for one (seed, fold) block: by OOF
    /// score over the rows outside the block's fold, so that no label of the
    /// rows the block's models predict takes part in the choice; ties as in `leaderboard`.
    public func best(for block: Block, where eligible: (Subject) -> Bool) throws -> Subject? {
        let folds = try directory.folds(seed: block.seed)
        let rows = folds.indices.filter { folds[$0] != block.fold }
        let K = classes
        let scored = try leaderboard().map(\.subject).filter(eligible).compactMap { subject -> (subject: Subject, score: Double)? in
            guard let oof = try oofPredictions(subject) else { return nil }
            let probabilities = rows.flatMap { oof[($0 * K)..<(($0 + 1) * K)] }
            return (subject, metric.score(probabilities: probabilities, classes: K, labels: rows.map { labels[$0] }))
        }
        return ranked(scored).first?.subject
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
            guard try currentLevel2().contains(subject) else { return nil }
            return try database.resultPredictions(experimentID: experimentID, subject: subject.name, kind: kind)?.values
        }
    }
}
