import Foundation

/// How a distributed run treats failures and silence: retries with backoff and heartbeat liveness.
/// None of it changes what is trained, so it is left out of the manifest's `hash`: raising
/// `maxAttempts` to retry failed tasks keeps an experiment's finished results.
public struct ClusterSection: Sendable, Equatable, Codable {
    /// Attempts per task, the first included, before the task is given up.
    public var maxAttempts: Int
    /// Seconds between heartbeats that the coordinator and its workers exchange.
    public var heartbeatInterval: Double
    /// Heartbeat intervals without a word after which a peer counts as lost.
    public var liveness: Int
    /// Seconds before the first retry of a task; each further retry waits twice as long.
    public var retryDelay: Double
    /// The longest wait before a retry, however many attempts have failed.
    public var maxRetryDelay: Double

    public init(maxAttempts: Int = 3, heartbeatInterval: Double = 1.0, liveness: Int = 3,
                retryDelay: Double = 1.0, maxRetryDelay: Double = 60) {
        self.maxAttempts = maxAttempts
        self.heartbeatInterval = heartbeatInterval
        self.liveness = liveness
        self.retryDelay = retryDelay
        self.maxRetryDelay = maxRetryDelay
    }
}

extension ClusterSection {
    static let keys = ["max_attempts", "heartbeat_interval", "liveness", "retry_delay", "max_retry_delay"]

    static func read(_ value: ValueNode?) throws -> ClusterSection {
        guard let value else { return ClusterSection() }
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`cluster`")
        var cluster = ClusterSection()
        if let node = map.optional("max_attempts") {
            cluster.maxAttempts = try node.int()
            try node.require(cluster.maxAttempts >= 1, "`max_attempts` must be >= 1, found \(cluster.maxAttempts)",
                             fix: "write e.g. max_attempts: 3 (1 means a failed task is never retried)")
        }
        if let node = map.optional("heartbeat_interval") {
            cluster.heartbeatInterval = try node.seconds()
            try node.require(cluster.heartbeatInterval > 0,
                             "`heartbeat_interval` must be > 0 seconds, found \(cluster.heartbeatInterval)",
                             fix: "write e.g. heartbeat_interval: 1.0")
        }
        if let node = map.optional("liveness") {
            cluster.liveness = try node.int()
            try node.require(cluster.liveness >= 2, "`liveness` must be >= 2, found \(cluster.liveness)",
                             fix: "write e.g. liveness: 3; one missed heartbeat alone is too easily a delay")
        }
        try readRetryDelays(map, into: &cluster)
        return cluster
    }

    private static func readRetryDelays(_ map: MappingReader, into cluster: inout ClusterSection) throws {
        let delayNode = map.optional("retry_delay")
        if let node = delayNode {
            cluster.retryDelay = try node.seconds()
            try node.require(cluster.retryDelay >= 0, "`retry_delay` must be >= 0 seconds, found \(cluster.retryDelay)",
                             fix: "write e.g. retry_delay: 1.0, or 0 to retry at once")
        }
        let maximumNode = map.optional("max_retry_delay")
        if let node = maximumNode {
            cluster.maxRetryDelay = try node.seconds()
        }
        // Blame the key the user wrote: the maximum when given, else the delay that outgrew its default.
        guard let node = maximumNode ?? delayNode, cluster.maxRetryDelay < cluster.retryDelay else { return }
        let maximum = maximumNode == nil ? "the default `max_retry_delay` \(cluster.maxRetryDelay)" : "`max_retry_delay`"
        throw node.error("\(maximum) is less than `retry_delay` \(cluster.retryDelay)",
                         fix: "write max_retry_delay: \(cluster.retryDelay) or more, or lower retry_delay")
    }
}

extension ValueNode {
    /// A finite number of seconds, read as a `Double` so `0.1` stays 0.1 in the canonical JSON.
    fileprivate func seconds() throws -> Double {
        do {
            return try double()
        } catch {
            throw self.error("expected a number of seconds, found \(found)", fix: "write a number without quotes or units, e.g. 1.5")
        }
    }
}
