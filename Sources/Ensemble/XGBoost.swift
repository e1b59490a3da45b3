import CXGBoost

/// A failed call into XGBoost's C API: which call, and XGBoost's own message
/// (from `XGBGetLastError`), which names the parameter or shape it rejected.
public struct XGBoostError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var message: String
    public var description: String {
        "XGBoost \(call) failed: \(message) (check the stacker's parameters and the feature matrix's shape)"
    }
    public init(call: String, message: String) { (self.call, self.message) = (call, message) }
}

/// Runs one C call and turns its nonzero return code into an `XGBoostError`.
/// XGBoost keeps the last error per thread, so it is read right away on the same thread.
func checkedXGBoostCall(_ call: String, _ body: () -> Int32) throws(XGBoostError) {
    guard body() != 0 else { return }
    let message = XGBGetLastError().map { String(cString: $0) } ?? "no message"
    throw XGBoostError(call: call, message: message)
}

/// XGBoost's DMatrix built from a dense row-major [rows, columns] Float array,
/// optionally with one label per row. Not Sendable: the handle has one owner.
public final class XGBoostMatrix {
    let handle: DMatrixHandle
    public let rows: Int
    public let columns: Int

    /// NaN marks a missing value, as in XGBoost's Python package.
    public init(features: [Float], columns: Int, labels: [Float]? = nil) throws(XGBoostError) {
        guard columns > 0, features.count % columns == 0, !features.isEmpty else {
            throw XGBoostError(call: "XGDMatrixCreateFromMat",
                               message: "\(features.count) feature values do not form rows of \(columns) columns")
        }
        let rows = features.count / columns
        var created: DMatrixHandle?
        try checkedXGBoostCall("XGDMatrixCreateFromMat") {
            features.withUnsafeBufferPointer {
                XGDMatrixCreateFromMat($0.baseAddress, UInt64(rows), UInt64(columns), Float.nan, &created)
            }
        }
        guard let created else { throw XGBoostError(call: "XGDMatrixCreateFromMat", message: "returned no handle") }
        (handle, self.rows, self.columns) = (created, rows, columns)
        if let labels { try setLabels(labels) }
    }

    deinit { XGDMatrixFree(handle) }

    public func setLabels(_ labels: [Float]) throws(XGBoostError) {
        guard labels.count == rows else {
            throw XGBoostError(call: "XGDMatrixSetFloatInfo", message: "\(labels.count) labels for \(rows) rows")
        }
        try checkedXGBoostCall("XGDMatrixSetFloatInfo(label)") {
            labels.withUnsafeBufferPointer { XGDMatrixSetFloatInfo(handle, "label", $0.baseAddress, UInt64(labels.count)) }
        }
    }
}

/// An XGBoost learner: parameters as XGBoost's own string key/values, one
/// boosting round per `update`, predictions copied out into Swift arrays.
/// Not Sendable: XGBoost's prediction buffer belongs to the booster.
///
/// After any failed call the booster refuses further calls: XGBoost 1.7 leaves
/// a learner whose configuration failed half-built, and using it again crashes.
public final class XGBoostBooster {
    let handle: BoosterHandle
    /// The matrices the booster caches predictions for; kept alive as long as it is.
    private let cached: [XGBoostMatrix]
    private var failure: XGBoostError?

    public init(cached: [XGBoostMatrix] = [], parameters: [(String, String)] = []) throws(XGBoostError) {
        var created: BoosterHandle?
        try checkedXGBoostCall("XGBoosterCreate") {
            var handles: [DMatrixHandle?] = cached.map(\.handle)
            return handles.withUnsafeMutableBufferPointer { XGBoosterCreate($0.baseAddress, UInt64(cached.count), &created) }
        }
        guard let created else { throw XGBoostError(call: "XGBoosterCreate", message: "returned no handle") }
        (handle, self.cached) = (created, cached)
        for (name, value) in parameters { try setParameter(name, value) }
    }

    deinit { XGBoosterFree(handle) }

    /// XGBoost checks most values only when training starts, so a bad value
    /// usually surfaces from the first `update`.
    public func setParameter(_ name: String, _ value: String) throws(XGBoostError) {
        try guarded("XGBoosterSetParam(\(name)=\(value))") { XGBoosterSetParam(handle, name, value) }
    }

    /// One boosting round on `training`, which must carry labels.
    public func update(iteration: Int, training: XGBoostMatrix) throws(XGBoostError) {
        try guarded("XGBoosterUpdateOneIter(round \(iteration))") {
            XGBoosterUpdateOneIter(handle, Int32(iteration), training.handle)
        }
    }

    /// Transformed predictions of every tree (probabilities for the
    /// classification objectives): [rows] for binary, [rows, classes] for softprob.
    public func predict(_ matrix: XGBoostMatrix) throws(XGBoostError) -> [Float] {
        var count: UInt64 = 0
        var result: [Float] = []
        try guarded("XGBoosterPredict") {
            var values: UnsafePointer<Float>?
            let code = XGBoosterPredict(handle, matrix.handle, 0, 0, 0, &count, &values)
            // The buffer is the booster's and is overwritten by the next call: copy now.
            if code == 0, let values { result = Array(UnsafeBufferPointer(start: values, count: Int(count))) }
            return code
        }
        return result
    }

    /// A checked call that first refuses a booster with an earlier failure and then records its own.
    private func guarded(_ call: String, _ body: () -> Int32) throws(XGBoostError) {
        if let failure {
            throw XGBoostError(call: call, message: "the booster is unusable after an earlier failure (\(failure.message)); create a new one")
        }
        do { try checkedXGBoostCall(call, body) } catch {
            failure = error
            throw error
        }
    }
}
