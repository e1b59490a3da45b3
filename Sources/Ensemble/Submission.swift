import Datasets
import Foundation

/// A submission in the competition's own format, shaped by its
/// `sample_submission.csv`: its header (columns and their order) and its ids
/// (rows and their order). The sample's values are placeholders and never
/// read: whether to write labels or probabilities is the caller's choice
/// (the manifest's `submission.format`, by default from the metric).
///
/// Value columns, other than the id column:
/// - one column not named by a class: the predicted class's name, or for
///   probabilities of two classes the probability of class 1 (the second);
/// - one column per class, named by the class names (or, with two classes,
///   one column named by a class): each column's class probability, or for
///   labels a one-hot `1` in the predicted class's column and `0` elsewhere.
public struct Submission: Sendable {
    public enum Format: Sendable, Equatable {
        /// One column: the most probable class's name.
        case label(column: String)
        /// One column: the probability of class 1 of two.
        case positiveProbability(column: String)
        /// Columns named by classes: the probability of `classIndex[i]` in `columns[i]`.
        case probabilities(columns: [String], classIndex: [Int])
        /// Columns named by classes: 1 for the most probable class, 0 for the others.
        case oneHot(columns: [String], classIndex: [Int])
    }

    /// The sample's header as it is: the written file repeats it.
    public let header: [String]
    public let idColumn: String
    public let ids: [String]
    public let format: Format
    /// Where the id column is in `header`.
    private let idIndex: Int

    /// Reads the sample's header and ids and matches its value columns to the
    /// classes; `probabilities` asks for class probabilities instead of labels.
    public init(sample: URL, idColumn: String, classNames: [String], probabilities: Bool) throws {
        let csv = try CSVFile.load(sample)
        try csv.requireRows()
        let idIndex = try csv.column(idColumn, role: "id")
        (header, self.idColumn, self.idIndex) = (csv.header, idColumn, idIndex)
        ids = csv.rows.map { $0.fields[idIndex] }
        let values = csv.header.enumerated().filter { $0.offset != idIndex }.map(\.element)
        format = try Self.format(values: values, classNames: classNames, probabilities: probabilities, sample: sample)
    }

    private static func format(values: [String], classNames: [String], probabilities: Bool, sample: URL) throws -> Format {
        let indices = values.map { classNames.firstIndex(of: $0) }
        let perClass = !values.isEmpty && indices.allSatisfy { $0 != nil } && Set(values).count == values.count
            && (values.count == classNames.count || (values.count == 1 && classNames.count == 2))
        if perClass {
            let classIndex = indices.map { $0! }
            return probabilities ? .probabilities(columns: values, classIndex: classIndex)
                                 : .oneHot(columns: values, classIndex: classIndex)
        }
        guard values.count == 1 else {
            let unknown = values.filter { !classNames.contains($0) }
            throw DatasetError(file: sample.path,
                               message: "its columns \(values) are neither one value column nor one column per class (unknown: \(unknown), classes: \(classNames))",
                               fix: "use the competition's sample_submission.csv; the classes come from the train labels")
        }
        guard probabilities else { return .label(column: values[0]) }
        guard classNames.count == 2 else {
            throw DatasetError(file: sample.path,
                               message: "its one value column `\(values[0])` cannot hold the probabilities of \(classNames.count) classes",
                               fix: "write `submission: {format: label}` in the manifest to submit the predicted class, "
                                   + "or use a sample with one column per class named \(classNames.joined(separator: ", "))")
        }
        return .positiveProbability(column: values[0])
    }

    /// Whether the value columns hold probabilities (rather than labels or one-hot digits).
    public var writesProbabilities: Bool {
        switch format {
        case .positiveProbability, .probabilities: true
        case .label, .oneHot: false
        }
    }

    /// The CSV text for test probabilities [testIDs.count, classes] whose rows follow `testIDs`.
    public func csv(probabilities: [Float], classes: Int, testIDs: [String], classNames: [String]) throws -> String {
        let rowOf = Dictionary(testIDs.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        guard probabilities.count == testIDs.count * classes, probabilities.allSatisfy(\.isFinite) else {
            throw DatasetError(file: "", message: "the predictions hold \(probabilities.count) values, \(testIDs.count) test rows × \(classes) classes need \(testIDs.count * classes), all finite",
                               fix: "export the set again (`foldwise export`)")
        }
        let missing = ids.filter { rowOf[$0] == nil }
        guard missing.isEmpty else {
            throw DatasetError(file: "", message: "\(missing.count) ids of the sample submission have no prediction (first: \(missing[0]))",
                               fix: "train on the manifest whose test ids are the sample submission's")
        }
        var lines = [header.map(CSVFile.field).joined(separator: ",")]
        for id in ids {
            let row = rowOf[id]!
            let scores = Array(probabilities[row * classes..<(row + 1) * classes])
            let values = self.values(scores: scores, classNames: classNames)
            var fields = values
            fields.insert(CSVFile.field(id), at: idIndex)
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row's value fields, in the order of the sample's value columns.
    private func values(scores: [Float], classNames: [String]) -> [String] {
        let best = predictedClasses(scores, classes: scores.count)[0]
        switch format {
        case .label: return [CSVFile.field(classNames[best])]
        case .positiveProbability: return [String(scores[1])]
        case .probabilities(_, let classIndex): return classIndex.map { String(scores[$0]) }
        case .oneHot(_, let classIndex): return classIndex.map { $0 == best ? "1" : "0" }
        }
    }
}

extension Submission {
    /// Reads a written submission back and checks it against the sample: its
    /// own header (the same columns in the same order), the same ids in the
    /// same order, and values of the format (finite probabilities in 0...1,
    /// class names, or 0/1 with one 1 per row when every class has a column).
    public func check(_ text: String, classNames: [String], file: URL) throws {
        let written = try CSVFile.parse(text, url: file)
        guard written.header == header else {
            throw DatasetError(file: file.path, message: "its header \(written.header) is not the sample's \(header)",
                               fix: "report this as a bug")
        }
        guard written.rows.map({ $0.fields[idIndex] }) == ids else {
            throw DatasetError(file: file.path, message: "its ids are not the sample submission's, in its order", fix: "report this as a bug")
        }
        for row in written.rows {
            let values = row.fields.enumerated().filter { $0.offset != idIndex }.map(\.element)
            if let problem = problem(values, classNames: classNames) {
                throw DatasetError(file: file.path, line: row.line, message: problem, fix: "report this as a bug")
            }
        }
    }

    /// What is wrong with one row's value fields, or nil.
    private func problem(_ values: [String], classNames: [String]) -> String? {
        switch format {
        case .label:
            return classNames.contains(values[0]) ? nil : "label \(values[0]) is not a class"
        case .positiveProbability, .probabilities:
            let valid = values.allSatisfy { Float($0).map { $0.isFinite && (0...1).contains($0) } ?? false }
            return valid ? nil : "a probability in \(values) is not a finite number in 0...1"
        case .oneHot(let columns, _):
            guard values.allSatisfy({ $0 == "0" || $0 == "1" }) else { return "a one-hot value in \(values) is not 0 or 1" }
            let ones = values.filter { $0 == "1" }.count
            return columns.count == classNames.count && ones != 1 ? "\(ones) columns of \(values) hold 1, not exactly one" : nil
        }
    }
}
