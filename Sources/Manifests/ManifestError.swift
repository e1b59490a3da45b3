import Foundation

/// A problem in a manifest the user can fix: where it is (file, line, key path),
/// what is wrong, and what to write instead.
public struct ManifestError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public let file: String
    /// 1-based line in `file`; nil when the problem has no single place (an unreadable file).
    public let line: Int?
    /// Dotted path with list indices, e.g. `models[1].optimizer.momentum`; empty for the whole file.
    public let keyPath: String
    public let message: String
    public let fix: String

    public init(file: String, line: Int?, keyPath: String, message: String, fix: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
        self.fix = fix
    }

    /// `file:line: key.path: message` and the fix on a second line, like a compiler diagnostic.
    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        let key = keyPath.isEmpty ? "" : " \(keyPath):"
        return "\(location):\(key) \(message)\n  fix: \(fix)"
    }

    public var errorDescription: String? { description }
}

/// "Did you mean" suggestions for misspelt keys and names.
enum Suggestion {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let scored = candidates.map { (candidate: $0, distance: editDistance(lowered, $0.lowercased())) }
        guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
        let allowed = max(2, min(lowered.count, best.candidate.count) / 3)
        return best.distance <= allowed ? best.candidate : nil
    }

    /// "use one of a, b, c; did you mean `b`?" — the fix text for a word that is not allowed.
    static func fix(for word: String, allowed: [String], noun: String = "one of") -> String {
        let list = "use \(noun) \(allowed.joined(separator: ", "))"
        guard let guess = closest(to: word, in: allowed) else { return list }
        return "\(list); did you mean `\(guess)`?"
    }

    /// Levenshtein distance with unit costs.
    static func editDistance(_ left: String, _ right: String) -> Int {
        let a = Array(left), b = Array(right)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
