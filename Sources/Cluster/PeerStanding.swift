/// How much a coordinator forgives its peers. A lost lease of a peer that
/// never reported progress on it (it took the task and vanished), and a refused
/// result (a real worker checks its own first), cost the task no attempt while
/// the run's free losses last; every lost lease and refused
/// result is a strike against the worker id and its connection, and
/// `quarantineAfter` strikes in a row (no accepted result between them) refuse
/// both for the rest of the run. A peer that reconnects under new ids escapes
/// the quarantine but not the run-wide budget, so phantoms cannot use up
/// `max_attempts`: per id they cost at most `quarantineAfter` free leases, and
/// together at most `freeLostLeases`.
public struct PeerPolicy: Sendable, Hashable {
    /// Free lost leases (no progress) and refused results, all peers together, per run.
    public var freeLostLeases: Int
    /// Strikes in a row after which a worker id and its connection are refused.
    public var quarantineAfter: Int

    public init(freeLostLeases: Int = 64, quarantineAfter: Int = 3) {
        precondition(freeLostLeases >= 0 && quarantineAfter >= 1,
                     "PeerPolicy: freeLostLeases \(freeLostLeases) must be ≥ 0 and quarantineAfter \(quarantineAfter) ≥ 1")
        (self.freeLostLeases, self.quarantineAfter) = (freeLostLeases, quarantineAfter)
    }
}

/// The strikes and quarantines of one run, by worker id and connection.
struct PeerStanding: Sendable {
    /// Strikes in a row per worker id; an accepted result clears them.
    private(set) var strikes: [String: Int] = [:]
    /// Quarantined worker ids → why.
    private(set) var quarantinedIDs: [String: String] = [:]
    private(set) var quarantinedConnections: Set<WorkerIdentity> = []
    private(set) var freeLossesUsed = 0

    /// Takes one free lost lease when the budget has one left.
    mutating func takeFreeLoss(policy: PeerPolicy) -> Bool {
        guard freeLossesUsed < policy.freeLostLeases else { return false }
        freeLossesUsed += 1
        return true
    }

    /// Counts a strike; returns the quarantine reason when this one crosses the line.
    mutating func strike(_ workerID: String, connection: WorkerIdentity, why: String, policy: PeerPolicy) -> String? {
        let count = (strikes[workerID] ?? 0) + 1
        strikes[workerID] = count
        guard count >= policy.quarantineAfter, quarantinedIDs[workerID] == nil else { return nil }
        let reason = "\(count) lost leases or refused results in a row (last: \(why))"
        quarantinedIDs[workerID] = reason
        quarantinedConnections.insert(connection)
        return reason
    }

    mutating func clear(_ workerID: String) { strikes[workerID] = nil }

    /// Why this id or connection is refused, or nil when it is not.
    func quarantine(of workerID: String, connection: WorkerIdentity) -> String? {
        if let reason = quarantinedIDs[workerID] { return reason }
        return quarantinedConnections.contains(connection) ? "its connection belongs to a quarantined worker" : nil
    }
}
