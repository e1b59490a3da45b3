import ArgumentParser
import Cluster
import Datasets
import Foundation
import Manifests
import Storage

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every prediction set of an experiment as .npy, plus an OOF CSV, under DIR/export/.")

    @Argument(help: "The experiment directory (default: the current one, or the only one under runs/).")
    var dir: String?

    func run() throws {
        let directory = try ExperimentDirectory.locate(dir)
        let (database, experiment, experimentID) = try directory.openExperiment()
        let manifest = try Manifest.fromCanonicalJSON(experiment.manifestJSON)
        let labelsFile = directory.url.appendingPathComponent("labels.npy")
        let trainRows = try NPY.read(labelsFile).shape.first ?? 0
        let sets = try ExperimentResults.assemble(database: database, experimentID: experimentID, folds: manifest.cv.folds,
                                                  trainRows: trainRows)
        guard !sets.isEmpty else {
            throw UserInputError(message: "no prediction set of \(directory.url.path) is complete yet (every fold of at least one seed)",
                                 fix: "wait for the run, or see `foldwise status \(directory.url.path)`")
        }
        for path in try ExperimentExport(directory: directory).write(sets) { print(path) }
    }
}
