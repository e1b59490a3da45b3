import Yams

/// Counts the values a YAML document stands for once every alias and merge key
/// (`<<: *base`) is expanded, without expanding anything: an anchored node is
/// counted once and its count reused, so nested aliases growing several times
/// per level (billion laughs) are refused in time linear in the file's size.
enum YAMLExpansion {
    /// A real manifest expands to a few thousand values at most.
    static let maxValues = 200_000

    static func check(_ root: Node, file: String) throws {
        var counter = Counter()
        let total = counter.count(root)
        guard total <= maxValues else {
            let what = counter.anchored.isEmpty ? "has over \(maxValues) values" : "'s aliases and merge keys (`<<:`) expand to over \(maxValues) values"
            throw ManifestError(file: file, line: nil, keyPath: "",
                                message: "the manifest\(what)",
                                fix: "write the shared settings out, or share them through fewer levels of anchors and `<<: *anchor`")
        }
    }

    private struct Counter {
        /// Counts of anchored nodes by anchor object: one per `&name` in the text, so a name
        /// reused later in the file is another key. Valid while the parser that made them lives.
        var anchored: [ObjectIdentifier: Int] = [:]

        mutating func count(_ node: Node) -> Int {
            guard let anchor = node.anchor else { return countChildren(node) }
            let key = ObjectIdentifier(anchor)
            if let known = anchored[key] { return known }
            let total = countChildren(node)
            anchored[key] = total
            return total
        }

        /// Saturates just over the limit, so a deep document cannot overflow `Int`.
        private mutating func countChildren(_ node: Node) -> Int {
            var total = 1
            switch node {
            case .scalar, .alias: break
            case .sequence(let sequence):
                for item in sequence { total = add(total, count(item)) }
            case .mapping(let mapping):
                for (key, value) in mapping { total = add(add(total, count(key)), count(value)) }
            }
            return total
        }

        private func add(_ left: Int, _ right: Int) -> Int { min(left + right, YAMLExpansion.maxValues + 1) }
    }
}
