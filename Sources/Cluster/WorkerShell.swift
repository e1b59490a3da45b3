import Foundation
import Manifests
import Training

/// Events that a training thread hands to the worker's poll loop, tagged with
/// the generation of the task that produced them: when a task is cancelled the
/// generation moves on and a late result of the old run is dropped.
final class TrainingInbox: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WorkerEvent] = []
    private var generation = 0

    /// Starts a new generation and returns it; events of older ones are dropped from now on.
    func nextGeneration() -> Int {
        lock.withLock {
            generation += 1
            events.removeAll()
            return generation
        }
    }

    func post(_ event: WorkerEvent, generation sender: Int) {
        lock.withLock { if sender == generation { events.append(event) } }
    }

    /// True once a newer generation started: the sender's work is no longer wanted.
    func isStale(_ sender: Int) -> Bool { lock.withLock { sender != generation } }

    func drain() -> [WorkerEvent] {
        lock.withLock {
            defer { events.removeAll() }
            return events
        }
    }
}

/// The manifest and data a worker trains with, set once loaded.
final class LoadedExperiment: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (manifest: Manifest, data: ExperimentData)?
    var current: (manifest: Manifest, data: ExperimentData)? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// A stop request from another thread (a signal handler), read by the poll loop.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: String?
    init() {}
    /// Asks the worker to hand back its task and exit.
    public func request(_ text: String) { lock.withLock { if reason == nil { reason = text } } }
    func take() -> String? { lock.withLock { defer { reason = nil }; return reason } }
}

/// A worker: a DEALER connected to the coordinator that drives `WorkerLogic`
/// and trains assigned tasks with `FoldRunner` on a background thread, so the
/// poll loop keeps heartbeating while a fold trains.
///
/// Started without a manifest it takes the coordinator's from the welcome and
/// loads its data, with the data folder mapped onto `dataRoot` when given.
/// A finished fold goes back as its `TaskPredictions` (every named set; the
/// wire layout is `ResultLayout`'s). Compute threads are the caller's setting
/// (`ComputeThreads.set`); `threads` is announced in the hello and used to decode images.
public final class WorkerShell {
    public let endpoint: String
    public let threads: Int
    public let dataRoot: URL?
    /// How long one poll waits for a message before the logic gets a tick.
    public var pollInterval = 0.1
    public private(set) var logic: WorkerLogic
    /// Why `run` returned, once the worker exited.
    public var exit: WorkerExit? {
        if case .exited(let exit) = logic.state { return exit }
        return nil
    }
    private let context: ZMQContext
    private let inbox = TrainingInbox()
    private let loaded = LoadedExperiment()
    /// While a task trains or data loads, the loop wakes this often so a result
    /// leaves within milliseconds of being posted (not after a whole poll interval).
    public var busyPollInterval = 0.005

    private var busyPollTimeout: Double {
        switch logic.state {
        case .working, .loading: min(pollInterval, busyPollInterval)
        default: pollInterval
        }
    }

    /// Hand it to another thread to stop this worker (SIGTERM).
    public let stop = StopRequest()
    private let log: @Sendable (String) -> Void
    private let configure: (ZMQSocket) throws -> Void
    private var socket: ZMQSocket?
    private var monitor: ZMQMonitor?
    private var reconnectAt: Double?
    /// The last handshake failure libzmq reported, told when its connection drops.
    private var handshakeDetail: String?
    /// Where the files that came with the manifest are kept, one folder per digest.
    public var fileCache = WorkerShell.defaultFileCache

