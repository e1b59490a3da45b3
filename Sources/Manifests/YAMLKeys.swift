import Foundation

/// A manifest's mapping keys are plain words. An alias, a collection or an
/// explicit `? ` key in key position is refused from the text, before the YAML
/// library composes it: it hashes whole keys to find duplicates, and nested
/// aliases as a key expand many times per level before any count can stop them.
enum YAMLKeys {
    private static let patterns: [(regex: NSRegularExpression, what: String)] = [
        (#"(^|[\{\[,])\s*\?(\s|$)"#, "an explicit `? ` key"),
        (#"\*[^\s,\[\]\{\}]+\s*:(\s|$)"#, "an alias (`*name`) as a key"),
        (#"[\]\}]\s*:(\s|$)"#, "a list or mapping as a key"),
    ].map { (try! NSRegularExpression(pattern: $0.0), $0.1) }

    static func checkPlain(_ yaml: String, file: String) throws {
        for (index, line) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line)
            if text.trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
            let range = NSRange(text.startIndex..., in: text)
            for pattern in patterns where pattern.regex.firstMatch(in: text, range: range) != nil {
                throw ManifestError(file: file, line: index + 1, keyPath: "",
                                    message: "\(pattern.what): manifest keys are plain words",
                                    fix: "write the key out as a word, e.g. `epochs: 10`; anchors and aliases belong in values (`<<: *base`)")
            }
        }
    }
}
