import ArgumentParser
import Foundation
import Pipeline

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every prediction set of an experiment as .npy, plus an OOF CSV, under DIR/export/.")

    @Argument(help: "The experiment directory (default: the current one, or the only one under runs/).")
    var dir: String?

    func run() throws {
        let directory = try ExperimentDirectory.locate(dir)
        let sets = try ResultCatalog.open(directory).base
        guard !sets.isEmpty else {
            throw PipelineError(message: "no prediction set of \(directory.url.path) is complete yet (every fold of at least one seed)",
                                fix: "wait for the run, or see `foldwise status \(directory.url.path)`")
        }
        for path in try ExperimentExport(directory: directory).write(sets) { print(path) }
    }
}