    /// `$XDG_CACHE_HOME/foldwise/checkpoints`, else `~/.cache/foldwise/checkpoints`: the
    /// user's own cache (not a shared temporary folder another user could write into),
    /// holding one copy per distinct checkpoint whatever becomes of the workers.
    public static var defaultFileCache: URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? URL(fileURLWithPath: $0, isDirectory: true) : nil }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache", isDirectory: true)
        return base.appendingPathComponent("foldwise/checkpoints", isDirectory: true)
    }

    /// A worker that gets its manifest from the coordinator. `configure` runs on
    /// every new socket before it connects (CURVE keys: `ClientSecurity.apply`).
    public init(context: ZMQContext, endpoint: String, workerID: String,
                host: String = ProcessInfo.processInfo.hostName, threads: Int, dataRoot: URL? = nil,
                configure: @escaping (ZMQSocket) throws -> Void = { _ in },
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        // The coordinator's reasons are printed too: one printable line each.
        (self.context, self.endpoint, self.threads, self.dataRoot) = (context, endpoint, threads, dataRoot)
        self.log = { log(LogText.line($0)) }
        self.configure = configure
        logic = WorkerLogic(workerID: workerID, host: host, threads: threads)
    }

    /// A worker with its manifest and data already loaded (the coordinator must run the same manifest).
    public convenience init(context: ZMQContext, endpoint: String, manifest: Manifest, data: ExperimentData,
                            workerID: String, host: String = ProcessInfo.processInfo.hostName, threads: Int,
                            log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(context: context, endpoint: endpoint, workerID: workerID, host: host, threads: threads, log: log)
        loaded.current = (manifest, data)
        logic = WorkerLogic(workerID: workerID, host: host, threads: threads, datasetFingerprint: data.fingerprint,
                            manifestHash: manifest.hash)
    }

    /// Runs until the coordinator shuts this worker down or rejects it, or a
    /// stop is requested (returns the reason), or `deadline` passes (returns nil).
    /// `exit` then says why, typed.
    public func run(until deadline: Date = .distantFuture) throws -> String? {
        // An exiting worker's last words (a task handed back) get a second to leave.
        defer { close(linger: exit == nil ? 0 : 1) }
        try connect()
        var actions = logic.handle(.connected, now: Self.now())
        while true {
            try perform(actions)
            if case .exited(let exit) = logic.state { return exit.reason }
            if Date() >= deadline {
                _ = inbox.nextGeneration()
                return nil
            }
            actions = try nextEvents()
        }
    }

    // Waits up to one poll interval for a message, then hands the logic what
    // arrived, what the training thread posted, a stop request and a tick.
    private func nextEvents() throws -> [WorkerAction] {
        var actions: [WorkerAction] = []
        if let socket {
            // A CURVE coordinator that does not know this worker's key never answers; its refusal shows here.
            while let event = try monitor?.nextEvent(timeout: 0) {
                switch event {
                case .handshakeFailed(let failure) where failure.refusedByPeer:
                    actions += logic.handle(.received(.reject(Reject(reason: failure.description))), now: Self.now())
                case .handshakeFailed(let failure):
                    handshakeDetail = failure.description
                case .disconnected:
                    // Only a drop that follows a failed handshake says the keys are wrong.
                    if let detail = handshakeDetail { actions += logic.handle(.handshakeFailed(detail: detail), now: Self.now()) }
                    handshakeDetail = nil
                }
            }
            if let frames = try socket.receive(timeout: busyPollTimeout) {
                do {
                    actions += logic.handle(.received(try Message.decode(frames)), now: Self.now())
                } catch {
                    log("dropped a malformed message from the coordinator: \(error)")
                }
            }
        } else {
            Thread.sleep(forTimeInterval: pollInterval)
            if let reconnectAt, Self.now() >= reconnectAt {
                self.reconnectAt = nil
                try connect()
                actions += logic.handle(.connected, now: Self.now())
            }
        }
        for event in inbox.drain() { actions += logic.handle(event, now: Self.now()) }
        if let reason = stop.take() { actions += logic.handle(.stopRequested(reason: reason), now: Self.now()) }
        actions += logic.handle(.tick, now: Self.now())
        return actions
    }

    private func perform(_ actions: [WorkerAction]) throws {
        for action in actions {
            switch action {
            case .send(let message):
                do {
                    try socket?.send(frames: message.encode())
                } catch {
                    // A lost message is the protocol's business: heartbeats and liveness recover it.
                    log("could not send \(message.command) to \(endpoint): \(error)")
                }
            case .loadManifest(let offer):
                startLoading(offer)
            case .startTask(let assignment):
                startTraining(assignment)
            case .cancelTask:
                _ = inbox.nextGeneration()
            case .reconnect(let delay):
                close()
                reconnectAt = Self.now() + delay
            case .exit(let exit):
                log(exit.reason)
            case .log(let line):
                log(line)
            }
        }
    }

    /// Loads the offered manifest's data on a background thread (the poll loop stays responsive).
    private func startLoading(_ offer: ManifestOffer) {
        let generation = inbox.nextGeneration()
        let (inbox, loaded, dataRoot, threads, folder) = (inbox, loaded, dataRoot, threads, fileCache)
        Thread {
            do {
                var manifest = try Manifest.fromCanonicalJSON(offer.json)
                manifest.file = URL(fileURLWithPath: offer.directory, isDirectory: true).appendingPathComponent("manifest.yaml")
                if let dataRoot { manifest = manifest.mappingDataFolder(to: dataRoot) }
                manifest.localCopies = try Self.store(offer, in: folder)
                guard manifest.hash == offer.hash else {
                    return inbox.post(.manifestFailed("the manifest arrived with hash \(manifest.hash), the coordinator's is \(offer.hash); run the same Foldwise release on both machines"), generation: generation)
                }
                let data = try ExperimentData(manifest: manifest, threads: threads)
                try FoldRunner(manifest: manifest, data: data).checkModels()
                loaded.current = (manifest, data)
                let difference = offer.imageDigests.flatMap { data.imageDigests.firstDifference(from: ManifestOffer.digests($0)) }
                inbox.post(.manifestLoaded(hash: offer.identity, datasetFingerprint: data.fingerprint, difference: difference),
                           generation: generation)
            } catch {
                let hint = dataRoot == nil ? "; if this machine keeps the data elsewhere, pass --data-root" : ""
                inbox.post(.manifestFailed("\(error)\(hint)"), generation: generation)
            }
        }.start()
    }

    /// Writes the files that came with the manifest (already checked against
    /// their digests) under `folder`, one subfolder per digest: path → copy.
    /// Each write is atomic, so workers on one machine may write the same file at once.
    public static func store(_ offer: ManifestOffer, in folder: URL) throws -> [String: URL] {
        var copies: [String: URL] = [:]
        for (file, contents) in zip(offer.files ?? [], offer.contents) {
            let name = URL(fileURLWithPath: file.path).lastPathComponent
            let copy = folder.appendingPathComponent(file.digest, isDirectory: true).appendingPathComponent(name)
            try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents).write(to: copy, options: .atomic)
            copies[file.path] = copy
        }
        return copies
    }

    private func startTraining(_ assignment: TaskAssignment) {
        let generation = inbox.nextGeneration()
        let fold = assignment.task.fold
        guard let (manifest, data) = loaded.current, assignment.task.manifestHash == manifest.hash else {
            return inbox.post(.taskFailed("task \(assignment.taskID) belongs to manifest \(assignment.task.manifestHash), this worker has not loaded it"), generation: generation)
        }
        guard let spec = manifest.model(named: fold.model) else {
            return inbox.post(.taskFailed("task \(assignment.taskID) names model \(fold.model), which the manifest does not define"), generation: generation)
        }
        let inputs: TaskInputs
        do {
            inputs = try Self.inputs(of: assignment)
            try inputs.validate(trainRows: data.train.ids.count, testRows: data.test.ids.count, classes: data.classes)
        } catch {
            return inbox.post(.taskFailed("task \(assignment.taskID): \(error)"), generation: generation)
        }
        let (inbox, epochs) = (inbox, spec.epochs)
        let thread = Thread {
            let runner = FoldRunner(manifest: manifest, data: data)
            let result = runner.run(fold, inputs: inputs, progress: { progress in
                guard case .epoch(let record) = progress else { return }
                inbox.post(.taskProgress(record, epochs: epochs), generation: generation)
            }, isCancelled: { inbox.isStale(generation) })
            guard let result else { return }
            let predictions = TaskPredictions(result)
            // A diverged model is this task's failure, not a result for the coordinator to refuse (a strike against the worker).
            if let violation = predictions.violation(of: .multiclass) {
                return inbox.post(.taskFailed("task \(assignment.taskID): \(violation)"), generation: generation)
            }
            inbox.post(.taskFinished(score: result.score, predictions: predictions), generation: generation)
        }
        // Training recurses through the layers; give it a main-thread-sized stack.
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// What a later stage's task trains with: its pseudo rows and the teacher's arrays.
    static func inputs(of assignment: TaskAssignment) throws -> TaskInputs {
        guard let extras = assignment.extras else { return .none }
        let header = TaskInputs.Header(pseudoRows: extras.pseudoRows, pseudoLabels: extras.pseudoLabels,
                                       temperature: extras.temperature, alpha: extras.alpha)
        let teacher = assignment.teacher.map(\.scalars)
        return try TaskInputs(header: header, teacherTrain: teacher.first, teacherTest: teacher.count > 1 ? teacher[1] : nil)
    }

    private func connect() throws {
        let socket = try ZMQSocket(context: context, kind: .dealer)
        // A send must never block the loop that keeps heartbeats flowing.
        try socket.setSendTimeout(seconds: 1)
        try socket.setMaximumMessageSize(bytes: FrameLimit.worker)
        try configure(socket)
        monitor = try socket.monitorHandshakeFailures(andDisconnects: true)
        try socket.connect(endpoint)
        self.socket = socket
    }

    private func close(linger: Double = 0) {
        monitor?.close()
        monitor = nil
        if linger > 0 { try? socket?.setLinger(seconds: linger) }
        socket?.close()
        socket = nil
    }

    static func now() -> Double { ProcessInfo.processInfo.systemUptime }
}
