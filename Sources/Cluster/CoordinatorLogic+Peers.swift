/// Lost leases, refused results and quarantine: what a peer's failures cost
/// (`PeerPolicy`), kept apart from the task bookkeeping in CoordinatorLogic.swift.
extension CoordinatorLogic {
    /// The peer lost its lease on task `index`. Without progress and while the
    /// run's free losses last the task goes straight back to the queue at no
    /// cost in attempts; otherwise the attempt ends as lost. Either way it is a strike.
    mutating func loseLease(_ index: Int, of peer: WorkerIdentity, message: String, now: Double,
                            _ actions: inout [CoordinatorAction]) {
        let progressed = workers[peer]?.leaseProgressed ?? true
        if !progressed, case .leased(peer, let attempt) = entries[index].status, standing.takeFreeLoss(policy: peerPolicy) {
            requeueFree(index, of: peer, attempt: attempt, now: now)
            let left = peerPolicy.freeLostLeases - standing.freeLossesUsed
            actions.append(.taskLost(taskID: entries[index].task.id, attempt: attempt,
                                     message: "\(message) before reporting progress; costs no attempt (\(left) such losses left this run)"))
        } else {
            endAttempt(index, message: message, lost: true, now: now, &actions)
        }
        strike(peer, why: message, now: now, &actions)
    }

    /// The task goes back to the queue as if this attempt had not started.
    private mutating func requeueFree(_ index: Int, of peer: WorkerIdentity, attempt: Int, now: Double) {
        if workers[peer]?.leasedTaskID == entries[index].task.id { workers[peer]?.leasedTaskID = nil }
        entries[index].attemptsThisRun -= 1
        entries[index].status = .queued(notBefore: now)
    }

    /// A result the shell refused: the attempt fails with the reason, the
    /// worker is told why (a cancel with the reason), and it is a strike.
    mutating func refuseResult(taskID: String, attempt: Int, reason: String, from peer: WorkerIdentity, now: Double,
                               _ actions: inout [CoordinatorAction]) {
        workers[peer]?.lastHeard = now
        releaseLease(of: peer, taskID: taskID)
        guard isCurrent(taskID: taskID, attempt: attempt, peer: peer), let index = indexByID[taskID] else {
            return actions.append(.log("ignored a refused stale result of task \(taskID) attempt \(attempt) from peer \(peer): \(reason)"))
        }
        let message = "result refused: \(reason)"
        // A real worker checks its own predictions first: a refused result is a lying or broken
        // peer's, so, like a phantom lease, it costs the task no attempt while the run's budget lasts.
        if standing.takeFreeLoss(policy: peerPolicy) {
            requeueFree(index, of: peer, attempt: attempt, now: now)
            let left = peerPolicy.freeLostLeases - standing.freeLossesUsed
            actions.append(.taskFailed(taskID: taskID, attempt: attempt,
                                       message: "\(message); costs no attempt (\(left) free losses left this run)"))
        } else {
            endAttempt(index, message: message, now: now, &actions)
        }
        send(.cancel(TaskCancel(taskID: taskID, attempt: attempt, reason: message)), to: peer, now: now, &actions)
        strike(peer, why: message, now: now, &actions)
    }

    /// Counts a strike against the peer's worker id; at the policy's limit the
    /// id and the connection are quarantined and a connected peer is refused.
    private mutating func strike(_ peer: WorkerIdentity, why: String, now: Double, _ actions: inout [CoordinatorAction]) {
        guard let hello = workers[peer]?.hello,
              let reason = standing.strike(hello.workerID, connection: peer, why: why, policy: peerPolicy) else { return }
        refuseQuarantined(peer, worker: "worker \(hello.workerID) on \(hello.host)", reason: reason, now: now, &actions)
    }

    /// Refuses a quarantined peer: logged, rejected with the reason, forgotten.
    mutating func refuseQuarantined(_ peer: WorkerIdentity, worker: String, reason: String, now: Double,
                                    _ actions: inout [CoordinatorAction]) {
        let message = "\(worker) is quarantined for the rest of this run: \(reason); fix the worker, then start the coordinator again"
        actions.append(.log(message))
        actions.append(.send(peer, .reject(Reject(reason: message))))
        forget(peer)
    }
}
