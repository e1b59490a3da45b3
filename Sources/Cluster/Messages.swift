/// The typed messages of the Foldwise wire protocol; `Protocol.swift` maps them to frames.

/// Worker → coordinator, first message after connecting.
public struct Hello: Sendable, Hashable, Codable {
    public var protocolVersion: Int
    public var workerID: String
    public var host: String
    public var threads: Int
    public var datasetFingerprint: String
    /// The `identity` of the manifest offer the worker loaded its data for (the
    /// manifest hash, plus its files' digests when it came with files); nil
    /// before it has one. A coordinator answers any other value with its manifest.
    public var manifestHash: String?
    public init(protocolVersion: Int, workerID: String, host: String, threads: Int, datasetFingerprint: String,
                manifestHash: String? = nil) {
        (self.protocolVersion, self.workerID, self.host) = (protocolVersion, workerID, host)
        (self.threads, self.datasetFingerprint, self.manifestHash) = (threads, datasetFingerprint, manifestHash)
    }
}

/// The coordinator's manifest, sent to a worker that has not loaded it: the
/// canonical JSON, its hash, and the folder relative data paths resolve from.
public struct ManifestOffer: Sendable, Hashable, Codable {
    public var hash: String
    public var json: String
    public var directory: String
    /// Files the manifest names that a worker need not have (fine-tuning
    /// checkpoints); nil: none. Their bytes are `contents`, in this order.
    public var files: [ShippedFile]?
    /// The files' bytes: the welcome's payload frames, not part of its header.
    public var contents: [[UInt8]] = []
    /// The coordinator's image digests, 16 hex digits each, train then test in
    /// CSV order (`ImageDigests`): a worker whose images differ names the first.
    public var imageDigests: String?

    enum CodingKeys: String, CodingKey { case hash, json, directory, files, imageDigests }

    /// `imageDigests` as numbers; an unreadable group of digits reads as 0 (it then differs).
    public static func digests(_ text: String) -> [UInt64] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 16).map { start in
            UInt64(String(decoding: digits[start..<min(start + 16, digits.count)], as: UTF8.self), radix: 16) ?? 0
        }
    }

    /// The manifest hash, and when files come with it the FNV-1a digest of their
    /// paths and digests: a worker that loaded another checkpoint at the same path
    /// (a coordinator restarted with a rewritten file) is sent the offer again.
    public var identity: String {
        guard let files, !files.isEmpty else { return hash }
        return hash + "+" + ShippedFile.digest(Array(files.map { "\($0.path)\u{0}\($0.digest)" }.joined(separator: "\u{0}").utf8))
    }

    public init(hash: String, json: String, directory: String, files: [(path: String, contents: [UInt8])] = []) {
        (self.hash, self.json, self.directory) = (hash, json, directory)
        if !files.isEmpty {
            self.files = files.map { ShippedFile(path: $0.path, contents: $0.contents) }
            contents = files.map(\.contents)
        }
    }
}

/// Short, for logs: a worker's state holds the offer, and its files may be megabytes.
extension ManifestOffer: CustomStringConvertible {
    public var description: String {
        let files = files ?? []
        return "manifest \(hash)" + (files.isEmpty ? "" : " with \(files.count) file(s), \(files.map(\.bytes).reduce(0, +)) bytes")
    }
}

/// A file that travels with the manifest: its path as the manifest writes it,
/// its size and the FNV-1a digest of its bytes (16 hex digits), which the
/// receiving side checks.
public struct ShippedFile: Sendable, Hashable, Codable {
    public var path: String
    public var bytes: Int
    public var digest: String

    public init(path: String, bytes: Int, digest: String) {
        (self.path, self.bytes, self.digest) = (path, bytes, digest)
    }

    public init(path: String, contents: [UInt8]) {
        self.init(path: path, bytes: contents.count, digest: Self.digest(contents))
    }

