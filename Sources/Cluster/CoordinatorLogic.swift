import Foundation

/// A ZeroMQ ROUTER identity: the opaque bytes that address one connected worker.
public struct WorkerIdentity: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { bytes.map { String(format: "%02x", $0) }.joined() }
}

public enum CoordinatorEvent: Sendable, Hashable {
    case received(WorkerIdentity, Message)
    /// Frames from this peer that `Message.decode` refused.
    case undecodable(WorkerIdentity, ProtocolError)
    /// A send to this peer found its connection gone; `taskUndelivered` when
    /// the failed send was its task assignment.
    case unreachable(WorkerIdentity, taskUndelivered: Bool)
    /// The shell refused this peer's result (`ProtocolError.invalidResult`): the attempt fails.
    case refusedResult(WorkerIdentity, taskID: String, attempt: Int, reason: String)
    case tick
}

public enum CoordinatorAction: Sendable, Hashable {
    case send(WorkerIdentity, Message)
    case taskStarted(taskID: String, attempt: Int, workerID: String)
    case taskProgress(TaskProgress)
    case taskDone(taskID: String, result: TaskResult)
    /// The worker reported an error.
    case taskFailed(taskID: String, attempt: Int, message: String)
    /// The worker went silent or said hello again: the lease is lost.
    case taskLost(taskID: String, attempt: Int, message: String)
    /// A stopping worker returned the task untouched; it runs again without using up an attempt.
    case taskHandedBack(taskID: String, attempt: Int, message: String)
    /// No attempts are left: the task's last attempt (failed or lost) was final.
    case taskAbandoned(taskID: String)
    case log(String)
}

/// The coordinator's protocol logic without I/O: events and the current time in,
/// actions out. Every task is leased to one worker at a time; an attempt ends in
/// a result, a failure or a lost lease, and only the current attempt's result counts.
public struct CoordinatorLogic: Sendable {
    /// What a restarted coordinator knows from its database.
    public struct Restored: Sendable {
        public var doneTaskIDs: Set<String>
        /// The highest attempt number already used per task, so numbering never repeats.
        public var attemptsStarted: [String: Int]
        public init(doneTaskIDs: Set<String> = [], attemptsStarted: [String: Int] = [:]) {
            (self.doneTaskIDs, self.attemptsStarted) = (doneTaskIDs, attemptsStarted)
        }
    }

    public struct Summary: Sendable, Hashable {
        public var queued = 0, running = 0, done = 0, abandoned = 0, workers = 0
    }

    enum Status: Sendable, Hashable {
        case queued(notBefore: Double)
        case leased(WorkerIdentity, attempt: Int)
        case done
        case abandoned
    }

    struct TaskEntry: Sendable {
        var task: ClusterTask
        var status: Status
        var lastAttempt: Int
        var attemptsThisRun = 0
    }

    struct WorkerEntry: Sendable {
        var hello: Hello
        var lastHeard: Double
        var lastSent: Double
        var isReady = false
        var leasedTaskID: String?
        /// Whether the peer reported progress on its current lease.
        var leaseProgressed = false
    }

    public let maxAttempts: Int
    public let protocolVersion: Int
    public let datasetFingerprint: String
    public var heartbeatInterval = WireProtocol.heartbeatInterval
    public var liveness = WireProtocol.liveness
    /// A failed or lost attempt waits this long before its retry, doubling per attempt.
    public var retryInitialDelay = 1.0
    public var retryMaximumDelay = 60.0
    /// When set, a worker whose hello names another manifest (or none) gets this
    /// one in its welcome and is admitted only once it says hello with its data.
    public var manifestOffer: ManifestOffer?
    /// While true, idle workers wait for more tasks instead of being shut down
    /// when every task is finished (a later stage will add tasks).
    public var holdsWorkers = false
    /// Free lost leases and quarantine (`PeerPolicy`).
    public var peerPolicy = PeerPolicy()
    var standing = PeerStanding()
    /// What tasks of later stages train with, by task id.
    var inputsByTask: [String: (extras: TaskExtras, teacher: [Payload])] = [:]

