import Foundation

/// How the training rows are split into folds, and how many times (one split per seed).
public struct CVSection: Sendable, Equatable, Codable {
    public var folds: Int
    public var seeds: [Int]
    /// Keep each fold's class mix equal to the whole set's. Off when `groupColumn` is set.
    public var stratify: Bool
    /// Rows sharing this column's value stay in one fold (group k-fold).
    public var groupColumn: String?

    public init(folds: Int = 5, seeds: [Int] = [0], stratify: Bool = true, groupColumn: String? = nil) {
        self.folds = folds
        self.seeds = seeds
        self.stratify = groupColumn == nil ? stratify : false
        self.groupColumn = groupColumn
    }
}

/// The score every choice is made on, computed on out-of-fold predictions.
public enum MetricName: String, Sendable, Equatable, Codable, CaseIterable {
    case accuracy
    case logLoss = "log_loss"
    case macroF1 = "macro_f1"
    case rocAUC = "roc_auc"
}

extension CVSection {
    static let keys = ["folds", "seeds", "stratify", "group_column"]

    static func read(_ value: ValueNode?) throws -> CVSection {
        guard let value else { return CVSection() }
        let map = try value.mapping()
        try map.checkKeys(keys, section: "`cv`")
        var cv = CVSection()
        if let node = map.optional("folds") {
            cv.folds = try node.int()
            try node.require((2...100).contains(cv.folds), "`folds` must be 2...100, found \(cv.folds)",
                             fix: "write e.g. folds: 5")
        }
        if let node = map.optional("seeds") { cv.seeds = try readSeeds(node) }
        cv.groupColumn = try map.optional("group_column")?.nonEmptyString()
        if let node = map.optional("stratify") {
            let stratify = try node.bool()
            try node.require(!(stratify && cv.groupColumn != nil),
                             "`stratify: true` cannot be combined with `group_column` (group k-fold is not stratified)",
                             fix: "remove `stratify`, or remove `group_column` to get stratified folds")
            cv.stratify = stratify
        }
        if cv.groupColumn != nil { cv.stratify = false }
        return cv
    }

    private static func readSeeds(_ node: ValueNode) throws -> [Int] {
        let seeds = try node.oneOrList { item in
            let seed = try item.int()
            try item.require(seed >= 0, "a seed must be >= 0, found \(seed)", fix: "write a non-negative integer")
            return seed
        }
        try node.require(!seeds.isEmpty, "`seeds` is an empty list", fix: "write seeds: 0 or seeds: [0, 1, 2]")
        try node.require(Set(seeds).count == seeds.count, "`seeds` repeats a value: \(seeds)",
                         fix: "list each seed once; a repeated seed would train identical models")
        return seeds
    }
}

extension MetricName {
    static func read(_ value: ValueNode?) throws -> MetricName {
        guard let value else { return .accuracy }
        return try value.choice(MetricName.self, what: "metric")
    }
}
