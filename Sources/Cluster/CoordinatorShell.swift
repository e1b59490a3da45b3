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
    /// What each running task is doing, for a live display.
    public private(set) var activity: [String: TaskActivity] = [:]
    /// Sees every action once it has been performed (a live display).
    public var observer: ((CoordinatorAction, CoordinatorShell) -> Void)?
    /// What every result must agree with (its task's validation rows, the test
    /// rows, the classes, the labels its score is recomputed from); nil checks
    /// each result on its own only. Set it to `ResultReference(manifest:data:)`.
    public var reference: ResultReference?
    private let socket: ZMQSocket
    private let monitor: ZMQMonitor
    private let log: @Sendable (String) -> Void
    private var hostByWorker: [String: String] = [:]

    /// The fine-tuning checkpoints the manifest names, read here: they travel with
    /// the manifest, so every worker starts from these bytes whatever its disk holds.
    static func shippedFiles(of manifest: Manifest) throws -> [(path: String, contents: [UInt8])] {
        try manifest.checkpointPaths.map { path in
            let model = manifest.models.first { $0.finetune?.checkpoint == path }?.name ?? ""
            let url = manifest.resolve(path)
            do {
                return (path, [UInt8](try Data(contentsOf: url)))
            } catch {
                throw ManifestError(file: manifest.file?.path ?? "manifest", line: nil, keyPath: "models[\(model)].finetune.checkpoint",
                                    message: "cannot read the checkpoint \(url.path) to send it to the workers: \(error.localizedDescription)",
                                    fix: "check that the file exists and is readable")
            }
        }
    }

    /// Registers the experiment and its tasks, restores what the database
    /// already holds and binds the ROUTER.
    public init(context: ZMQContext, endpoint: String, manifest: Manifest, dataFingerprint: String,
                database: ExperimentDatabase, settings: CoordinatorSettings = CoordinatorSettings(),
                configure: (ZMQSocket) throws -> Void = { _ in },
                log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        // Peers name themselves and word their failures: no line they shape may forge another.
        (self.manifest, self.database, self.log) = (manifest, database, { log(LogText.line($0)) })
        // Read before the experiment is registered: an unreadable file registers nothing.
        let files = try Self.shippedFiles(of: manifest)
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
        // A re-run retries what failed for good before, with a fresh number of attempts.
        let retried = try database.requeueGivenUp(experimentID: experimentID)
        if retried > 0 { log("retrying \(retried) task(s) that failed in an earlier run") }
        let records = try database.tasks(experimentID: experimentID)
        let restored = CoordinatorLogic.Restored(
            doneTaskIDs: Set(records.filter { $0.state == .done }.map(\.id)),
            attemptsStarted: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.attempts) }))
        logic = CoordinatorLogic(tasks: tasks, maxAttempts: settings.maxAttempts,
                                 datasetFingerprint: dataFingerprint, restoring: restored)
        // Workers take the interval from the welcome, so one setting governs both sides.
        logic.heartbeatInterval = settings.heartbeatInterval
        logic.liveness = settings.liveness
        logic.retryInitialDelay = settings.retryDelay
        logic.retryMaximumDelay = settings.maxRetryDelay
        logic.peerPolicy = settings.peerPolicy
        if let file = manifest.file {
            logic.manifestOffer = ManifestOffer(hash: manifest.hash, json: manifest.canonicalJSON(),
                                                directory: file.deletingLastPathComponent().path, files: files)
        }
        socket = try ZMQSocket(context: context, kind: .router)
        try socket.setRouterMandatory(true)
        // Never wait on one peer: a message that cannot be queued at once is
        // dropped (heartbeats and leases recover it) instead of stalling everyone.
        try socket.setSendTimeout(seconds: 0)
        if let bytes = settings.maximumFrameBytes { try socket.setMaximumMessageSize(bytes: bytes) }
        try configure(socket)
        monitor = try socket.monitorHandshakeFailures()
        boundEndpoint = try socket.bind(endpoint)
    }

    /// Adds a later stage's tasks (pseudo-label rounds, distillation) to the
    /// database and the queue; those the database already has done stay done.
    public func addTasks(_ tasks: [ClusterTask], inputs: [String: (extras: TaskExtras, teacher: [Payload])] = [:]) throws {
        try database.insertTasks(tasks.map { task in
            TaskRecord(id: task.id, experimentID: experimentID, stage: task.stage, model: task.fold.model,
                       seed: task.fold.seed, fold: task.fold.fold, round: task.round)
        })
        let ids = Set(tasks.map(\.id))
        let records = try database.tasks(experimentID: experimentID).filter { ids.contains($0.id) }
        logic.add(tasks, inputs: inputs, restoring: CoordinatorLogic.Restored(
            doneTaskIDs: Set(records.filter { $0.state == .done }.map(\.id)),
            attemptsStarted: Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.attempts) })))
    }

    /// Sends the coordinator's image digests with the manifest, so a worker
    /// whose images differ can name the first one when it is refused.
    public func offerImages(_ digests: ImageDigests) {
        logic.manifestOffer?.imageDigests = digests.all.map(\.hex).joined()
    }

    /// Shuts down the workers still connected (held for a stage that needed no work).
    public func shutdownWorkers() throws {
        try perform(logic.shutdownAll(reason: "all tasks are finished", now: Self.now()))
    }

    /// While true, idle workers wait for a later stage instead of being shut down.
    public var holdsWorkers: Bool {
        get { logic.holdsWorkers }
        set { logic.holdsWorkers = newValue }
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
    /// `afterPoll` runs after every poll (a display, a stop check); returning
    /// false from it ends the run early (returns false).
    public func run(until deadline: Date = .distantFuture,
                    afterPoll: (CoordinatorShell) -> Bool = { _ in true }) throws -> Bool {
        while !logic.isFinished {
            if Date() >= deadline { return false }
            try poll()
            if !afterPoll(self) { return false }
        }
        return true
    }

    /// Keeps serving the workers (heartbeats, hellos, late messages) while `work`
    /// runs on another thread, and returns what it returns or throws: the level-2
    /// stage between two rounds of tasks can outlast the workers' liveness, and a
    /// silent coordinator makes every worker drop its socket and say hello again.
    /// `work` must not use this shell.
    public func serve<T>(while work: @escaping () throws -> T) throws -> T {
        let job = BackgroundJob(work)
        Thread { job.run() }.start()
        while !job.isDone { try poll() }
        return try job.result()
    }

    /// Waits up to one poll interval for messages, handles them, then gives the logic a tick.
    private func poll() throws {
        if let frames = try socket.receive(timeout: pollInterval) {
            try perform(logic.handle(event(from: frames), now: Self.now()))
            // Drain what else is waiting before the tick, so a burst costs one tick.
            while let more = try socket.receive(timeout: 0) {
                try perform(logic.handle(event(from: more), now: Self.now()))
            }
        }
        while let failure = try monitor.nextFailure(timeout: 0) {
            log(failure.refusedByPeer
                ? "refused a connection on \(boundEndpoint): its CURVE key is not allowed (status \(failure.code))"
                : "dropped a connection on \(boundEndpoint): its ZeroMQ handshake failed (libzmq code \(failure.code)); the peer is not a Foldwise worker, spoke before the greeting, or uses other keys")
        }
        try perform(logic.handle(.tick, now: Self.now()))
    }

    /// The coordinator is stopping: every task the database still shows running
    /// is recorded as handed back (attempt closed, task queued again), so it
    /// never shows a task running on a worker nobody serves. Returns how many.
    public func handBackRunning(reason: String) throws -> Int {
        try database.requeueRunning(message: reason, outcome: .handedBack)
    }

    /// From now on no task is leased (the coordinator is stopping): a task
    /// handed back stays queued instead of going to a worker that is stopping too.
    public func drain() { logic.isDraining = true }

    /// Closes the socket, leaving `linger` seconds for the last messages (shutdowns) to go out.
    public func close(linger: Double = 1) {
        try? socket.setLinger(seconds: linger)
        monitor.close()
        socket.close()
    }

    // A result refused by `Message.decode` or by `reference` reaches the logic
    // as the attempt's failure (retried or abandoned), and is never stored; an
    // accepted one carries the score the coordinator recomputed.
    private func event(from frames: [[UInt8]]) -> CoordinatorEvent {
        let peer = WorkerIdentity(frames.first ?? [])
        do {
            var message = try Message.decode(Array(frames.dropFirst()))
            if case .hello(let hello) = message { hostByWorker[hello.workerID] = hello.host }
            if case .result(var result) = message, let reference, let task = logic.task(id: result.taskID) {
                result.score = try reference.check(result, task: task)
                message = .result(result)
            }
            return .received(peer, message)
        } catch .invalidResult(let taskID, let attempt, let reason) {
            log("refused the result of task \(taskID) attempt \(attempt) from peer \(peer): \(reason)")
            return .refusedResult(peer, taskID: taskID, attempt: attempt, reason: reason)
        } catch {
            return .undecodable(peer, error)
        }
    }

    private func perform(_ actions: [CoordinatorAction]) throws {
        var unreachable: [WorkerIdentity] = [], undelivered: Set<WorkerIdentity> = []
        defer {
            for peer in unreachable {
                try? perform(logic.handle(.unreachable(peer, taskUndelivered: undelivered.contains(peer)), now: Self.now()))
            }
        }
        for action in actions {
            switch action {
            case .send(let peer, let message):
                do {
                    try socket.send(frames: [peer.bytes] + message.encode())
                } catch let error as ZMQError where error.code == EHOSTUNREACH {
                    // Its connection is gone (it reconnects under a new identity): forget it at once.
                    if case .task = message { undelivered.insert(peer) }
                    unreachable.append(peer)
                } catch {
                    // A full queue: heartbeats and the liveness rule recover the message.
                    log("could not send \(message.command) to peer \(peer): \(error)")
                }
            case .taskStarted(let taskID, let attempt, let workerID):
                let stored = try database.startAttempt(taskID: taskID, worker: workerID,
                                                       host: hostByWorker[workerID] ?? "unknown")
                if stored != attempt {
                    log("task \(taskID): the database numbers this attempt \(stored), the coordinator \(attempt)")
                }
                activity[taskID] = TaskActivity(workerID: workerID, task: logic.task(id: taskID), epoch: 0, epochs: 0)
            case .taskProgress(let progress):
                try database.recordEpoch(EpochMetricRecord(
                    taskID: progress.taskID, attempt: progress.attempt, epoch: progress.epoch,
                    trainLoss: progress.trainLoss, validationLoss: progress.validationLoss,
                    validationScore: progress.validationScore, learningRate: progress.learningRate,
                    seconds: progress.seconds))
                activity[progress.taskID]?.epoch = progress.epoch
                activity[progress.taskID]?.epochs = progress.epochs
                activity[progress.taskID]?.lastEpochSeconds = progress.seconds
            case .taskDone(let taskID, let result):
                activity[taskID] = nil
                try store(result, taskID: taskID)
            case .taskFailed(let taskID, let attempt, let message):
                activity[taskID] = nil
                let final = actions.contains(.taskAbandoned(taskID: taskID))
                try database.failAttempt(taskID: taskID, attempt: attempt, message: message, requeue: !final)
            case .taskLost(let taskID, let attempt, let message):
                activity[taskID] = nil
                let final = actions.contains(.taskAbandoned(taskID: taskID))
                try database.abandonAttempt(taskID: taskID, attempt: attempt, message: message, requeue: !final)
            case .taskHandedBack(let taskID, let attempt, let message):
                activity[taskID] = nil
                try database.handBackAttempt(taskID: taskID, attempt: attempt, message: message)
            case .taskAbandoned(let taskID):
                log("task \(taskID) given up: no attempts left")
            case .log(let line):
                log(line)
            }
            observer?(action, self)
        }
    }

    private func store(_ result: TaskResult, taskID: String) throws {
        let predictions = result.predictions
        let stored = try database.completeTask(taskID: taskID, attempt: result.attempt, predictions: predictions.records,
                                               validationRows: predictions.validationRows,
                                               scores: [manifest.metric.rawValue: result.score])
        if !stored { log("task \(taskID) attempt \(result.attempt): the database refused the result as stale") }
    }

    static func now() -> Double { ProcessInfo.processInfo.systemUptime }
}