    var entries: [TaskEntry] = []
    var indexByID: [String: Int] = [:]
    var workers: [WorkerIdentity: WorkerEntry] = [:]
    // Workers in arrival order, so assignment never depends on hash order.
    var workerOrder: [WorkerIdentity] = []

    public init(tasks: [ClusterTask], maxAttempts: Int, protocolVersion: Int = Int(WireProtocol.version),
                datasetFingerprint: String, restoring restored: Restored = Restored()) {
        precondition(maxAttempts >= 1, "maxAttempts is \(maxAttempts), needs at least 1")
        (self.maxAttempts, self.protocolVersion, self.datasetFingerprint) = (maxAttempts, protocolVersion, datasetFingerprint)
        for task in tasks {
            precondition(indexByID[task.id] == nil, "task \(task.id) (\(task.canonicalString)) is listed twice")
            indexByID[task.id] = entries.count
            let done = restored.doneTaskIDs.contains(task.id)
            entries.append(TaskEntry(task: task, status: done ? .done : .queued(notBefore: 0),
                                     lastAttempt: restored.attemptsStarted[task.id] ?? 0))
        }
    }

    public func task(id: String) -> ClusterTask? { indexByID[id].map { entries[$0].task } }

    /// Adds the tasks of a later stage (those already listed are skipped; the
    /// ones in `restoring.doneTaskIDs` start done), with what each trains with.
    public mutating func add(_ tasks: [ClusterTask], inputs: [String: (extras: TaskExtras, teacher: [Payload])] = [:],
                             restoring restored: Restored = Restored()) {
        for task in tasks where indexByID[task.id] == nil {
            indexByID[task.id] = entries.count
            let done = restored.doneTaskIDs.contains(task.id)
            entries.append(TaskEntry(task: task, status: done ? .done : .queued(notBefore: 0),
                                     lastAttempt: restored.attemptsStarted[task.id] ?? 0))
        }
        for (id, input) in inputs { inputsByTask[id] = input }
    }

    /// Set when the coordinator is stopping: no task is leased any more.
    public var isDraining = false
    public var isFinished: Bool { entries.allSatisfy { $0.status == .done || $0.status == .abandoned } }

    public var summary: Summary {
        var summary = Summary(workers: workers.count)
        for entry in entries {
            switch entry.status {
            case .queued: summary.queued += 1
            case .leased: summary.running += 1
            case .done: summary.done += 1
            case .abandoned: summary.abandoned += 1
            }
        }
        return summary
    }

    public mutating func handle(_ event: CoordinatorEvent, now: Double) -> [CoordinatorAction] {
        var actions: [CoordinatorAction] = []
        switch event {
        case .received(let peer, let message):
            receive(message, from: peer, now: now, &actions)
        case .undecodable(let peer, let error):
            actions.append(.log("dropped a malformed message from peer \(peer): \(error)"))
            // A worker of another release cannot even say hello; tell it why it gets no work.
            if case .unknownVersion = error { send(.reject(Reject(reason: error.description)), to: peer, now: now, &actions) }
        case .unreachable(let peer, let undelivered):
            dropUnreachable(peer, taskUndelivered: undelivered, now: now, &actions)
        case .refusedResult(let peer, let taskID, let attempt, let reason):
            refuseResult(taskID: taskID, attempt: attempt, reason: reason, from: peer, now: now, &actions)
        case .tick:
            expireSilentWorkers(now: now, &actions)
            sendHeartbeats(now: now, &actions)
        }
        assignIdleWorkers(now: now, &actions)
        return actions
    }

