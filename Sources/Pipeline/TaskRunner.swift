import Cluster
import Engine
import Foundation
import Manifests
import Storage
import Training

/// What trains a stage's tasks: the coordinator and its workers, or this process.
public protocol TaskRunner {
    /// Trains those of `tasks` not done yet, each with its inputs (none for a
    /// plain task); returns false when stopped early. `moreStagesFollow` keeps
    /// idle workers waiting for the next stage.
    func run(_ tasks: [ClusterTask], stage: KeyedStage, inputs: [String: TaskInputs], moreStagesFollow: Bool) throws -> Bool
    /// Runs a computation between stages (a coordinator keeps serving its workers meanwhile).
    func compute<T>(_ work: @escaping () throws -> T) throws -> T
}

/// The coordinator's runner: later stages' tasks join its queue; each run
/// serves the workers until the queue is done or `afterPoll` stops it.
public struct CoordinatorRunner: TaskRunner {
    public let shell: CoordinatorShell
    public let classes: Int
    public let afterPoll: (CoordinatorShell) -> Bool

    public init(shell: CoordinatorShell, classes: Int, afterPoll: @escaping (CoordinatorShell) -> Bool) {
        (self.shell, self.classes, self.afterPoll) = (shell, classes, afterPoll)
    }

    public func run(_ tasks: [ClusterTask], stage: KeyedStage, inputs: [String: TaskInputs], moreStagesFollow: Bool) throws -> Bool {
        // The base tasks joined the queue when the coordinator started.
        if stage != .base { try shell.addTasks(tasks, inputs: inputs.mapValues { Self.wire($0, classes: classes) }) }
        shell.holdsWorkers = moreStagesFollow
        return try shell.run(afterPoll: afterPoll)
    }

    public func compute<T>(_ work: @escaping () throws -> T) throws -> T { try shell.serve(while: work) }

    /// A task's inputs as an assignment carries them: the header, then the teacher arrays.
    static func wire(_ inputs: TaskInputs, classes: Int) -> (extras: TaskExtras, teacher: [Payload]) {
        let header = inputs.header
        let extras = TaskExtras(pseudoRows: header.pseudoRows, pseudoLabels: header.pseudoLabels,
                                temperature: header.temperature, alpha: header.alpha)
        guard let distillation = inputs.distillation else { return (extras, []) }
        let train = Payload(shape: [distillation.teacherTrain.count / classes, classes], scalars: distillation.teacherTrain)
        let test = Payload(shape: [distillation.teacherTest.count / classes, classes], scalars: distillation.teacherTest)
        return (extras, [train, test])
    }
}

/// Trains every task here, one after another, with the same `FoldRunner` a
/// worker uses, recording attempts and predictions as the coordinator does.
/// For a one-process run and for testing the stage sequence without processes.
public struct InProcessRunner: TaskRunner {
    public let manifest: Manifest
    public let data: ExperimentData
    public let database: ExperimentDatabase
    public let experimentID: Int64

    public init(manifest: Manifest, data: ExperimentData, database: ExperimentDatabase, experimentID: Int64) {
        (self.manifest, self.data, self.database, self.experimentID) = (manifest, data, database, experimentID)
    }

    public func run(_ tasks: [ClusterTask], stage: KeyedStage, inputs: [String: TaskInputs], moreStagesFollow: Bool) throws -> Bool {
        try database.insertTasks(tasks.map { task in
            TaskRecord(id: task.id, experimentID: experimentID, stage: task.stage, model: task.fold.model,
                       seed: task.fold.seed, fold: task.fold.fold, round: task.round)
        })
        let runner = FoldRunner(manifest: manifest, data: data)
        for task in tasks where try database.task(id: task.id)?.state != .done {
            let taskInputs = inputs[task.id] ?? .none
            try taskInputs.validate(trainRows: data.train.ids.count, testRows: data.test.ids.count, classes: data.classes)
            let attempt = try database.startAttempt(taskID: task.id, worker: "in-process", host: "localhost")
            guard let result = runner.run(task.fold, inputs: taskInputs, progress: { _ in }, isCancelled: { false }) else { return false }
            try database.completeTask(taskID: task.id, attempt: attempt, predictions: TaskPredictions(result).records,
                                      validationRows: result.validationRows, scores: [manifest.metric.rawValue: result.score])
        }
        return true
    }

    public func compute<T>(_ work: @escaping () throws -> T) throws -> T { try work() }
}
