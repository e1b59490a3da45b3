import Training

public enum WorkerEvent: Sendable, Hashable {
    /// The socket is connected (again); the worker introduces itself.
    case connected
    case received(Message)
    /// The offered manifest's data is loaded; the worker introduces itself again with it.
    /// `difference`: the first image that differs from the coordinator's, told if it refuses the data.
    case manifestLoaded(hash: String, datasetFingerprint: String, difference: String? = nil)
    case manifestFailed(String)
    case taskProgress(EpochRecord, epochs: Int)
    case taskFinished(score: Double, predictions: TaskPredictions)
    case taskFailed(String)
    /// SIGTERM: hand the current task back and exit.
    case stopRequested(reason: String)
    /// The connection dropped after a failed security handshake (`detail`: what libzmq reported).
    case handshakeFailed(detail: String)
    case tick
}

public enum WorkerAction: Sendable, Hashable {
    case send(Message)
    /// Load this manifest and its data, then report `manifestLoaded` or `manifestFailed`.
    case loadManifest(ManifestOffer)
    case startTask(TaskAssignment)
    case cancelTask
    /// Close the socket and call `handle(.connected, …)` once connected again after this delay.
    case reconnect(after: Double)
    case exit(WorkerExit)
    case log(String)
}

/// Why a worker stopped, and whether the user must fix something (exit code 2).
public struct WorkerExit: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// A stop request (SIGTERM, or the parent `foldwise run` is gone).
        case stopped
        /// The coordinator shut it down: every task is finished.
        case shutDown
        /// The coordinator refused it (other data, release, key, quarantine).
        case refused
        /// The manifest or data the coordinator sent cannot be loaded here.
        case cannotLoad
        /// The coordinator kept dropping the connection before welcoming it: the CURVE keys do not match.
        case handshakeFailed
    }
    public var reason: String
    public var outcome: Outcome
    public init(reason: String, outcome: Outcome) { (self.reason, self.outcome) = (reason, outcome) }

    /// A refusal, a load failure or a failed handshake needs the user: the command exits 2.
    public var needsFix: Bool {
        switch outcome {
        case .stopped, .shutDown: false
        case .refused, .cannotLoad, .handshakeFailed: true
        }
    }
}

public enum WorkerState: Sendable, Hashable {
    case connecting
    case helloSent
    /// Loading the data of a manifest the coordinator sent; liveness is paused.
    case loading(ManifestOffer)
    case ready
    case working(TaskAssignment)
    case exited(WorkerExit)
}

/// The worker's protocol logic without I/O: events and the current time in,
/// actions out. It heartbeats while ready or working, and when the coordinator
/// is silent for `liveness` intervals it drops its task and reconnects after a
/// delay that doubles from 0.5 s to 8 s (reset by a welcome). A worker started
/// without a manifest gets the coordinator's in its first welcome.
public struct WorkerLogic: Sendable {
    public private(set) var hello: Hello
    public private(set) var state: WorkerState = .connecting
    public private(set) var heartbeatInterval = WireProtocol.heartbeatInterval
    public var liveness = WireProtocol.liveness
    private var reconnectDelay = WireProtocol.reconnectInitialDelay
    /// Liveness windows a hello waits for its welcome; doubles after each unanswered hello.
    private var welcomePatience = 1.0
    private var lastHeard = 0.0
    private var lastSent = 0.0
    private var dataDifference: String?
    /// Failed handshakes since the last welcome while a hello waited for it.
    private var failedHandshakes = 0
    /// After this many failed handshakes without a welcome the worker gives up.
    public static let maximumFailedHandshakes = 3

    /// `datasetFingerprint` and `manifestHash` describe data already loaded; empty and nil for none.
    public init(workerID: String, host: String, threads: Int, datasetFingerprint: String = "",
                manifestHash: String? = nil, protocolVersion: Int = Int(WireProtocol.version)) {
        hello = Hello(protocolVersion: protocolVersion, workerID: workerID, host: host, threads: threads,
                      datasetFingerprint: datasetFingerprint, manifestHash: manifestHash)
    }

