import ArgumentParser
import Foundation
import Pipeline

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Write DIR/submission.csv in the competition's format from a prediction set (default: the best by OOF score).")

    @Argument(help: "The experiment directory (default: the current one, or the only one under runs/).")
    var dir: String?

    @Option(help: "The set to submit, e.g. resnet/swa or blend/hillclimb (see `foldwise status`).")
    var set: String?

    func run() throws {
        let directory = try ExperimentDirectory.locate(dir)
        let catalog = try ResultCatalog.open(directory)
        let (subject, path) = try catalog.writeSubmission(subject: set)
        let score = try catalog.leaderboard().first { $0.subject == subject }?.score
        print("submission: \(path.path) from \(subject.name)" + (score.map { String(format: " (OOF %@ %.4f)", catalog.metric.rawValue, $0) } ?? ""))
    }
}
