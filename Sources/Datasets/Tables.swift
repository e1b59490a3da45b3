import Foundation

/// The training table (Kaggle's train.csv): one row per image with its id,
/// its label and optionally a group (patient, site, …) for group folds.
public struct TrainTable: Sendable {
    public var ids: [String]
    /// Indices into `classNames`.
    public var labels: [Int]
    /// Distinct label strings: numeric order when all are integers, else lexicographic.
    public var classNames: [String]
    public var groups: [String]?
    /// The CSV line of each row, for error messages.
    public var lines: [Int]
    public var file: URL

    public static func load(csv: URL, idColumn: String, labelColumn: String,
                            groupColumn: String?) throws -> TrainTable {
        let table = try CSVFile.load(csv)
        try table.requireRows()
        let idIndex = try table.column(idColumn, role: "id")
        let labelIndex = try table.column(labelColumn, role: "label")
        let groupIndex = try groupColumn.map { try table.column($0, role: "group") }
        let ids = try uniqueIDs(table, column: idIndex)
        var labelStrings: [String] = []
        var groups: [String] = []
        for row in table.rows {
            let label = row.fields[labelIndex].trimmingCharacters(in: .whitespaces)
            if label.isEmpty {
                throw DatasetError(file: csv.path, line: row.line,
                                   message: "the '\(labelColumn)' value is empty for id '\(row.fields[idIndex])'",
                                   fix: "fill in the label, or move the row to the test CSV")
            }
            labelStrings.append(label)
            if let groupIndex {
                let group = row.fields[groupIndex].trimmingCharacters(in: .whitespaces)
                if group.isEmpty {
                    throw DatasetError(file: csv.path, line: row.line,
                                       message: "the '\(groupColumn ?? "")' value is empty for id '\(row.fields[idIndex])'",
                                       fix: "give every row a group, or drop cv.group_column from the manifest")
                }
                groups.append(group)
            }
        }
        try checkLabelSpellings(labelStrings, lines: table.rows.map(\.line), file: csv, column: labelColumn)
        let classNames = sortedClassNames(Set(labelStrings))
        let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        return TrainTable(ids: ids, labels: labelStrings.map { classIndex[$0]! },
                          classNames: classNames, groups: groupIndex == nil ? nil : groups,
                          lines: table.rows.map(\.line), file: csv)
    }
}

/// The rows to predict (Kaggle's test.csv or sample_submission.csv).
public struct TestTable: Sendable {
    public var ids: [String]
    public var file: URL
    /// The header, so a submission can be written in the same column order.
    public var columns: [String]
    public var lines: [Int]

    public static func load(csv: URL, idColumn: String) throws -> TestTable {
        let table = try CSVFile.load(csv)
        try table.requireRows()
        let idIndex = try table.column(idColumn, role: "id")
        let ids = try uniqueIDs(table, column: idIndex)
        return TestTable(ids: ids, file: csv, columns: table.header, lines: table.rows.map(\.line))
    }
}

/// Labels of `ids` from a CSV of held-out answers (e.g. a private test
/// labels file), as indices into `classNames`.
public func heldOutLabels(csv: URL, idColumn: String, labelColumn: String,
                          ids: [String], classNames: [String]) throws -> [Int] {
    let table = try CSVFile.load(csv)
    try table.requireRows()
    let idIndex = try table.column(idColumn, role: "id")
    let labelIndex = try table.column(labelColumn, role: "label")
    let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
    var labelByID: [String: Int] = [:]
    for row in table.rows {
        let id = row.fields[idIndex].trimmingCharacters(in: .whitespaces)
        let label = row.fields[labelIndex].trimmingCharacters(in: .whitespaces)
        guard let index = classIndex[label] else {
            throw DatasetError(file: csv.path, line: row.line,
                               message: "label '\(label)' of id '\(id)' is not a training class; the classes are: \(classNames.joined(separator: ", "))",
                               fix: "use one of the training classes in this file")
        }
        labelByID[id] = index
    }
    return try ids.map { id in
        guard let label = labelByID[id] else {
            throw DatasetError(file: csv.path, message: "no label for id '\(id)'",
                               fix: "add a row for '\(id)' to the held-out labels file")
        }
        return label
    }
}

/// Ids of a table's column, trimmed; an empty or repeated id is an error.
private func uniqueIDs(_ table: CSVFile, column: Int) throws -> [String] {
    var firstLine: [String: Int] = [:]
    var ids: [String] = []
    ids.reserveCapacity(table.rows.count)
    for row in table.rows {
        let id = row.fields[column].trimmingCharacters(in: .whitespaces)
        if id.isEmpty {
            throw DatasetError(file: table.url.path, line: row.line,
                               message: "the '\(table.header[column])' value is empty",
                               fix: "give every row an id (the image file name without its extension)")
        }
        if let earlier = firstLine[id] {
            throw DatasetError(file: table.url.path, line: row.line,
                               message: "id '\(id)' appears twice, on lines \(earlier) and \(row.line)",
                               fix: "remove the duplicate row so every id appears once")
        }
        firstLine[id] = row.line
        ids.append(id)
    }
    return ids
}

/// One number written two ways (`5` and `5.0`, `1` and `01`) would become two
/// classes; it is refused, naming both spellings and a line of each.
private func checkLabelSpellings(_ labels: [String], lines: [Int], file: URL, column: String) throws {
    var firstLine: [String: Int] = [:]
    for (label, line) in zip(labels, lines) where firstLine[label] == nil { firstLine[label] = line }
    var spellings: [Double: String] = [:]
    for label in firstLine.keys.sorted(by: { firstLine[$0]! < firstLine[$1]! }) {
        guard let value = Double(label), value.isFinite else { continue }
        if let earlier = spellings[value] {
            throw DatasetError(file: file.path, line: firstLine[label],
                               message: "the '\(column)' value `\(label)` is the number `\(earlier)` (line \(firstLine[earlier]!)) written another way; they would become two classes",
                               fix: "write every label of one class the same way, e.g. all `\(earlier)`")
        }
        spellings[value] = label
    }
}

/// Numeric order when every name is an integer ("2" before "10"), else lexicographic.
func sortedClassNames(_ names: Set<String>) -> [String] {
    let numbers = names.compactMap { name in Int(name).map { (name, $0) } }
    if numbers.count == names.count {
        return numbers.sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.map(\.0)
    }
    return names.sorted()
}