/// The coordinator's retry and liveness settings (the manifest's `cluster` section).
public struct CoordinatorSettings: Sendable {
    public var maxAttempts = 3
    public var heartbeatInterval = WireProtocol.heartbeatInterval
    public var liveness = WireProtocol.liveness
    public var retryDelay = 1.0
    public var maxRetryDelay = 60.0
    /// What lost leases and refused results cost a peer.
    public var peerPolicy = PeerPolicy()
    /// The largest frame a peer may send (`FrameLimit.coordinator`); nil: libzmq's default (none).
    public var maximumFrameBytes: Int?
    public init(maxAttempts: Int = 3, heartbeatInterval: Double = WireProtocol.heartbeatInterval,
                liveness: Int = WireProtocol.liveness, retryDelay: Double = 1.0, maxRetryDelay: Double = 60.0,
                peerPolicy: PeerPolicy = PeerPolicy(), maximumFrameBytes: Int? = nil) {
        (self.maxAttempts, self.heartbeatInterval, self.liveness) = (maxAttempts, heartbeatInterval, liveness)
        (self.retryDelay, self.maxRetryDelay, self.peerPolicy) = (retryDelay, maxRetryDelay, peerPolicy)
        self.maximumFrameBytes = maximumFrameBytes
    }
}

/// A computation on its own thread whose outcome the poll loop picks up.
private final class BackgroundJob<T>: @unchecked Sendable {
    private let work: () throws -> T
    private let lock = NSLock()
    private var outcome: Result<T, any Error>?

    init(_ work: @escaping () throws -> T) { self.work = work }

    func run() {
        let result = Result { try work() }
        lock.withLock { outcome = result }
    }

    var isDone: Bool { lock.withLock { outcome != nil } }

    func result() throws -> T {
        guard let outcome = lock.withLock({ outcome }) else { preconditionFailure("BackgroundJob: read before it finished") }
        return try outcome.get()
    }
}

/// One running task as a live display shows it.
public struct TaskActivity: Sendable {
    public var workerID: String
    public var task: ClusterTask?
    public var epoch: Int
    public var epochs: Int
    public var lastEpochSeconds: Double?
}
