import Datasets
import Foundation
import Storage

/// An experiment directory: the database, the common files `PredictionFiles`
/// writes (labels, folds, ids, class names, the sample submission), logs and exports.
public struct ExperimentDirectory: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url.standardizedFileURL }
    public var database: URL { url.appendingPathComponent("experiment.sqlite") }
    public var logs: URL { url.appendingPathComponent("logs") }
    public var export: URL { url.appendingPathComponent("export") }
    public var sampleSubmission: URL { url.appendingPathComponent("sample_submission.csv") }
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The directory's database and its experiment; a database without one is a user error.
    /// `forReading`: a read-only folder is read through a private copy (`status` on a copy of a finished run).
    public func openExperiment(forReading: Bool = false) throws -> (database: ExperimentDatabase, experiment: ExperimentRecord, id: Int64) {
        let database = try forReading ? ExperimentDatabase.openForReading(at: self.database) : ExperimentDatabase.open(at: self.database)
        guard let experiment = try database.experiments().last, let id = experiment.id else {
            throw PipelineError(message: "\(self.database.path) holds no experiment yet", fix: "start one with `foldwise run`")
        }
        return (database, experiment, id)
    }

    /// The train labels in train_ids.csv order.
    public func labels() throws -> [Int] { try NPY.read(file("labels.npy")).integers ?? [] }

    /// The class names in label order.
    public func classNames() throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(contentsOf: file("classes.json")))
    }

    /// The fold of every train row under CV seed `seed`.
    public func folds(seed: Int) throws -> [Int] { try NPY.read(file("folds_seed\(seed).npy")).integers ?? [] }

    public func trainIDs() throws -> [String] { try lines(of: "train_ids.csv") }
    public func testIDs() throws -> [String] { try lines(of: "test_ids.csv") }

    private func lines(of name: String) throws -> [String] {
        try String(contentsOf: file(name), encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
    }

    /// DIR when given; else the current folder when it holds an experiment;
    /// else the only experiment under runs/.
    public static func locate(_ path: String?) throws -> ExperimentDirectory {
        let fm = FileManager.default
        if let path {
            let directory = ExperimentDirectory(URL(fileURLWithPath: path))
            guard fm.fileExists(atPath: directory.database.path) else {
                throw PipelineError(message: "\(path) holds no experiment database (experiment.sqlite)",
                                    fix: "pass the --dir of a `foldwise run` or `foldwise coordinator`")
            }
            return directory
        }
        let here = ExperimentDirectory(URL(fileURLWithPath: fm.currentDirectoryPath))
        if fm.fileExists(atPath: here.database.path) { return here }
        let runs = (try? fm.contentsOfDirectory(atPath: "runs")) ?? []
        let candidates = runs.sorted().map { ExperimentDirectory(URL(fileURLWithPath: "runs/\($0)")) }
            .filter { fm.fileExists(atPath: $0.database.path) }
        guard candidates.count == 1 else {
            throw PipelineError(message: candidates.isEmpty ? "no experiment here or under runs/"
                                    : "several experiments under runs/: \(candidates.map { $0.url.lastPathComponent }.joined(separator: ", "))",
                                fix: "name the experiment directory, e.g. `foldwise status runs/digits`")
        }
        return candidates[0]
    }
}
