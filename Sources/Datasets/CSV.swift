import Foundation

/// One data row of a CSV file with the line it starts on (the header is line 1).
public struct CSVRow: Sendable, Equatable {
    public var line: Int
    public var fields: [String]
}

/// A parsed CSV file: header names and data rows. RFC 4180 quoting (fields
/// may hold commas, doubled quotes and line breaks), UTF-8 with or without a
/// byte-order mark, LF or CRLF line ends; blank lines are skipped.
public struct CSVFile: Sendable {
    public var url: URL
    public var header: [String]
    public var rows: [CSVRow]

    public static func load(_ url: URL) throws -> CSVFile {
        let data = try DataFile.read(url, what: "CSV file", fix: "check the path in the manifest's data section",
                                     maxBytes: DataFile.maxCSVBytes, limitKey: nil)
        guard let text = String(data: data, encoding: .utf8) else {
            let (line, column) = firstInvalidUTF8(data)
            throw DatasetError(file: url.path, line: line,
                               message: "the file is not valid UTF-8 (first bad byte at column \(column) of this line)",
                               fix: "save the CSV as UTF-8, or fix the character on that line")
        }
        return try parse(text, url: url)
    }

    public static func parse(_ text: String, url: URL) throws -> CSVFile {
        var records = try CSVParser(url: url).records(in: text)
        guard !records.isEmpty else {
            throw DatasetError(file: url.path, line: 1, message: "the CSV file is empty (no header row)",
                               fix: "write a header row such as `id,label` followed by one row per image")
        }
        let header = records.removeFirst().fields.map { $0.trimmingCharacters(in: .whitespaces) }
        for record in records where record.fields.count != header.count {
            throw DatasetError(file: url.path, line: record.line,
                               message: "the row has \(record.fields.count) fields but the header has \(header.count) (\(header.joined(separator: ",")))",
                               fix: "give every row one value per header column; quote values that contain commas")
        }
        return CSVFile(url: url, header: header, rows: records)
    }

    /// The index of a header column, or an error listing the columns found.
    public func column(_ name: String, role: String) throws -> Int {
        if let index = header.firstIndex(of: name) { return index }
        throw DatasetError(file: url.path, line: 1,
                           message: "no \(role) column '\(name)'; the columns are: \(header.joined(separator: ", "))",
                           fix: "name one of these columns in the manifest, or add a '\(name)' column to the header")
    }

    /// An error unless there is at least one data row.
    public func requireRows() throws {
        if rows.isEmpty {
            throw DatasetError(file: url.path, line: 2, message: "the CSV file has a header but no rows",
                               fix: "add one row per image below the header")
        }
    }
}

/// The 1-based line and byte column of the first byte that does not decode as UTF-8.
func firstInvalidUTF8(_ data: Data) -> (line: Int, column: Int) {
    var iterator = data.makeIterator()
    var decoder = UTF8()
    var (line, consumed, lineStart) = (1, 0, 0)
    while case .scalarValue(let scalar) = decoder.decode(&iterator) {
        consumed += UTF8.width(scalar)
        if scalar == "\n" { (line, lineStart) = (line + 1, consumed) }
    }
    return (line, consumed - lineStart + 1)
}

/// A character-level state machine over the CSV text.
private struct CSVParser {
    let url: URL

    func records(in text: String) throws -> [CSVRow] {
        var records: [CSVRow] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1
        var recordLine = 1
        var quoteLine = 1
        var characters = text.unicodeScalars.makeIterator()
        var pending = characters.next()
        if pending == "\u{FEFF}" { pending = characters.next() }

        func endRecord() {
            fields.append(field)
            let blank = fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted
            if !blank { records.append(CSVRow(line: recordLine, fields: fields)) }
            fields = []
            field = ""
            fieldWasQuoted = false
        }

        while let scalar = pending {
            pending = characters.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = characters.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                fieldWasQuoted = true
                quoteLine = line
            case ",":
                fields.append(field)
                field = ""
            case "\r" where pending == "\n":
                continue
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            throw DatasetError(file: url.path, line: quoteLine, message: "a quoted field is never closed",
                               fix: "close the quote, and write a quote inside a quoted field as two quotes (\"\")")
        }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }
}

extension CSVFile {
    /// One field as RFC 4180 writes it: quoted (inner quotes doubled) when it
    /// holds a comma, a quote or a line break.
    public static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
