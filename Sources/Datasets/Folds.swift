import Engine

/// Cross-validation folds: each function returns a fold index 0..<folds per
/// row, reproducible from the seed.

/// Stratified folds (as sklearn's StratifiedKFold with shuffle): each class's
/// rows are shuffled and dealt round-robin, continuing where the previous
/// class stopped, so every fold gets each class's share ±1 and fold sizes
/// differ by at most one.
public func stratifiedFolds(labels: [Int], folds: Int, seed: UInt64) -> [Int] {
    precondition(folds >= 1, "stratifiedFolds: folds must be >= 1, got \(folds)")
    var rowsByClass: [Int: [Int]] = [:]
    for (row, label) in labels.enumerated() { rowsByClass[label, default: []].append(row) }
    var assignment = [Int](repeating: 0, count: labels.count)
    var nextFold = 0
    for label in rowsByClass.keys.sorted() {
        let rows = rowsByClass[label]!
        let order = seededPermutation(rows.count, seed: SeededRandom.derive(seed, UInt64(bitPattern: Int64(label))))
        for position in order {
            assignment[rows[position]] = nextFold
            nextFold = (nextFold + 1) % folds
        }
    }
    return assignment
}

/// Group folds: all rows of a group share one fold. Groups are shuffled by
/// the seed, then placed largest first into the currently smallest fold.
public func groupFolds(groups: [String], folds: Int, seed: UInt64) -> [Int] {
    precondition(folds >= 1, "groupFolds: folds must be >= 1, got \(folds)")
    var rowsByGroup: [String: [Int]] = [:]
    for (row, group) in groups.enumerated() { rowsByGroup[group, default: []].append(row) }
    let names = rowsByGroup.keys.sorted()
    let shuffled = seededPermutation(names.count, seed: seed).map { names[$0] }
    let bySize = shuffled.enumerated().sorted { lhs, rhs in
        let (left, right) = (rowsByGroup[lhs.element]!.count, rowsByGroup[rhs.element]!.count)
        return left != right ? left > right : lhs.offset < rhs.offset
    }.map(\.element)
    var sizes = [Int](repeating: 0, count: folds)
    var assignment = [Int](repeating: 0, count: groups.count)
    for name in bySize {
        let fold = sizes.indices.min { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 < $1 }!
        let rows = rowsByGroup[name]!
        for row in rows { assignment[row] = fold }
        sizes[fold] += rows.count
    }
    return assignment
}

/// Plain shuffled folds with sizes differing by at most one.
public func randomFolds(count: Int, folds: Int, seed: UInt64) -> [Int] {
    precondition(folds >= 1, "randomFolds: folds must be >= 1, got \(folds)")
    var assignment = [Int](repeating: 0, count: count)
    for (position, row) in seededPermutation(count, seed: seed).enumerated() {
        assignment[row] = position % folds
    }
    return assignment
}

extension SeededRandom {
    /// A seed for a sub-stream, e.g. one class's shuffle within a fold split.
    static func derive(_ seed: UInt64, _ field: UInt64) -> UInt64 {
        var random = SeededRandom(seed, field)
        return random.next()
    }
}
