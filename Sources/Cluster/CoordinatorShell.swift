import Foundation
import Manifests
import Storage
import Training

/// The coordinator: a ROUTER bound to an endpoint that drives `CoordinatorLogic`
/// over the manifest's tasks and records every state change in the experiment
/// database. Started again on the same database it restores the finished tasks
/// and the attempt numbers, so a finished task is never trained again.
public final class CoordinatorShell {
    public static let baseStage = "base"

    public let manifest: Manifest
    public let database: ExperimentDatabase
    public let experimentID: Int64
    /// The endpoint actually bound, e.g. `tcp://127.0.0.1:40123` for `tcp://127.0.0.1:*`.
    public let boundEndpoint: String
    /// How long one poll waits for a message before the logic gets a tick.
    public var pollInterval = 0.1
    public private(set) var logic: CoordinatorLogic
    private let socket: ZMQSocket
    private let log: @Sendable (String) -> Void
    private var hostByWorker: [String: String] = [:]

    /// Registers the experiment and its tasks, restores what the database
    /// already holds and binds the ROUTER.
    public init(context: ZMQContext, endpoint: String, manifest: Manifest, dataFingerprint: String,
                database: ExperimentDatabase, maxAttempts: Int = 3,
                heartbeatInterval: Double = WireProtocol.heartbeatInterval,
                log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        (self.manifest, self.database, self.log) = (manifest, database, log)
        let tasks = Self.tasks(for: manifest)
        let experimentID = try database.registerExperiment(name: manifest.name, manifestJSON: manifest.canonicalJSON(),
                                                           hash: manifest.hash, dataFingerprint: dataFingerprint)
        self.experimentID = experimentID
        try database.insertTasks(tasks.map { task in
            TaskRecord(id: task.id, experimentID: experimentID, stage: task.stage, model: task.fold.model,
                       seed: task.fold.seed, fold: task.fold.fold, round: task.round)
        })
        // Attempts left open by a coordinator that died are closed; their tasks run again.
        let requeued = try database.requeueRunning()
        if requeued > 0 { log("requeued \(requeued) task(s) left running by an earlier coordinator") }
        let records = try database.tasks(experimentID: experimentID)
        // Failed and abandoned are final states in the database: the tasks are
        // left out rather than started on a row that refuses a new attempt.
        let final = Set(records.filter { $0.state == .failed || $0.state == .abandoned }.map(\.id))
        if !final.isEmpty { log("\(final.count) task(s) failed for good in an earlier run and are not retried") }
        let restored = CoordinatorLogic.Restored(
            doneTaskIDs: Set(records.filter { $0.state == .done }.map(\.id)),
            attemptsStarted: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.attempts) }))
        logic = CoordinatorLogic(tasks: tasks.filter { !final.contains($0.id) }, maxAttempts: maxAttempts,
                                 datasetFingerprint: dataFingerprint, restoring: restored)
        // Workers take the interval from the welcome, so one setting governs both sides.
        logic.heartbeatInterval = heartbeatInterval
        socket = try ZMQSocket(context: context, kind: .router)
        try socket.setRouterMandatory(true)
        try socket.setSendTimeout(seconds: 1)
        boundEndpoint = try socket.bind(endpoint)
    }

    /// The port of `boundEndpoint` (for tcp endpoints).
    public var port: Int? { boundEndpoint.split(separator: ":").last.flatMap { Int($0) } }

    /// One task per model × CV seed × fold, stage "base", round 0.
    public static func tasks(for manifest: Manifest) -> [ClusterTask] {
        manifest.models.flatMap { model in
            manifest.cv.seeds.flatMap { seed in
                (0..<manifest.cv.folds).map { fold in
                    ClusterTask(manifestHash: manifest.hash, stage: baseStage, round: 0,
                                fold: FoldTask(model: model.name, seed: seed, fold: fold))
                }
            }
        }
    }

    /// Serves workers until every task is done or abandoned (returns true) or
    /// `deadline` passes (returns false). The socket stays open for more runs.
    public func run(until deadline: Date = .distantFuture) throws -> Bool {
        while !logic.isFinished {
            if Date() >= deadline { return false }
            if let frames = try socket.receive(timeout: pollInterval) {
                try perform(logic.handle(event(from: frames), now: Self.now()))
            }
            try perform(logic.handle(.tick, now: Self.now()))
        }
        return true
    }

    /// Closes the socket, leaving `linger` seconds for the last messages (shutdowns) to go out.
    public func close(linger: Double = 1) {
        try? socket.setLinger(seconds: linger)
        socket.close()
    }

    private func event(from frames: [[UInt8]]) -> CoordinatorEvent {
        let peer = WorkerIdentity(frames.first ?? [])
        do {
            let message = try Message.decode(Array(frames.dropFirst()))
            if case .hello(let hello) = message { hostByWorker[hello.workerID] = hello.host }
            return .received(peer, message)
        } catch {
            return .undecodable(peer, error)
        }
    }

    private func perform(_ actions: [CoordinatorAction]) throws {
        for action in actions {
            switch action {
            case .send(let peer, let message):
                do {
                    try socket.send(frames: [peer.bytes] + message.encode())
                } catch {
                    // The peer is gone; its lease expires through the liveness rule.
                    log("could not send \(message.command) to peer \(peer): \(error)")
                }
            case .taskStarted(let taskID, let attempt, let workerID):
                let stored = try database.startAttempt(taskID: taskID, worker: workerID,
                                                       host: hostByWorker[workerID] ?? "unknown")
                if stored != attempt {
                    log("task \(taskID): the database numbers this attempt \(stored), the coordinator \(attempt)")
                }
            case .taskProgress(let progress):
                try database.recordEpoch(EpochMetricRecord(
                    taskID: progress.taskID, attempt: progress.attempt, epoch: progress.epoch,
                    trainLoss: progress.trainLoss, validationLoss: nil, validationScore: progress.validationScore,
                    learningRate: 0, seconds: 0))
            case .taskDone(let taskID, let result):
                try store(result, taskID: taskID)
            case .taskFailed(let taskID, let attempt, let message):
                let final = actions.contains(.taskAbandoned(taskID: taskID))
                try database.failAttempt(taskID: taskID, attempt: attempt, message: message, requeue: !final)
            case .taskAbandoned(let taskID):
                log("task \(taskID) abandoned")
            case .log(let line):
                log(line)
            }
        }
    }

    // Payload 0 is the OOF set and payload 1 the test set (see `WorkerShell`).
    private func store(_ result: TaskResult, taskID: String) throws {
        guard result.payloads.count >= 2 else {
            log("task \(taskID) attempt \(result.attempt): the result has \(result.payloads.count) payloads, needs OOF and test")
            try database.failAttempt(taskID: taskID, attempt: result.attempt,
                                     message: "result without OOF and test predictions", requeue: false)
            return
        }
        let (oof, test) = (result.payloads[0], result.payloads[1])
        let stored = try database.completeTask(
            taskID: taskID, attempt: result.attempt,
            predictions: [PredictionSet(name: "last", kind: .oof, shape: oof.shape, values: oof.scalars),
                          PredictionSet(name: "last", kind: .test, shape: test.shape, values: test.scalars)],
            scores: [manifest.metric.rawValue: result.score])
        if !stored { log("task \(taskID) attempt \(result.attempt): the database refused the result as stale") }
    }

    static func now() -> Double { ProcessInfo.processInfo.systemUptime }
}
