import Cluster
import Datasets
import Ensemble
import Foundation
import Manifests
import Storage
import Training

/// The experiment's pipeline: the base models, each pseudo-label round, the
/// distilled student, then level 2 over everything — every stage's inputs
/// built so that no label of a validation row reaches the model that predicts it.
public struct ExperimentPipeline {
    public let manifest: Manifest
    public let directory: ExperimentDirectory
    public let database: ExperimentDatabase
    public let experimentID: Int64
    /// The held-out test labels when the manifest names them (scores only; nothing learns from them).
    public let testLabels: [Int]?
    public var log: (String) -> Void

    public init(manifest: Manifest, directory: ExperimentDirectory, database: ExperimentDatabase, experimentID: Int64,
                testLabels: [Int]?, log: @escaping (String) -> Void = { _ in }) {
        (self.manifest, self.directory, self.database, self.experimentID) = (manifest, directory, database, experimentID)
        (self.testLabels, self.log) = (testLabels, log)
    }

    public var stages: [KeyedStage] { StagePlan.stages(manifest) }

    /// Runs every stage in order; returns false when the runner was stopped or
    /// a stage gave a task up before later stages (run again, it resumes: done
    /// tasks stay done, given-up ones are retried, recorded choices are reused).
    public func run(_ runner: some TaskRunner) throws -> Bool {
        let stages = self.stages
        for (index, stage) in stages.enumerated() {
            let tasks = StagePlan.tasks(manifest, stage: stage)
            let done = try Set(database.tasks(experimentID: experimentID, state: .done).map(\.id))
            let inputs = tasks.allSatisfy { done.contains($0.id) } ? [:]
                : try runner.compute { try self.inputs(for: stage, tasks: tasks, after: Array(stages[..<index])) }
            guard try runner.run(tasks, stage: stage, inputs: inputs, moreStagesFollow: index < stages.count - 1) else { return false }
            // A later stage needs every block of this one: with a task given up, stop here (run again to retry it).
            let abandoned = try Set(database.tasks(experimentID: experimentID, state: .abandoned).map(\.id))
            if index < stages.count - 1, tasks.contains(where: { abandoned.contains($0.id) }) {
                log("\(stage.storageName): a task was given up, so the stages after it wait; run again to retry it")
                return false
            }
        }
        return true
    }

    /// Scores every set of `stages` (default: all) and runs level 2 over them.
    @discardableResult
    public func evaluate(through stages: [KeyedStage]? = nil) throws -> Evaluation {
        let catalog = try ResultCatalog(directory: directory, database: database, experimentID: experimentID, stages: stages)
        let base = try Scoring.recordBaseScores(catalog, testLabels: testLabels)
        let level2 = try Level2Stage.run(catalog, testLabels: testLabels)
        let level2Scores = level2.map { result in
            (Subject.level2(result.method), result.score,
             testLabels.map { catalog.metric.score(probabilities: result.test, classes: catalog.classes, labels: $0) })
        }
        return Evaluation(catalog: catalog, base: base.map { ($0.set.subject, $0.oof, $0.test) }, level2: level2Scores)
    }

    /// Each task's inputs for a later stage, from the stages before it.
    func inputs(for stage: KeyedStage, tasks: [ClusterTask], after earlier: [KeyedStage]) throws -> [String: TaskInputs] {
        switch stage.stage {
        case .base:
            return [:]
        case .pseudoLabel:
            let selection = try pseudoLabels(for: stage, after: earlier)
            return try Dictionary(uniqueKeysWithValues: tasks.map { task in
                guard let block = selection.block(seed: task.fold.seed, fold: task.fold.fold) else {
                    throw PipelineError(message: "the recorded pseudo-label selection of \(stage.storageName) has no seed \(task.fold.seed) fold \(task.fold.fold)",
                                        fix: "change `ensemble.pseudo_label` or start a new --dir")
                }
                return (task.id, TaskInputs(pseudoRows: block.rows, pseudoLabels: block.labels))
            })
        case .distillation:
            guard let spec = manifest.ensemble?.distill else { return [:] }
            let catalog = try evaluate(through: earlier).catalog
            let teachers = try teachers(for: stage, spec: spec, catalog: catalog)
            return try Dictionary(uniqueKeysWithValues: tasks.map { task in
                let block = Block(seed: task.fold.seed, fold: task.fold.fold)
                guard let teacher = teachers[block] else {
                    throw PipelineError(message: "the recorded teachers of \(stage.storageName) have no seed \(block.seed) fold \(block.fold)",
                                        fix: "change `ensemble.distill` or start a new --dir")
                }
                let test = try catalog.blockTest(teacher, block: block)
                return (task.id, Self.distillationInputs(teacherTest: test, labels: catalog.labels, classes: catalog.classes, spec: spec))
            })
        }
    }

