import Foundation
import Kernels
import Manifests
import Pipeline
import Storage
import TestSupport
import Training

/// A temporary digits experiment whose stages run in this process: the same
/// pipeline `foldwise run` drives, with `InProcessRunner` in place of workers.
struct PipelineHarness {
    let dataset: TemporaryDataset
    let directory: ExperimentDirectory

    init(perClass: Int = 6, testRows: Int = 20) throws {
        // One compute thread: results must not depend on what an earlier test set.
        ComputeThreads.set(1)
        dataset = try TemporaryDataset.digits(perClass: perClass, testRows: testRows)
        directory = ExperimentDirectory(dataset.url("experiment"))
    }

    func remove() { dataset.remove() }

    /// Loads `yaml` (written beside the data) and runs every stage; returns the pipeline.
    @discardableResult
    func run(_ yaml: String, log: @escaping (String) -> Void = { _ in }) throws -> ExperimentPipeline {
        let manifest = try Manifest.load(try dataset.writeManifest(yaml))
        let data = try ExperimentData(manifest: manifest, threads: 1)
        let (pipeline, runner) = try ExperimentPipeline.inProcess(manifest: manifest, data: data, directory: directory, log: log)
        guard try pipeline.run(runner) else { throw HarnessError.stopped }
        return pipeline
    }

    /// The attempts every task has had, by task id (a trained task has one per training).
    func attempts(_ pipeline: ExperimentPipeline) throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try pipeline.database.tasks(experimentID: pipeline.experimentID).map { ($0.id, $0.attempts) })
    }

    /// Every recorded score by subject and key.
    func scores(_ pipeline: ExperimentPipeline) throws -> [String: Double] {
        Dictionary(uniqueKeysWithValues: try pipeline.database.scores(experimentID: pipeline.experimentID)
            .map { ("\($0.subject) \($0.metric)", $0.value) })
    }

    enum HarnessError: Error { case stopped }
}
