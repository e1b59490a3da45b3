// Shape letters: n rows, K classes, S sets.

/// A level-2 method fitted on some train rows (`Level2.fit`), ready to
/// combine any other predictions of the same sets: the held-out fold's OOF
/// rows, the test rows, or a pseudo-label round's new rows.
public struct FittedLevel2 {
    /// What `predict` computes, by method kind.
    enum Model {
        /// Σ_s weight_s · set_s (mean, weights, hillclimb).
        case weighted([Double])
        /// Average of per-column ranks among the predicted rows, rows renormalised.
        case rank
        /// A learner on the sets' probabilities side by side.
        case stacker(any Stacker)
    }

    public let method: Level2Method
    /// Blends: one per set, non-negative and summing to 1 (nil for rank); stackers: nil.
    public let weights: [Double]?
    let classes: Int
    let setCount: Int
    let model: Model

    init(method: Level2Method, classes: Int, setCount: Int, weights: [Double]?, model: Model) {
        (self.method, self.classes, self.setCount, self.weights, self.model) = (method, classes, setCount, weights, model)
    }

    /// `sets[s]` holds set s's probabilities [n, K] (in inputs.sets order) for the same n rows; returns [n, K].
    public func predict(_ sets: [[Float]]) throws -> [Float] {
        guard sets.count == setCount else {
            throw StackingInputError("\(method.subject) was fitted on \(setCount) sets but given \(sets.count); pass every set, in the order of the inputs it was fitted on")
        }
        let count = sets[0].count
        guard count % classes == 0 else {
            throw StackingInputError("\(method.subject): set 0 holds \(count) values, not whole rows of \(classes) classes; pass [rows, \(classes)] probabilities")
        }
        if let bad = sets.indices.first(where: { sets[$0].count != count }) {
            throw StackingInputError("\(method.subject): set \(bad) holds \(sets[bad].count) values but set 0 holds \(count); every set must predict the same rows")
        }
        let n = count / classes
        if n == 0 { return [] }
        switch model {
        case .weighted(let weights): return Blend.weightedSum(sets, weights)
        case .rank: return Blend.rankAverage(sets, rows: n, classes: classes)
        case .stacker(let stacker):
            return stacker.predictProbabilities(features: StackingInputs.concatenate(sets, rows: n, classes: classes))
        }
    }
}