    private mutating func receive(_ message: Message, from peer: WorkerIdentity, now: Double, _ actions: inout [CoordinatorAction]) {
        if case .hello(let hello) = message { return greet(hello, from: peer, now: now, &actions) }
        let known = workers[peer] != nil
        workers[peer]?.lastHeard = now
        switch message {
        case .result(let result): receiveResult(result, from: peer, now: now, &actions)
        case .failure(let failure): receiveFailure(failure, from: peer, now: now, &actions)
        case .heartbeat where !known:
            break  // a heartbeat queued on a connection that has since been replaced
        case _ where !known:
            actions.append(.log("ignored \(message.command) from peer \(peer): it has not said hello or was declared lost"))
        case .ready:
            if let taskID = workers[peer]?.leasedTaskID, let index = indexByID[taskID] {
                loseLease(index, of: peer, message: "worker \(name(peer)) said ready while holding the task", now: now, &actions)
            }
            workers[peer]?.isReady = true
        case .progress(let progress):
            if isCurrent(taskID: progress.taskID, attempt: progress.attempt, peer: peer) {
                workers[peer]?.leaseProgressed = true
                actions.append(.taskProgress(progress))
            } else {
                actions.append(.log("worker \(name(peer)) reports progress on task \(progress.taskID) attempt \(progress.attempt), which is not its lease; cancelling it"))
                send(.cancel(TaskCancel(taskID: progress.taskID, attempt: progress.attempt)), to: peer, now: now, &actions)
            }
        case .heartbeat: break
        default: actions.append(.log("ignored \(message.command) from worker \(name(peer)): only a coordinator sends it"))
        }
    }

    private mutating func greet(_ hello: Hello, from peer: WorkerIdentity, now: Double, _ actions: inout [CoordinatorAction]) {
        if let problem = HelloBounds.problem(in: hello) {
            if let taskID = workers[peer]?.leasedTaskID, let index = indexByID[taskID] {
                loseLease(index, of: peer, message: "peer \(peer) sent a malformed hello while holding the task", now: now, &actions)
            }
            forget(peer)
            actions.append(.log("refused a hello from peer \(peer): \(problem)"))
            return actions.append(.send(peer, .reject(Reject(reason: problem))))
        }
        let worker = "worker \(hello.workerID) on \(hello.host)"
        var reason: String?
        if hello.protocolVersion != protocolVersion {
            reason = "protocol version mismatch: \(worker) speaks version \(hello.protocolVersion), the coordinator speaks version \(protocolVersion); run the same Foldwise release on both machines"
        } else if hello.datasetFingerprint != datasetFingerprint {
            // The coordinator's own fingerprint is never told: a peer could pose as a worker with it.
            reason = "dataset fingerprint mismatch: \(worker) has data \(hello.datasetFingerprint), which is not the coordinator's; point the worker's --data-root at the same data as the coordinator"
        }
        if let taskID = workers[peer]?.leasedTaskID, let index = indexByID[taskID] {
            loseLease(index, of: peer, message: "\(worker) said hello again while holding the task", now: now, &actions)
        }
        if let quarantine = standing.quarantine(of: hello.workerID, connection: peer) {
            return refuseQuarantined(peer, worker: worker, reason: quarantine, now: now, &actions)
        }
        if let offer = manifestOffer, hello.protocolVersion == protocolVersion, hello.manifestHash != offer.identity {
            forget(peer)
            actions.append(.log("\(worker) has no data for manifest \(offer.hash) yet; sent it the manifest"))
            return actions.append(.send(peer, .welcome(Welcome(workerID: hello.workerID, heartbeatInterval: heartbeatInterval,
                                                               manifest: offer))))
        }
        if let reason {
            forget(peer)
            actions.append(.log("rejected \(reason)"))
            return actions.append(.send(peer, .reject(Reject(reason: reason))))
        }
        if workers[peer] == nil { workerOrder.append(peer) }
        workers[peer] = WorkerEntry(hello: hello, lastHeard: now, lastSent: now)
        actions.append(.log("\(worker) joined (\(hello.threads) threads)"))
        send(.welcome(Welcome(workerID: hello.workerID, heartbeatInterval: heartbeatInterval)), to: peer, now: now, &actions)
    }