    /// The round's selection: recorded when first made, reused on every later run.
    func pseudoLabels(for stage: KeyedStage, after earlier: [KeyedStage]) throws -> PseudoLabelSelection {
        let address = StageOutputAddress.pseudoLabels(stage)
        if let recorded = try database.output(PseudoLabelSelection.self, at: address, experimentID: experimentID) { return recorded }
        guard let spec = manifest.ensemble?.pseudoLabel else { preconditionFailure("a pseudo-label stage without its settings") }
        let catalog = try evaluate(through: earlier).catalog
        var blocks: [PseudoLabelBlock] = []
        for seed in manifest.cv.seeds {
            for fold in 0..<manifest.cv.folds {
                let block = Block(seed: seed, fold: fold)
                guard let source = try catalog.best(for: block, where: \.givesProbabilities) else {
                    throw PipelineError(message: "no result is scored to take pseudo-labels from", fix: "let the base models finish")
                }
                let test = try catalog.blockTest(source, block: block)
                let chosen = PseudoLabels.select(testProbabilities: test, classes: catalog.classes, threshold: spec.threshold,
                                                 minFraction: spec.minFraction, maxFraction: spec.maxFraction)
                blocks.append(PseudoLabelBlock(seed: seed, fold: fold, source: source.name, rows: chosen.rows, labels: chosen.labels))
            }
        }
        let selection = PseudoLabelSelection(threshold: spec.threshold, blocks: blocks)
        try database.record(selection, at: address, experimentID: experimentID)
        let counts = blocks.map(\.rows.count)
        let sources = Array(Set(blocks.map(\.source))).sorted().joined(separator: ", ")
        log("pseudo-label round \(stage.stage.round): \(counts.min() ?? 0)–\(counts.max() ?? 0) test rows per fold from \(sources) "
            + "(each fold's own models, chosen without its labels)")
        return selection
    }

    /// Each block's teacher: recorded when first chosen, reused on every later run.
    func teachers(for stage: KeyedStage, spec: DistillSpec, catalog: ResultCatalog) throws -> [Block: Subject] {
        let address = StageOutputAddress.teacher(stage)
        let recorded = try database.output(TeacherChoice.self, at: address, experimentID: experimentID)
        var chosen: [Block: Subject] = [:]
        for seed in manifest.cv.seeds {
            for fold in 0..<manifest.cv.folds {
                let block = Block(seed: seed, fold: fold)
                chosen[block] = try teacher(of: block, recorded: recorded?.teacher(of: block), spec: spec, catalog: catalog)
            }
        }
        if recorded == nil {
            let entries = chosen.map { TeacherChoice.Entry(seed: $0.key.seed, fold: $0.key.fold, teacher: $0.value.name) }
                .sorted { ($0.seed, $0.fold) < ($1.seed, $1.fold) }
            try database.record(TeacherChoice(blocks: entries), at: address, experimentID: experimentID)
            let names = Array(Set(entries.map(\.teacher))).sorted().joined(separator: ", ")
            log("distillation: \(spec.student) learns from \(names) on the test images (T = \(spec.temperature), alpha = \(spec.alpha); each fold's own teacher, chosen without its labels)")
        }
        return chosen
    }

    /// One block's teacher: the recorded one, else the named one, else the best for the block.
    private func teacher(of block: Block, recorded: String?, spec: DistillSpec, catalog: ResultCatalog) throws -> Subject {
        let wanted = recorded ?? (spec.teacher == "best" ? nil : spec.teacher)
        let teacher: Subject
        if let wanted {
            guard let named = catalog.subject(named: wanted) else {
                throw PipelineError(message: "the distillation teacher \(wanted) is not a result of this manifest",
                                    fix: "set `ensemble.distill.teacher` to `best` or one of: \(catalog.subjects.map(\.name).joined(separator: ", "))")
            }
            teacher = named
        } else {
            guard let best = try catalog.best(for: block, where: \.givesProbabilities) else {
                throw PipelineError(message: "no result is scored to teach the student", fix: "let the base models finish")
            }
            teacher = best
        }
        guard teacher.givesProbabilities else {
            throw PipelineError(message: "the distillation teacher \(teacher.name) gives ranks, not probabilities",
                                fix: "set `ensemble.distill.teacher` to `best`, a base set, a probability blend or a stacker")
        }
        return teacher
    }

    /// A student block's inputs: its train rows keep their labels (as one-hot
    /// targets: no teacher that saw this block's validation labels may speak
    /// for them), and every test image joins with the block's teacher probabilities.
    static func distillationInputs(teacherTest: [Float], labels: [Int], classes K: Int, spec: DistillSpec) -> TaskInputs {
        var oneHot = [Float](repeating: 0, count: labels.count * K)
        for (row, label) in labels.enumerated() { oneHot[row * K + label] = 1 }
        let testRows = teacherTest.count / K
        let argmax = predictedClasses(teacherTest, classes: K)
        return TaskInputs(pseudoRows: Array(0..<testRows), pseudoLabels: argmax,
                          distillation: .init(teacherTrain: oneHot, teacherTest: teacherTest, temperature: spec.temperature, alpha: spec.alpha))
    }
}

/// The scores of one evaluation: every base set and level-2 result, OOF and held-out test.
public struct Evaluation {
    public let catalog: ResultCatalog
    public let base: [(subject: Subject, oof: Double, test: Double?)]
    public let level2: [(subject: Subject, oof: Double, test: Double?)]
}
