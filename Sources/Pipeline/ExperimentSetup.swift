import Datasets
import Ensemble
import Foundation
import Manifests
import Storage
import Training

extension ExperimentDirectory {
    /// Makes the folder an experiment of `manifest` on `data`: refuses a folder
    /// of another manifest or other data before the database is touched, then
    /// writes the common files (labels, folds, ids, class names) and the
    /// sample submission, and opens the database.
    public func prepare(manifest: Manifest, data: ExperimentData) throws -> ExperimentDatabase {
        try data.checkBeforeTraining(manifest)
        let files = try PredictionFiles(directory: url, manifest: manifest, dataFingerprint: data.fingerprint,
                                        images: data.imageDigests)
        try files.writeCommon(data: data, seeds: manifest.cv.seeds)
        try Self.writeSample(manifest: manifest, data: data, to: sampleSubmission)
        return try ExperimentDatabase.open(at: database)
    }

    /// The competition's sample submission, kept beside the database so
    /// `foldwise submit` works from DIR alone; without one (a test CSV instead),
    /// a sample with the id and label columns.
    static func writeSample(manifest: Manifest, data: ExperimentData, to target: URL) throws {
        let text: String
        if let sample = manifest.data.sampleSubmission {
            text = try String(contentsOf: manifest.resolve(sample), encoding: .utf8)
        } else {
            text = ([[manifest.data.idColumn, manifest.data.labelColumn].joined(separator: ",")]
                    + data.test.ids.map { "\($0),\(data.train.classNames[0])" }).joined(separator: "\n") + "\n"
        }
        try Data(text.utf8).write(to: target, options: .atomic)
    }
}

extension ExperimentData {
    /// What `validate` and `run` refuse before any task trains: folds the rows
    /// cannot fill, and a sample submission `foldwise submit` could not write.
    public func checkBeforeTraining(_ manifest: Manifest) throws {
        try checkFolds(manifest.cv)
        try checkSubmission(manifest)
    }

    /// The sample submission's columns against what `foldwise submit` would write
    /// (labels or probabilities for these classes).
    public func checkSubmission(_ manifest: Manifest) throws {
        guard let sample = manifest.data.sampleSubmission else { return }
        _ = try Submission(sample: manifest.resolve(sample), idColumn: manifest.data.idColumn, classNames: train.classNames,
                           probabilities: manifest.submission.format.writesProbabilities(for: Metric(manifest.metric)))
    }
}

extension ExperimentPipeline {
    /// A pipeline whose tasks train in this process (`InProcessRunner`): the
    /// directory prepared and the experiment registered as a coordinator does.
    public static func inProcess(manifest: Manifest, data: ExperimentData, directory: ExperimentDirectory,
                                 log: @escaping (String) -> Void = { _ in }) throws -> (pipeline: ExperimentPipeline, runner: InProcessRunner) {
        let database = try directory.prepare(manifest: manifest, data: data)
        let id = try database.registerExperiment(name: manifest.name, manifestJSON: manifest.canonicalJSON(),
                                                 hash: manifest.hash, dataFingerprint: data.fingerprint)
        let pipeline = ExperimentPipeline(manifest: manifest, directory: directory, database: database, experimentID: id,
                                          testLabels: data.testLabels, log: log)
        return (pipeline, InProcessRunner(manifest: manifest, data: data, database: database, experimentID: id))
    }
}