    private mutating func receiveResult(_ result: TaskResult, from peer: WorkerIdentity, now: Double, _ actions: inout [CoordinatorAction]) {
        releaseLease(of: peer, taskID: result.taskID)
        guard let index = indexByID[result.taskID] else {
            return actions.append(.log("ignored a result for unknown task \(result.taskID) from peer \(peer)"))
        }
        if entries[index].status == .done {
            return actions.append(.log("ignored a duplicate result for task \(result.taskID) attempt \(result.attempt): the task is already done"))
        }
        guard entries[index].status == .leased(peer, attempt: result.attempt) else {
            return actions.append(.log("ignored a stale result for task \(result.taskID) attempt \(result.attempt) from peer \(peer): that attempt's lease is gone"))
        }
        entries[index].status = .done
        if let workerID = workers[peer]?.hello.workerID { standing.clear(workerID) }
        actions.append(.taskDone(taskID: result.taskID, result: result))
    }

    private mutating func receiveFailure(_ failure: TaskFailure, from peer: WorkerIdentity, now: Double, _ actions: inout [CoordinatorAction]) {
        releaseLease(of: peer, taskID: failure.taskID)
        // The worker's words go to the database and every display: one bounded, printable line.
        var failure = failure
        failure.message = LogText.line(failure.message)
        guard isCurrent(taskID: failure.taskID, attempt: failure.attempt, peer: peer), let index = indexByID[failure.taskID] else {
            return actions.append(.log("ignored a stale failure of task \(failure.taskID) attempt \(failure.attempt) from peer \(peer): \(failure.message)"))
        }
        guard failure.handedBack == true else { return endAttempt(index, message: failure.message, now: now, &actions) }
        // The worker is exiting: it gets no more work, and its task goes straight back to the queue.
        forget(peer)
        entries[index].attemptsThisRun -= 1
        entries[index].status = .queued(notBefore: now)
        actions.append(.taskHandedBack(taskID: failure.taskID, attempt: failure.attempt, message: failure.message))
        actions.append(.log("task \(failure.taskID) attempt \(failure.attempt) handed back: \(failure.message)"))
    }

    // A result or failure also says the worker is free again.
    mutating func releaseLease(of peer: WorkerIdentity, taskID: String) {
        guard workers[peer] != nil else { return }
        if workers[peer]?.leasedTaskID == taskID { workers[peer]?.leasedTaskID = nil }
        workers[peer]?.isReady = true
    }

    func isCurrent(taskID: String, attempt: Int, peer: WorkerIdentity) -> Bool {
        guard let index = indexByID[taskID] else { return false }
        return entries[index].status == .leased(peer, attempt: attempt)
    }

    /// Ends the current attempt of a task: retried after a doubling delay, or abandoned.
    mutating func endAttempt(_ index: Int, message: String, lost: Bool = false, now: Double,
                                     _ actions: inout [CoordinatorAction]) {
        let entry = entries[index]
        if case .leased(let peer, _) = entry.status, workers[peer]?.leasedTaskID == entry.task.id { workers[peer]?.leasedTaskID = nil }
        actions.append(lost ? .taskLost(taskID: entry.task.id, attempt: entry.lastAttempt, message: message)
                            : .taskFailed(taskID: entry.task.id, attempt: entry.lastAttempt, message: message))
        if entry.attemptsThisRun >= maxAttempts {
            entries[index].status = .abandoned
            actions.append(.taskAbandoned(taskID: entry.task.id))
            actions.append(.log("task \(entry.task.id) abandoned after \(entry.attemptsThisRun) attempts; last: \(message)"))
        } else {
            let delay = retryDelay(afterAttempts: entry.attemptsThisRun)
            entries[index].status = .queued(notBefore: now + delay)
            actions.append(.log("task \(entry.task.id) attempt \(entry.lastAttempt) failed (\(message)); retry in \(delay) s"))
        }
    }

    /// Tells every known worker to exit (the last stage is over) and forgets them.
    public mutating func shutdownAll(reason: String, now: Double) -> [CoordinatorAction] {
        var actions: [CoordinatorAction] = []
        for peer in workerOrder {
            send(.shutdown(Shutdown(reason: reason)), to: peer, now: now, &actions)
        }
        for peer in workerOrder { forget(peer) }
        return actions
    }

