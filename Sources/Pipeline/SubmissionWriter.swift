import Datasets
import Ensemble
import Foundation
import Manifests

extension ResultCatalog {
    /// Whether the submission carries probabilities (the metric scores them, or
    /// the manifest's `submission.format` asks) rather than labels.
    public var submitsProbabilities: Bool { manifest.submission.format.writesProbabilities(for: metric) }

    /// Writes DIR/submission.csv from `requested` (default: the best result by
    /// OOF score that fits the format), checked against the sample submission,
    /// and records the choice.
    public func writeSubmission(subject requested: String?) throws -> (subject: Subject, path: URL) {
        let board = try leaderboard()
        let subject: Subject
        if let requested {
            guard let named = self.subject(named: requested), try testPredictions(named) != nil else {
                throw PipelineError(message: "\(requested) is not a scored result of this experiment",
                                    fix: "pick one of: \(board.map(\.subject.name).joined(separator: ", "))")
            }
            subject = named
        } else {
            guard let best = board.first(where: { !submitsProbabilities || $0.subject.givesProbabilities })?.subject else {
                throw PipelineError(message: "nothing in \(directory.url.path) is scored yet", fix: "let `foldwise run` finish first")
            }
            subject = best
        }
        if submitsProbabilities && !subject.givesProbabilities {
            throw PipelineError(message: "\(subject.name) gives normalised ranks, not the probabilities a \(metric.rawValue) submission needs",
                                fix: "submit a base set, a probability blend or a stacker")
        }
        guard let test = try testPredictions(subject) else {
            throw PipelineError(message: "\(subject.name) has no test predictions", fix: "run `foldwise run` again to compute it")
        }
        let submission = try Submission(sample: directory.sampleSubmission, idColumn: manifest.data.idColumn, classNames: classNames,
                                        probabilities: submitsProbabilities)
        let target = directory.file("submission.csv")
        let text = try submission.csv(probabilities: test, classes: classes, testIDs: try directory.testIDs(), classNames: classNames)
        try submission.check(text, classNames: classNames, file: target)
        try Data(text.utf8).write(to: target, options: .atomic)
        let score = board.first { $0.subject == subject }?.score
        try database.record(SubmissionChoice(set: subject.name, path: target.path, score: score, probabilities: submitsProbabilities),
                            at: .submission, experimentID: experimentID)
        return (subject, target)
    }
}
