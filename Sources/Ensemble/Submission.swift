import Datasets
import Foundation

/// A submission in the competition's own format, shaped by its
/// `sample_submission.csv`: the id column, then one label column (the
/// predicted class name per row), or for two classes one column whose sample
/// values are fractions (the probability of the second class), or one
/// probability column per class (named by the class names, in the sample's order).
public struct Submission: Sendable {
    public enum Format: Sendable, Equatable {
        case label(column: String)
        case positiveProbability(column: String)
        case probabilities(columns: [String], classIndex: [Int])
    }

    public let idColumn: String
    public let ids: [String]
    public let format: Format

    /// Reads the sample's columns and ids and matches them to the classes.
    public init(sample: URL, idColumn: String, classNames: [String]) throws {
        let csv = try CSVFile.load(sample)
        try csv.requireRows()
        let idIndex = try csv.column(idColumn, role: "id")
        self.idColumn = idColumn
        ids = csv.rows.map { $0.fields[idIndex] }
        let others = csv.header.enumerated().filter { $0.offset != idIndex }.map(\.element)
        if others.count == 1, !classNames.contains(others[0]) || classNames.count == 1 {
            let values = csv.rows.map { $0.fields[idIndex == 0 ? 1 : 0] }
            let fractional = values.contains { Double($0).map { $0 != $0.rounded() && (0...1).contains($0) } ?? false }
            format = classNames.count == 2 && fractional ? .positiveProbability(column: others[0]) : .label(column: others[0])
            return
        }
        let indices = others.map { classNames.firstIndex(of: $0) }
        guard !others.isEmpty, indices.allSatisfy({ $0 != nil }), Set(others).count == classNames.count else {
            let unknown = others.filter { !classNames.contains($0) }
            throw DatasetError(file: sample.path,
                               message: "its columns \(others) are neither one label column nor one column per class (unknown: \(unknown), classes: \(classNames))",
                               fix: "use the competition's sample_submission.csv; the classes come from the train labels")
        }
        format = .probabilities(columns: others, classIndex: indices.map { $0! })
    }

    /// The CSV text for test probabilities [ids.count, classes] whose rows follow `testIDs`.
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
        var lines: [String] = []
        switch format {
        case .label(let column):
            lines.append([idColumn, column].map(CSVFile.field).joined(separator: ","))
            for id in ids {
                let row = rowOf[id]!
                let scores = probabilities[row * classes..<(row + 1) * classes]
                let best = scores.indices.max { scores[$0] < scores[$1] }! - row * classes
                lines.append([CSVFile.field(id), CSVFile.field(classNames[best])].joined(separator: ","))
            }
        case .positiveProbability(let column):
            lines.append([idColumn, column].map(CSVFile.field).joined(separator: ","))
            for id in ids { lines.append([CSVFile.field(id), String(probabilities[rowOf[id]! * classes + 1])].joined(separator: ",")) }
        case .probabilities(let columns, let classIndex):
            lines.append(([idColumn] + columns).map(CSVFile.field).joined(separator: ","))
            for id in ids {
                let row = rowOf[id]!
                lines.append(([CSVFile.field(id)] + classIndex.map { String(probabilities[row * classes + $0]) }).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a written submission back and checks it against the sample: the
    /// same header, the same ids in the same order, and valid values.
    public func check(_ text: String, classNames: [String], file: URL) throws {
        let written = try CSVFile.parse(text, url: file)
        let expectedHeader: [String]
        switch format {
        case .label(let column), .positiveProbability(let column): expectedHeader = [idColumn, column]
        case .probabilities(let columns, _): expectedHeader = [idColumn] + columns
        }
        guard written.header == expectedHeader else {
            throw DatasetError(file: file.path, message: "its header \(written.header) is not the sample's \(expectedHeader)", fix: "report this as a bug")
        }
        guard written.rows.map({ $0.fields[0] }) == ids else {
            throw DatasetError(file: file.path, message: "its ids are not the sample submission's, in its order", fix: "report this as a bug")
        }
        for row in written.rows {
            switch format {
            case .label:
                guard classNames.contains(row.fields[1]) else {
                    throw DatasetError(file: file.path, line: row.line, message: "label \(row.fields[1]) is not a class", fix: "report this as a bug")
                }
            case .probabilities, .positiveProbability:
                guard row.fields.dropFirst().allSatisfy({ Float($0).map { (0...1).contains($0) } ?? false }) else {
                    throw DatasetError(file: file.path, line: row.line, message: "a probability is not a number in 0...1", fix: "report this as a bug")
                }
            }
        }
    }
}
