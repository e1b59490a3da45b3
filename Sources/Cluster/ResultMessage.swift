import Storage
import Training

/// One named prediction set of a finished task, row-major class probabilities:
/// OOF [validation rows, K] and test [test rows, K].
public struct SetPredictions: Sendable, Hashable {
    public var name: String
    public var oof: [Float]
    public var test: [Float]
    public init(name: String, oof: [Float], test: [Float]) { (self.name, self.oof, self.test) = (name, oof, test) }
}

/// What a finished task predicts: its validation rows (indices into the train
/// set, in the order of the OOF arrays' rows), the test rows' count, K, and
/// every named set (`last` first, then snapshots, SWA, EMA as the model asked).
public struct TaskPredictions: Sendable, Hashable {
    public static let lastSet = "last"
    public var validationRows: [Int]
    public var testRows: Int
    public var classes: Int
    public var sets: [SetPredictions]

    public init(validationRows: [Int], testRows: Int, classes: Int, sets: [SetPredictions]) {
        (self.validationRows, self.testRows, self.classes, self.sets) = (validationRows, testRows, classes, sets)
    }

    /// A fold's predictions: its `oof`/`test` as the set `last`, then its extra sets.
    public init(_ fold: FoldResult) {
        let sets = [SetPredictions(name: Self.lastSet, oof: fold.oof.scalars, test: fold.test.scalars)]
            + fold.extraSets.map { SetPredictions(name: $0.name, oof: $0.oof.scalars, test: $0.test.scalars) }
        self.init(validationRows: fold.validationRows, testRows: fold.test.shape.first ?? 0,
                  classes: fold.test.shape.last ?? 0, sets: sets)
    }

    /// Each set's OOF and test arrays as the database stores them.
    public var records: [PredictionSet] {
        sets.flatMap { set in
            [PredictionSet(name: set.name, kind: .oof, shape: [validationRows.count, classes], values: set.oof),
             PredictionSet(name: set.name, kind: .test, shape: [testRows, classes], values: set.test)]
        }
    }
}

/// Worker → coordinator: the finished task's score and predictions.
public struct TaskResult: Sendable, Hashable {
    public var taskID: String
    public var attempt: Int
    public var score: Double
    public var predictions: TaskPredictions
    public init(taskID: String, attempt: Int, score: Double, predictions: TaskPredictions) {
        (self.taskID, self.attempt, self.score, self.predictions) = (taskID, attempt, score, predictions)
    }
}

/// The data a result must fit: the coordinator's train rows, test rows and classes.
public struct DataShape: Sendable, Hashable {
    public var trainRows: Int
    public var testRows: Int
    public var classes: Int
    public init(trainRows: Int, testRows: Int, classes: Int) {
        (self.trainRows, self.testRows, self.classes) = (trainRows, testRows, classes)
    }
    public init(_ data: ExperimentData) {
        self.init(trainRows: data.train.ids.count, testRows: data.test.ids.count, classes: data.classes)
    }
}

/// The JSON header of a result message (keys sorted on the wire).
struct ResultHeader: Codable, Hashable {
    var taskID: String
    var attempt: Int
    var score: Double
    /// The prediction sets, in payload order.
    var sets: [String]
    /// Validation rows: the OOF arrays' rows.
    var rows: Int
    var testRows: Int
    var classes: Int
}

/// The result message's layout, encoded and decoded side by side. After the
/// header (`ResultHeader`) come 1 + 2 × sets payload frames:
/// - frame 0: the validation row indices, `rows` little-endian Int64;
/// - frame 1 + 2i: set i's OOF, `rows × classes` little-endian Float32, row-major;
/// - frame 2 + 2i: set i's test, `testRows × classes` little-endian Float32.
/// Decoding trusts nothing: every size is checked against the header before a
/// frame is read, and the arrays must be class probabilities (`ResultChecks`).
enum ResultLayout {
    static func encode(_ result: TaskResult) -> (header: ResultHeader, payloads: [[UInt8]]) {
        let predictions = result.predictions
        let header = ResultHeader(taskID: result.taskID, attempt: result.attempt, score: result.score,
                                  sets: predictions.sets.map(\.name), rows: predictions.validationRows.count,
                                  testRows: predictions.testRows, classes: predictions.classes)
        let arrays = predictions.sets.flatMap { [Message.littleEndianBytes($0.oof), Message.littleEndianBytes($0.test)] }
        return (header, [littleEndianBytes(predictions.validationRows)] + arrays)
    }

    static func decode(_ header: ResultHeader, payloads: [[UInt8]]) throws(ProtocolError) -> TaskResult {
        let checks = try ResultChecks(header)
        try checks.frameCount(payloads.count)
        let rows = integers(littleEndian: try checks.rowsFrame(payloads[0]))
        try checks.rowIndices(rows)
        var sets: [SetPredictions] = []
        for (index, name) in header.sets.enumerated() {
            let oof = Message.floats(littleEndian: try checks.arrayFrame(payloads[1 + 2 * index], set: name, kind: .oof))
            try checks.values(oof, set: name, kind: .oof)
            let test = Message.floats(littleEndian: try checks.arrayFrame(payloads[2 + 2 * index], set: name, kind: .test))
            try checks.values(test, set: name, kind: .test)
            sets.append(SetPredictions(name: name, oof: oof, test: test))
        }
        return TaskResult(taskID: header.taskID, attempt: header.attempt, score: header.score,
                          predictions: TaskPredictions(validationRows: rows, testRows: header.testRows,
                                                       classes: header.classes, sets: sets))
    }

    static func littleEndianBytes(_ integers: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(integers.count * 8)
        for integer in integers {
            let bits = UInt64(bitPattern: Int64(integer))
            for byte in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * byte))) }
        }
        return bytes
    }

    static func integers(littleEndian bytes: [UInt8]) -> [Int] {
        stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { start in
            var bits: UInt64 = 0
            for byte in 0..<8 { bits |= UInt64(bytes[start + byte]) << (8 * byte) }
            return Int(truncatingIfNeeded: Int64(bitPattern: bits))
        }
    }
}

extension TaskResult {
    /// Refuses a result that does not fit the coordinator's data (rows it does
    /// not have, another test set or class count): the worker loaded other data.
    public func check(against data: DataShape) throws(ProtocolError) {
        let refuse = { (reason: String) in ProtocolError.invalidResult(taskID: taskID, attempt: attempt, reason: reason) }
        if predictions.classes != data.classes {
            throw refuse("it has \(predictions.classes) classes, the coordinator's data has \(data.classes); the worker loaded other data")
        }
        if predictions.testRows != data.testRows {
            throw refuse("it has \(predictions.testRows) test rows, the coordinator's data has \(data.testRows); the worker loaded other data")
        }
        if let row = predictions.validationRows.first(where: { $0 >= data.trainRows }) {
            throw refuse("validation row \(row) is outside the coordinator's \(data.trainRows) train rows; the worker loaded other data")
        }
    }
}