    public mutating func handle(_ event: WorkerEvent, now: Double) -> [WorkerAction] {
        if case .exited = state { return [] }
        var actions: [WorkerAction] = []
        switch event {
        case .connected:
            guard state == .connecting else { return [.log("ignored a second connect while \(state)")] }
            state = .helloSent
            lastHeard = now
            send(.hello(hello), now: now, &actions)
        case .received(let message):
            lastHeard = now
            receive(message, now: now, &actions)
        case .manifestLoaded(let hash, let fingerprint, let difference):
            guard case .loading = state else { return [.log("ignored loaded data while \(state)")] }
            dataDifference = difference
            hello.manifestHash = hash
            hello.datasetFingerprint = fingerprint
            state = .helloSent
            lastHeard = now
            send(.hello(hello), now: now, &actions)
        case .manifestFailed(let message):
            guard case .loading = state else { return [] }
            exit(.cannotLoad, "cannot load the coordinator's manifest and data: \(message)", &actions)
        case .taskProgress(let record, let epochs):
            guard case .working(let assignment) = state else { return [] }
            send(.progress(TaskProgress(taskID: assignment.taskID, attempt: assignment.attempt, epoch: record.epoch,
                                        epochs: epochs, trainLoss: record.trainLoss, validationLoss: record.validationLoss,
                                        validationScore: record.validationScore, learningRate: record.learningRate,
                                        seconds: record.seconds)), now: now, &actions)
        case .taskFinished(let score, let predictions):
            guard case .working(let assignment) = state else { return [.log("dropped the result of a cancelled task")] }
            state = .ready  // a result also says the worker is ready for the next task
            send(.result(TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: score,
                                    predictions: predictions)),
                 now: now, &actions)
        case .taskFailed(let message):
            guard case .working(let assignment) = state else { return [.log("dropped the failure of a cancelled task: \(message)")] }
            state = .ready
            send(.failure(TaskFailure(taskID: assignment.taskID, attempt: assignment.attempt, message: message)), now: now, &actions)
        case .stopRequested(let reason):
            if case .working(let assignment) = state {
                send(.failure(TaskFailure(taskID: assignment.taskID, attempt: assignment.attempt,
                                          message: "worker \(hello.workerID) is stopping (\(reason)); task handed back",
                                          handedBack: true)), now: now, &actions)
            }
            exit(.stopped, "stopping: \(reason)", &actions)
        case .handshakeFailed(let detail):
            failedHandshake(detail: detail, &actions)
        case .tick:
            tick(now: now, &actions)
        }
        return actions
    }

    private mutating func receive(_ message: Message, now: Double, _ actions: inout [WorkerAction]) {
        switch (message, state) {
        case (.welcome(let welcome), .helloSent):
            heartbeatInterval = welcome.heartbeatInterval
            welcomePatience = 1
            failedHandshakes = 0
            if let offer = welcome.manifest {
                state = .loading(offer)
                actions.append(.log("loading the data of manifest \(offer.hash) from the coordinator"))
                actions.append(.loadManifest(offer))
                return
            }
            reconnectDelay = WireProtocol.reconnectInitialDelay
            state = .ready
            actions.append(.log("welcomed by the coordinator as \(welcome.workerID)"))
            send(.ready, now: now, &actions)
        case (.task(let assignment), .ready):
            state = .working(assignment)
            actions.append(.startTask(assignment))
        case (.task(let assignment), .working(let current)):
            send(.failure(TaskFailure(taskID: assignment.taskID, attempt: assignment.attempt,
                                      message: "worker \(hello.workerID) is busy with task \(current.taskID)")), now: now, &actions)
        case (.cancel(let cancel), .working(let current)) where cancel.taskID == current.taskID && cancel.attempt == current.attempt:
            state = .ready
            if let reason = cancel.reason { actions.append(.log(Self.refusal(cancel, reason))) }
            actions.append(.cancelTask)
            send(.ready, now: now, &actions)
        case (.cancel(let cancel), _) where cancel.reason != nil:
            // The result already went out: the coordinator says why it was not taken.
            actions.append(.log(Self.refusal(cancel, cancel.reason ?? "")))
        case (.reject(let reject), _):
            let difference = dataDifference.map { " (this machine's data: \($0))" } ?? ""
            exit(.refused, "the coordinator rejected this worker: \(reject.reason)\(difference)", &actions)
        case (.shutdown(let shutdown), _):
            exit(.shutDown, "the coordinator shut this worker down: \(shutdown.reason)", &actions)
        case (.heartbeat, _):
            break
        default:
            actions.append(.log("ignored \(message.command) while \(state)"))
        }
    }

    private static func refusal(_ cancel: TaskCancel, _ reason: String) -> String {
        "the coordinator failed task \(cancel.taskID) attempt \(cancel.attempt): \(reason)"
    }

    private mutating func tick(now: Double, _ actions: inout [WorkerAction]) {
        switch state {
        case .helloSent, .ready, .working:
            let window = Double(liveness) * heartbeatInterval * (state == .helloSent ? welcomePatience : 1)
            if now - lastHeard >= window {
                if state == .helloSent { welcomePatience = min(welcomePatience * 2, WireProtocol.maximumWelcomePatience) }
                if case .working = state { actions.append(.cancelTask) }
                actions.append(.log("coordinator silent for \(now - lastHeard) s; reconnecting in \(reconnectDelay) s"))
                actions.append(.reconnect(after: reconnectDelay))
                reconnectDelay = min(reconnectDelay * 2, WireProtocol.reconnectMaximumDelay)
                state = .connecting
            } else if state != .helloSent, now - lastSent >= heartbeatInterval {
                send(.heartbeat, now: now, &actions)
            }
        case .connecting, .loading, .exited:
            break
        }
    }

    /// A connection dropped after a failed handshake while a hello waits for
    /// its welcome: a CURVE coordinator cannot read this worker (wrong or
    /// missing keys) and closes it. A few in a row end the worker instead of
    /// retrying forever; a welcome starts the count again.
    private mutating func failedHandshake(detail: String, _ actions: inout [WorkerAction]) {
        guard state == .helloSent else { return }
        failedHandshakes += 1
        guard failedHandshakes >= Self.maximumFailedHandshakes else {
            return actions.append(.log("the coordinator dropped the connection before welcoming this worker (\(detail))"))
        }
        exit(.handshakeFailed, "the coordinator dropped the connection \(failedHandshakes) times before welcoming this worker (\(detail)): "
             + "its CURVE keys do not match this worker's. Pass the coordinator's .pub file as --server-key and this worker's "
             + ".key as --key (a coordinator started with --insecure takes neither; a `foldwise run` admits only the workers it starts)",
             &actions)
    }

    private mutating func exit(_ outcome: WorkerExit.Outcome, _ reason: String, _ actions: inout [WorkerAction]) {
        if case .working = state { actions.append(.cancelTask) }
        let exit = WorkerExit(reason: reason, outcome: outcome)
        state = .exited(exit)
        actions.append(.exit(exit))
    }

    private mutating func send(_ message: Message, now: Double, _ actions: inout [WorkerAction]) {
        lastSent = now
        actions.append(.send(message))
    }
}
