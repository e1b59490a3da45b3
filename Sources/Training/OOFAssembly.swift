import Engine

/// One fold's share of a seed's predictions: the held-out rows and their
/// probabilities [rows.count, K], and the test probabilities [test rows, K].
public struct FoldPredictions: Sendable {
    public var rows: [Int]
    public var oof: [Float]
    public var test: Tensor
    public init(rows: [Int], oof: [Float], test: Tensor) { (self.rows, self.oof, self.test) = (rows, oof, test) }
}

/// Predictions that do not fit the data they claim to cover.
public struct AssemblyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Builds OOF matrices the same way wherever the folds come from (files of
/// `foldwise train`, the experiment database of `foldwise run`), so both give
/// bit-identical arrays for the same fold predictions.
public enum OOFAssembly {
    /// A seed's OOF matrix [trainRows, K], each row from the fold that held it
    /// out, and its test predictions averaged over the folds in fold order.
    public static func seed(_ folds: [FoldPredictions], trainRows: Int, classes: Int) throws -> (oof: Tensor, test: Tensor) {
        precondition(!folds.isEmpty, "a seed has at least one fold")
        var oof = Tensor(zeros: [trainRows, classes])
        var test = Tensor(zeros: folds[0].test.shape)
        for (index, fold) in folds.enumerated() {
            guard fold.rows.allSatisfy({ (0..<trainRows).contains($0) }), fold.oof.count == fold.rows.count * classes,
                  fold.test.shape == test.shape else {
                throw AssemblyError(description: "fold \(index)'s predictions do not fit the data (\(fold.rows.count) rows of \(classes) classes for \(trainRows) train rows, test \(fold.test.shape) for \(test.shape))")
            }
            for (i, row) in fold.rows.enumerated() {
                for k in 0..<classes { oof[row * classes + k] = fold.oof[i * classes + k] }
            }
            for i in 0..<test.count { test[i] += fold.test[i] / Float(folds.count) }
        }
        return (oof, test)
    }

    /// The element-wise mean of complete seeds.
    public static func average(_ seeds: [(oof: Tensor, test: Tensor)]) -> (oof: Tensor, test: Tensor) {
        var oof = Tensor(zeros: seeds[0].oof.shape), test = Tensor(zeros: seeds[0].test.shape)
        for s in seeds {
            for i in 0..<oof.count { oof[i] += s.oof[i] / Float(seeds.count) }
            for i in 0..<test.count { test[i] += s.test[i] / Float(seeds.count) }
        }
        return (oof, test)
    }
}
