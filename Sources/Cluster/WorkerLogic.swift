public enum WorkerEvent: Sendable, Hashable {
    /// The socket is connected (again); the worker introduces itself.
    case connected
    case received(Message)
    case taskProgress(epoch: Int, epochs: Int, trainLoss: Double, validationScore: Double)
    case taskFinished(score: Double, payloads: [Payload])
    case taskFailed(String)
    case tick
}

public enum WorkerAction: Sendable, Hashable {
    case send(Message)
    case startTask(TaskAssignment)
    case cancelTask
    /// Close the socket and call `handle(.connected, …)` once connected again after this delay.
    case reconnect(after: Double)
    case exit(reason: String)
    case log(String)
}

public enum WorkerState: Sendable, Hashable {
    case connecting
    case helloSent
    case ready
    case working(TaskAssignment)
    case exited(reason: String)
}

/// The worker's protocol logic without I/O: events and the current time in,
/// actions out. It heartbeats while ready or working, and when the coordinator
/// is silent for `liveness` intervals it drops its task and reconnects after a
/// delay that doubles from 0.5 s to 8 s (reset by a welcome).
public struct WorkerLogic: Sendable {
    public let hello: Hello
    public private(set) var state: WorkerState = .connecting
    public private(set) var heartbeatInterval = WireProtocol.heartbeatInterval
    public var liveness = WireProtocol.liveness
    private var reconnectDelay = WireProtocol.reconnectInitialDelay
    private var lastHeard = 0.0
    private var lastSent = 0.0

    public init(workerID: String, host: String, threads: Int, datasetFingerprint: String,
                protocolVersion: Int = Int(WireProtocol.version)) {
        hello = Hello(protocolVersion: protocolVersion, workerID: workerID, host: host, threads: threads,
                      datasetFingerprint: datasetFingerprint)
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
        case .taskProgress(let epoch, let epochs, let trainLoss, let validationScore):
            guard case .working(let assignment) = state else { return [] }
            send(.progress(TaskProgress(taskID: assignment.taskID, attempt: assignment.attempt, epoch: epoch,
                                        epochs: epochs, trainLoss: trainLoss, validationScore: validationScore)), now: now, &actions)
        case .taskFinished(let score, let payloads):
            guard case .working(let assignment) = state else { return [.log("dropped the result of a cancelled task")] }
            state = .ready  // a result also says the worker is ready for the next task
            send(.result(TaskResult(taskID: assignment.taskID, attempt: assignment.attempt, score: score, payloads: payloads)),
                 now: now, &actions)
        case .taskFailed(let message):
            guard case .working(let assignment) = state else { return [.log("dropped the failure of a cancelled task: \(message)")] }
            state = .ready
            send(.failure(TaskFailure(taskID: assignment.taskID, attempt: assignment.attempt, message: message)), now: now, &actions)
        case .tick:
            tick(now: now, &actions)
        }
        return actions
    }

    private mutating func receive(_ message: Message, now: Double, _ actions: inout [WorkerAction]) {
        switch (message, state) {
        case (.welcome(let welcome), .helloSent):
            heartbeatInterval = welcome.heartbeatInterval
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
            actions.append(.cancelTask)
            send(.ready, now: now, &actions)
        case (.reject(let reject), _):
            exit(reason: "the coordinator rejected this worker: \(reject.reason)", &actions)
        case (.shutdown(let shutdown), _):
            exit(reason: "the coordinator shut this worker down: \(shutdown.reason)", &actions)
        case (.heartbeat, _):
            break
        default:
            actions.append(.log("ignored \(message.command) while \(state)"))
        }
    }

    private mutating func tick(now: Double, _ actions: inout [WorkerAction]) {
        switch state {
        case .helloSent, .ready, .working:
            if now - lastHeard >= Double(liveness) * heartbeatInterval {
                if case .working = state { actions.append(.cancelTask) }
                actions.append(.log("coordinator silent for \(now - lastHeard) s; reconnecting in \(reconnectDelay) s"))
                actions.append(.reconnect(after: reconnectDelay))
                reconnectDelay = min(reconnectDelay * 2, WireProtocol.reconnectMaximumDelay)
                state = .connecting
            } else if state != .helloSent, now - lastSent >= heartbeatInterval {
                send(.heartbeat, now: now, &actions)
            }
        case .connecting, .exited:
            break
        }
    }

    private mutating func exit(reason: String, _ actions: inout [WorkerAction]) {
        if case .working = state { actions.append(.cancelTask) }
        state = .exited(reason: reason)
        actions.append(.exit(reason: reason))
    }

    private mutating func send(_ message: Message, now: Double, _ actions: inout [WorkerAction]) {
        lastSent = now
        actions.append(.send(message))
    }
}