    public func retryDelay(afterAttempts attempts: Int) -> Double {
        var delay = retryInitialDelay
        for _ in 1..<max(attempts, 1) where delay < retryMaximumDelay { delay *= 2 }
        return min(delay, retryMaximumDelay)
    }

    private mutating func expireSilentWorkers(now: Double, _ actions: inout [CoordinatorAction]) {
        let limit = Double(liveness) * heartbeatInterval
        for peer in workerOrder {
            guard let worker = workers[peer], now - worker.lastHeard >= limit else { continue }
            let silence = "worker \(worker.hello.workerID) on \(worker.hello.host) silent for \(now - worker.lastHeard) s"
            if let taskID = worker.leasedTaskID, let index = indexByID[taskID] {
                loseLease(index, of: peer, message: "\(silence); its lease is lost", now: now, &actions)
            }
            actions.append(.log("\(silence); dropped"))
            forget(peer)
        }
    }

    /// A peer whose connection is gone: a task that never reached it goes
    /// straight back to the queue without using up an attempt; one it was
    /// training has lost its lease, as if the peer had gone silent.
    private mutating func dropUnreachable(_ peer: WorkerIdentity, taskUndelivered: Bool, now: Double,
                                          _ actions: inout [CoordinatorAction]) {
        guard let worker = workers[peer] else { return }
        let name = "worker \(worker.hello.workerID) on \(worker.hello.host)"
        if let taskID = worker.leasedTaskID, let index = indexByID[taskID], case .leased(peer, let attempt) = entries[index].status {
            if taskUndelivered {
                entries[index].attemptsThisRun -= 1
                entries[index].status = .queued(notBefore: now)
                actions.append(.taskHandedBack(taskID: taskID, attempt: attempt, message: "\(name) disconnected before the task reached it"))
            } else {
                loseLease(index, of: peer, message: "\(name) disconnected; its lease is lost", now: now, &actions)
            }
        }
        actions.append(.log("\(name) disconnected; dropped (it says hello again when it reconnects)"))
        forget(peer)
    }

    private mutating func sendHeartbeats(now: Double, _ actions: inout [CoordinatorAction]) {
        for peer in workerOrder where now - (workers[peer]?.lastSent ?? now) >= heartbeatInterval {
            send(.heartbeat, to: peer, now: now, &actions)
        }
    }

    private mutating func assignIdleWorkers(now: Double, _ actions: inout [CoordinatorAction]) {
        guard !isDraining else { return }
        for peer in workerOrder {
            guard let worker = workers[peer], worker.isReady, worker.leasedTaskID == nil else { continue }
            if let index = entries.firstIndex(where: { if case .queued(let notBefore) = $0.status { notBefore <= now } else { false } }) {
                entries[index].lastAttempt += 1
                entries[index].attemptsThisRun += 1
                let attempt = entries[index].lastAttempt, task = entries[index].task
                entries[index].status = .leased(peer, attempt: attempt)
                workers[peer]?.leasedTaskID = task.id
                workers[peer]?.leaseProgressed = false
                actions.append(.taskStarted(taskID: task.id, attempt: attempt, workerID: worker.hello.workerID))
                let input = inputsByTask[task.id]
                send(.task(TaskAssignment(task: task, attempt: attempt, extras: input?.extras, teacher: input?.teacher ?? [])),
                     to: peer, now: now, &actions)
            } else if isFinished, !holdsWorkers {
                send(.shutdown(Shutdown(reason: "all tasks are finished")), to: peer, now: now, &actions)
                forget(peer)
            }
        }
    }

    mutating func send(_ message: Message, to peer: WorkerIdentity, now: Double, _ actions: inout [CoordinatorAction]) {
        workers[peer]?.lastSent = now
        actions.append(.send(peer, message))
    }

    mutating func forget(_ peer: WorkerIdentity) {
        workers[peer] = nil
        workerOrder.removeAll { $0 == peer }
    }

    private func name(_ peer: WorkerIdentity) -> String { workers[peer]?.hello.workerID ?? peer.description }
}
