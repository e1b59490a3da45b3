import Cluster
import Foundation
import Manifests
import Pipeline
import Storage
import Training

/// What `foldwise run` and `foldwise coordinator` share: an experiment
/// directory, a coordinator bound to an endpoint, and the pipeline that runs
/// its stages through that coordinator's workers.
struct CoordinatorSession {
    let manifest: Manifest
    let data: ExperimentData
    let directory: ExperimentDirectory
    /// Held for the process's life: one coordinator per experiment folder.
    let lock: ExperimentLock?
    let shell: CoordinatorShell
    let pipeline: ExperimentPipeline
    var database: ExperimentDatabase { shell.database }

    init(manifestPath: String, directory: String?, endpoint: String, threads: Int,
         configure: (ZMQSocket) throws -> Void = { _ in }, log: @escaping @Sendable (String) -> Void) throws {
        manifest = try Manifest.load(URL(fileURLWithPath: manifestPath))
        self.directory = ExperimentDirectory(URL(fileURLWithPath: directory ?? "runs/\(manifest.name)"))
        // Before anything is read or written: a second coordinator on this folder stops here.
        lock = try ExperimentLock.acquire(self.directory)
        // Images unchanged since the last run (path, size, time) are not read again to fingerprint them.
        data = try ExperimentData(manifest: manifest, threads: threads,
                                  digestCache: ImageDigests.read(self.directory.file(ImageDigests.fileName)))
        try FoldRunner(manifest: manifest, data: data).checkModels()
        let database = try self.directory.prepare(manifest: manifest, data: data)
        if let owner = lock?.owner { try database.recordOwner(owner) }
        let cluster = manifest.cluster
        shell = try CoordinatorShell(
            context: try ZMQContext(), endpoint: endpoint, manifest: manifest, dataFingerprint: data.fingerprint,
            database: database,
            settings: CoordinatorSettings(maxAttempts: cluster.maxAttempts, heartbeatInterval: cluster.heartbeatInterval,
                                          liveness: cluster.liveness, retryDelay: cluster.retryDelay,
                                          maxRetryDelay: cluster.maxRetryDelay,
                                          maximumFrameBytes: FrameLimit.coordinator(DataShape(data))),
            configure: configure, log: log)
        // Results are checked against this data's folds, classes and labels before they are stored.
        shell.reference = ResultReference(manifest: manifest, data: data)
        shell.offerImages(data.imageDigests)
        pipeline = ExperimentPipeline(manifest: manifest, directory: self.directory, database: database,
                                      experimentID: shell.experimentID, testLabels: data.testLabels, log: log)
    }

    var hasLaterStages: Bool { pipeline.stages.count > 1 }

    /// Serves every stage through the coordinator's workers. Returns false when
    /// `afterPoll` stopped it; run again, it resumes at the stage it reached.
    func runStages(afterPoll: @escaping (CoordinatorShell) -> Bool) throws -> Bool {
        guard try pipeline.run(CoordinatorRunner(shell: shell, classes: data.classes, afterPoll: afterPoll)) else { return false }
        try shell.shutdownWorkers()
        return true
    }

    /// Scores everything, writes the submission from the best result and exports the arrays.
    func finish() throws -> RunSummary { try pipeline.finish() }
}

/// A command's `--json` output: one object, snake_case keys, sorted, paths unescaped.
protocol JSONSummary: Encodable {}

extension RunSummary: JSONSummary {}

extension JSONSummary {
    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
