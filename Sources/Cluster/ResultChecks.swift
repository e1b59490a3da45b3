import Foundation

/// What a result message must satisfy before the coordinator believes it: a
/// header of bounded, unique set names and sane sizes, one frame per array of
/// exactly the announced size (checked before it is read, so nothing is
/// allocated from a size the header merely claims), unique non-negative row
/// indices, and values its `PredictionRule` keeps. Each failure names the task and
/// attempt (`ProtocolError.invalidResult`), so the attempt can be failed.
struct ResultChecks {
    /// More sets than any model asks for (last, snapshots, SWA, EMA).
    static let maximumSets = 64
    static let maximumTaskIDLength = 64

    enum Kind: String { case oof = "OOF", test }

    let header: ResultHeader
    private let oofCount: Int
    private let testCount: Int

    init(_ header: ResultHeader) throws(ProtocolError) {
        self.header = header
        guard !header.taskID.isEmpty, header.taskID.count <= Self.maximumTaskIDLength else {
            throw .malformedHeader(command: .result, reason: "taskID must have 1 to \(Self.maximumTaskIDLength) characters, it has \(header.taskID.count)")
        }
        let refuse = { (reason: String) in ProtocolError.invalidResult(taskID: header.taskID, attempt: header.attempt, reason: reason) }
        guard !header.sets.isEmpty, header.sets.count <= Self.maximumSets else {
            throw refuse("it names \(header.sets.count) prediction sets, a result has 1 to \(Self.maximumSets) (`last` at least)")
        }
        if let name = header.sets.first(where: { !Self.isSetName($0) }) {
            throw refuse("set name \"\(name.prefix(50))\" is not 1 to 40 ASCII letters, digits, '-' or '_'")
        }
        if let name = Self.firstRepeat(header.sets) { throw refuse("set name \"\(name)\" appears twice") }
        guard header.rows >= 0, header.testRows >= 0, header.classes >= 1 else {
            throw refuse("sizes rows \(header.rows), testRows \(header.testRows), classes \(header.classes) are impossible")
        }
        let (oof, oofOverflow) = header.rows.multipliedReportingOverflow(by: header.classes)
        let (test, testOverflow) = header.testRows.multipliedReportingOverflow(by: header.classes)
        let (_, bytesOverflow) = max(oof, test, header.rows).multipliedReportingOverflow(by: 8)
        guard !oofOverflow, !testOverflow, !bytesOverflow else {
            throw refuse("sizes rows \(header.rows), testRows \(header.testRows), classes \(header.classes) overflow")
        }
        (oofCount, testCount) = (oof, test)
    }

    /// Set names are short words (`last`, `snapshot-2`, `swa`): nothing a worker
    /// sends can name a path or inject into an export's file name.
    static func isSetName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 40 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    private func refuse(_ reason: String) -> ProtocolError {
        .invalidResult(taskID: header.taskID, attempt: header.attempt, reason: reason)
    }

    func frameCount(_ count: Int) throws(ProtocolError) {
        let expected = 1 + 2 * header.sets.count
        guard count == expected else {
            throw refuse("its header names \(header.sets.count) set(s), so \(expected) payload frames (rows, then OOF and test per set), it has \(count); a frame was lost or the worker runs another Foldwise release")
        }
    }

    func rowsFrame(_ frame: [UInt8]) throws(ProtocolError) -> [UInt8] {
        guard frame.count == header.rows * 8 else {
            throw refuse("the validation rows frame has \(frame.count) bytes, \(header.rows) rows need \(header.rows * 8) (Int64 each)")
        }
        return frame
    }

    func arrayFrame(_ frame: [UInt8], set: String, kind: Kind) throws(ProtocolError) -> [UInt8] {
        let (rows, count) = kind == .oof ? (header.rows, oofCount) : (header.testRows, testCount)
        guard frame.count == count * 4 else {
            throw refuse("set \(set) \(kind.rawValue) has \(frame.count) bytes, \(rows) rows × \(header.classes) classes need \(count * 4) (Float32 each)")
        }
        return frame
    }

    func rowIndices(_ rows: [Int]) throws(ProtocolError) {
        if let row = rows.first(where: { $0 < 0 }) { throw refuse("validation row \(row) is negative") }
        if let row = Self.firstRepeat(rows) { throw refuse("validation row \(row) appears twice") }
    }

    /// Every value finite and every row kept by `rule` (a version 3 result
    /// carries class probabilities: `PredictionRule.multiclass`).
    func values(_ values: [Float], set: String, kind: Kind, rule: PredictionRule = .multiclass) throws(ProtocolError) {
        if let violation = rule.violation(in: values, columns: header.classes) {
            throw refuse("set \(set) \(kind.rawValue) row \(violation.row) \(violation.reason)")
        }
    }

    private static func firstRepeat<T: Hashable>(_ items: [T]) -> T? {
        var seen = Set<T>()
        seen.reserveCapacity(items.count)
        return items.first { !seen.insert($0).inserted }
    }
}
