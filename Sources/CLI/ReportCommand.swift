import ArgumentParser
import Foundation
import Pipeline

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the leaderboard of every prediction set, blend and stacker by OOF score, and write DIR/report.html.",
        discussion: """
            The report is one self-contained HTML file (no scripts, fonts or images to fetch): the OOF \
            score of every scored subject, learning curves per model, seed and fold, each blend's \
            weights, and the confusion matrix of the final ensemble (the submission's choice, else the \
            best subject by OOF score).
            """)

    @Argument(help: "The experiment directory (default: the current one, or the only one under runs/).")
    var dir: String?

    func run() throws {
        let directory = try ExperimentDirectory.locate(dir)
        let data = try ReportSources(directory: directory).gather()
        let target = directory.url.appendingPathComponent("report.html")
        try Data(ReportHTML.render(data).utf8).write(to: target, options: .atomic)
        print(data.leaderboardText())
        print("report: \(target.path)")
    }
}
