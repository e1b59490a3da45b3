import Foundation

/// What `submission.csv` holds in its value columns. `auto` follows the metric:
/// probabilities for a metric that scores them (roc_auc, log_loss), the
/// predicted class for one that scores labels (accuracy, macro_f1).
public enum SubmissionFormat: String, Sendable, Equatable, Codable, CaseIterable {
    case auto, label, probabilities
}

/// How `foldwise submit` writes the submission. The sample submission's values
/// are placeholders (often all `0`), so the format is never guessed from them.
/// Left out of the manifest's hash (it changes no model), and out of the
/// canonical JSON while it is the default, so older experiments read the same.
public struct SubmissionSection: Sendable, Equatable, Codable {
    public var format: SubmissionFormat

    public init(format: SubmissionFormat = .auto) { self.format = format }
}

extension SubmissionSection {
    static let keys = ["format"]

    static func read(_ value: ValueNode?) throws -> SubmissionSection {
        guard let value else { return SubmissionSection() }
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`submission`")
        var section = SubmissionSection()
        if let node = map.optional("format") {
            section.format = try node.choice(SubmissionFormat.self, what: "submission format")
        }
        return section
    }
}
