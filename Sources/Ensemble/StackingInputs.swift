/// What every blend and stacker learns from: the OOF class probabilities of
/// several prediction sets over the same train rows, their test predictions,
/// the labels and the fold of every row (the folds the base models used, so a
/// stacker's own OOF score is nested in the same split).
public struct StackingInputs: Sendable {
    public struct BaseSet: Sendable {
        public var name: String
        /// [rows, classes], row-major.
        public var oof: [Float]
        /// [test rows, classes], row-major.
        public var test: [Float]
        public init(name: String, oof: [Float], test: [Float]) { (self.name, self.oof, self.test) = (name, oof, test) }
    }

    public let sets: [BaseSet]
    public let labels: [Int]
    public let folds: [Int]
    public let classes: Int
    public let testRows: Int
    public var rows: Int { labels.count }
    public var foldCount: Int { (folds.max() ?? -1) + 1 }

    /// Checks that every array fits the others; the error names the set and what does not fit.
    public init(sets: [BaseSet], labels: [Int], folds: [Int], classes: Int) throws(StackingInputError) {
        guard !sets.isEmpty else { throw StackingInputError("no prediction sets were given") }
        guard classes >= 2 else { throw StackingInputError("\(classes) classes; a classifier needs at least 2") }
        guard labels.count == folds.count else {
            throw StackingInputError("\(labels.count) labels but \(folds.count) fold numbers; both have one entry per train row")
        }
        if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
            throw StackingInputError("label \(bad) is outside 0..<\(classes)")
        }
        if let bad = folds.first(where: { $0 < 0 }) { throw StackingInputError("fold \(bad) is negative") }
        let foldCount = (folds.max() ?? -1) + 1
        guard foldCount >= 2, (0..<foldCount).allSatisfy(folds.contains) else {
            throw StackingInputError("the folds must number 0..<k with k >= 2 and every fold used; got \(Array(Set(folds)).sorted())")
        }
        let testRows = sets[0].test.count / classes
        for set in sets {
            guard set.oof.count == labels.count * classes else {
                throw StackingInputError("set \(set.name) has \(set.oof.count) OOF values; \(labels.count) rows × \(classes) classes need \(labels.count * classes)")
            }
            guard set.test.count == testRows * classes, set.test.count % classes == 0 else {
                throw StackingInputError("set \(set.name) has \(set.test.count) test values; the first set has \(testRows) test rows × \(classes) classes")
            }
        }
        (self.sets, self.labels, self.folds, self.classes, self.testRows) = (sets, labels, folds, classes, testRows)
    }
}

/// Stacking inputs that do not fit together.
public struct StackingInputError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