    public static func digest(_ contents: [UInt8]) -> String {
        let digits = String(ClusterTask.fnv1a64(contents), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Coordinator → worker, the answer to a hello: with `manifest` set the worker
/// must load that manifest's data and say hello again; without, it is admitted.
public struct Welcome: Sendable, Hashable, Codable {
    public var workerID: String
    public var heartbeatInterval: Double
    public var manifest: ManifestOffer?
    public init(workerID: String, heartbeatInterval: Double, manifest: ManifestOffer? = nil) {
        (self.workerID, self.heartbeatInterval, self.manifest) = (workerID, heartbeatInterval, manifest)
    }
}

/// What a task of a later stage trains with beyond its fold: pseudo-labelled
/// test rows and, for a distilled student, the teacher's soft targets (which
/// travel as the task message's payload frames: [train rows, K] then [test rows, K]).
public struct TaskExtras: Sendable, Hashable, Codable {
    public var pseudoRows: [Int]
    public var pseudoLabels: [Int]
    public var temperature: Float?
    public var alpha: Float?
    public init(pseudoRows: [Int] = [], pseudoLabels: [Int] = [], temperature: Float? = nil, alpha: Float? = nil) {
        (self.pseudoRows, self.pseudoLabels, self.temperature, self.alpha) = (pseudoRows, pseudoLabels, temperature, alpha)
    }
}

/// Coordinator → worker: train this task; `attempt` tells a late result from a current one.
public struct TaskAssignment: Sendable, Codable {
    public var task: ClusterTask
    public var attempt: Int
    public var extras: TaskExtras?
    /// The teacher's probabilities for a distilled student: on every train row (its OOF) and on the test rows.
    public var teacher: [Payload]
    /// The shapes a decoded header announces for the teacher frames (`Message.decode` checks them).
    var announcedShapes: [[Int]] = []
    public var taskID: String { task.id }
    public init(task: ClusterTask, attempt: Int, extras: TaskExtras? = nil, teacher: [Payload] = []) {
        (self.task, self.attempt, self.extras, self.teacher) = (task, attempt, extras, teacher)
    }

    enum CodingKeys: String, CodingKey { case taskID, attempt, extras, shapes }

    // The task's fields and the id share one flat JSON object; a header whose id
    // does not match its fields was built by a different id rule and is refused.
    // The teacher's arrays are payload frames; the header names their shapes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try ClusterTask(from: decoder)
        attempt = try container.decode(Int.self, forKey: .attempt)
        extras = try container.decodeIfPresent(TaskExtras.self, forKey: .extras)
        teacher = []
        announcedShapes = try container.decodeIfPresent([[Int]].self, forKey: .shapes) ?? []
        let sentID = try container.decode(String.self, forKey: .taskID)
        guard sentID == task.id else {
            throw DecodingError.dataCorruptedError(forKey: .taskID, in: container,
                debugDescription: "taskID \(sentID) does not match the task's fields (their id is \(task.id))")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try task.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(attempt, forKey: .attempt)
        try container.encodeIfPresent(extras, forKey: .extras)
        if !teacher.isEmpty { try container.encode(teacher.map(\.shape), forKey: .shapes) }
    }
}

extension TaskAssignment: Hashable {
    public static func == (a: TaskAssignment, b: TaskAssignment) -> Bool {
        (a.task, a.attempt, a.extras, a.teacher) == (b.task, b.attempt, b.extras, b.teacher)
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(task)
        hasher.combine(attempt)
        hasher.combine(extras)
        hasher.combine(teacher)
    }
}

/// Worker → coordinator after each epoch; doubles as a heartbeat.
public struct TaskProgress: Sendable, Hashable, Codable {
    public var taskID: String
    public var attempt: Int
    public var epoch: Int
    public var epochs: Int
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationScore: Double
    public var learningRate: Double
    public var seconds: Double
    public init(taskID: String, attempt: Int, epoch: Int, epochs: Int, trainLoss: Double, validationLoss: Double,
                validationScore: Double, learningRate: Double, seconds: Double) {
        (self.taskID, self.attempt, self.epoch, self.epochs) = (taskID, attempt, epoch, epochs)
        (self.trainLoss, self.validationLoss, self.validationScore) = (trainLoss, validationLoss, validationScore)
        (self.learningRate, self.seconds) = (learningRate, seconds)
    }
}

/// A Float32 array with its shape: one binary payload frame on the wire (a distilled task's teacher).
public struct Payload: Sendable, Hashable {
    public let shape: [Int]
    public let scalars: [Float]
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == scalars.count,
                     "payload shape \(shape) does not hold \(scalars.count) scalars")
        (self.shape, self.scalars) = (shape, scalars)
    }
}

// Worker → coordinator, a finished task's predictions: `TaskResult` (ResultMessage.swift).

/// Worker → coordinator: the task could not be trained, or (`handedBack`) the
/// worker is stopping and returns it untouched, which does not use up an attempt.
public struct TaskFailure: Sendable, Hashable, Codable {
    public var taskID: String
    public var attempt: Int
    public var message: String
    public var handedBack: Bool?
    public init(taskID: String, attempt: Int, message: String, handedBack: Bool? = nil) {
        (self.taskID, self.attempt, self.message, self.handedBack) = (taskID, attempt, message, handedBack)
    }
}

/// Coordinator → worker: stop this attempt, its lease is gone; with `reason`
/// (a refused result), why the attempt failed, which the worker logs.
public struct TaskCancel: Sendable, Hashable, Codable {
    public var taskID: String
    public var attempt: Int
    public var reason: String?
    public init(taskID: String, attempt: Int, reason: String? = nil) {
        (self.taskID, self.attempt, self.reason) = (taskID, attempt, reason)
    }
}

/// Coordinator → worker: no work is left, exit.
public struct Shutdown: Sendable, Hashable, Codable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Coordinator → worker: this worker cannot join; the reason is printed on both sides.
public struct Reject: Sendable, Hashable, Codable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

public enum Message: Sendable, Hashable {
    case hello(Hello)
    case welcome(Welcome)
    case ready
    case task(TaskAssignment)
    case progress(TaskProgress)
    case result(TaskResult)
    case failure(TaskFailure)
    case heartbeat
    case cancel(TaskCancel)
    case shutdown(Shutdown)
    case reject(Reject)
}
