import Foundation
import Yams

/// One YAML node with the file and key path it came from, so every error can name both.
/// The accessors are strict: a quoted "3" is not an integer and 3.0 is not an integer.
struct ValueNode {
    let node: Node
    let path: String
    let file: String

    var line: Int? { node.mark?.line }

    func error(_ message: String, fix: String) -> ManifestError {
        ManifestError(file: file, line: line, keyPath: path, message: message, fix: fix)
    }

    func require(_ condition: Bool, _ message: @autoclosure () -> String,
                 fix: @autoclosure () -> String) throws {
        if !condition { throw error(message(), fix: fix()) }
    }

    /// How the value reads to a person, for "expected X, found Y" messages.
    var found: String {
        switch node {
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch node.tagName {
            case .int: return "the integer \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            case .null: return "an empty value"
            default: return "the string \"\(scalar.string)\""
            }
        }
    }

    var isMapping: Bool { if case .mapping = node { return true } else { return false } }
    var isSequence: Bool { if case .sequence = node { return true } else { return false } }

    func string() throws -> String {
        guard case .scalar(let scalar) = node, node.tagName == .str else {
            throw error("expected a string, found \(found)",
                        fix: "write text here; quote it (\"...\") if it looks like a number or yes/no")
        }
        return scalar.string
    }

    func nonEmptyString() throws -> String {
        let text = try string()
        try require(!text.trimmingCharacters(in: .whitespaces).isEmpty, "the value is an empty string",
                    fix: "write a non-empty value or remove the key")
        return text
    }

    func int() throws -> Int {
        guard case .scalar(let scalar) = node, node.tagName == .int,
              let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")) ?? node.int else {
            throw error("expected an integer, found \(found)", fix: "write a whole number without quotes, e.g. 5")
        }
        return value
    }

    func float() throws -> Float { Float(try double()) }

    /// A finite number read at full precision (`0.6` stays 0.6).
    func double() throws -> Double {
        let digits: String
        if case .scalar(let scalar) = node, [.int, .float].contains(node.tagName) {
            digits = scalar.string.replacingOccurrences(of: "_", with: "")
        } else {
            digits = ""
        }
        guard let value = Double(digits) ?? node.float, value.isFinite else {
            throw error("expected a finite number, found \(found)",
                        fix: "write a number without quotes, e.g. 0.5 or 3e-4")
        }
        return value
    }

    func bool() throws -> Bool {
        guard node.tagName == .bool, let value = node.bool else {
            throw error("expected true or false, found \(found)", fix: "write true or false without quotes")
        }
        return value
    }

    func list() throws -> [ValueNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, found \(found)", fix: "write a list, e.g. [1, 2] or one `- item` per line")
        }
        return sequence.enumerated().map { index, item in
            ValueNode(node: item, path: "\(path)[\(index)]", file: file)
        }
    }

    func mapping() throws -> MappingReader { try MappingReader(self) }

    /// One of `allowed`, with a spelling suggestion when the word is not.
    func choice(_ allowed: [String], what: String) throws -> String {
        let word = try string()
        guard allowed.contains(word) else {
            throw error("unknown \(what) `\(word)`", fix: Suggestion.fix(for: word, allowed: allowed))
        }
        return word
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type, what: String) throws -> Choice
    where Choice.RawValue == String {
        let word = try choice(Choice.allCases.map(\.rawValue), what: what)
        return Choice(rawValue: word)!
    }

    /// A single value or a list of them: `seeds: 0` and `seeds: [0, 1]` both read as a list.
    func oneOrList<Value>(_ read: (ValueNode) throws -> Value) throws -> [Value] {
        isSequence ? try list().map(read) : [try read(self)]
    }
}

/// The keys of one YAML map, read by name. Merge keys (`<<: *base`) are flattened first,
/// explicit keys winning, so models can share settings through anchors.
struct MappingReader {
    let value: ValueNode
    private let entries: [(key: String, keyNode: Node, value: Node)]

    init(_ value: ValueNode) throws {
        guard case .mapping(let mapping) = value.node else {
            throw value.error("expected a map of `key: value` lines, found \(value.found)",
                              fix: "write this section as indented `key: value` lines or {key: value}")
        }
        var explicit: [(key: String, keyNode: Node, value: Node)] = []
        var merged: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, valueNode) in mapping {
            if keyNode.tagName == .merge {
                merged += try Self.mergedEntries(of: ValueNode(node: valueNode, path: value.path, file: value.file))
                continue
            }
            let key = ValueNode(node: keyNode, path: value.path, file: value.file)
            guard case .scalar(let scalar) = keyNode, keyNode.tagName == .str else {
                throw key.error("keys must be plain words, found \(key.found)",
                                fix: "use one of the documented snake_case keys (see docs/MANIFEST.md)")
            }
            explicit.append((scalar.string, keyNode, valueNode))
        }
        var seen = Set(explicit.map(\.key))
        let inherited = merged.filter { seen.insert($0.key).inserted }
        self.value = value
        self.entries = explicit + inherited
    }

    private static func mergedEntries(of source: ValueNode) throws -> [(key: String, keyNode: Node, value: Node)] {
        let sources = source.isSequence ? try source.list() : [source]
        return try sources.flatMap { try MappingReader($0).entries }
    }

    var keys: [String] { entries.map(\.key) }

    func path(_ key: String) -> String { value.path.isEmpty ? key : "\(value.path).\(key)" }

    func contains(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value of `key`, or nil when the key is absent or written with no value.
    func optional(_ key: String) -> ValueNode? {
        guard let entry = entries.first(where: { $0.key == key }), entry.value.tagName != .null else { return nil }
        return ValueNode(node: entry.value, path: path(key), file: value.file)
    }

    func required(_ key: String, example: String) throws -> ValueNode {
        if let found = optional(key) { return found }
        let fix = "add `\(example)`" + (value.path.isEmpty ? " at the top level" : " under `\(value.path)`")
        if let entry = entries.first(where: { $0.key == key }) {
            throw ManifestError(file: value.file, line: entry.keyNode.mark?.line, keyPath: path(key),
                                message: "`\(key)` has no value", fix: fix)
        }
        throw ManifestError(file: value.file, line: value.line, keyPath: path(key),
                            message: "missing required key `\(key)`", fix: fix)
    }

    /// Rejects any key not in `valid`; a key in `elsewhere` is known but belongs to another
    /// variant, and is reported with that entry's message and fix.
    func checkKeys(_ valid: [String], elsewhere: [String: (message: String, fix: String)] = [:],
                   section: String) throws {
        for entry in entries where !valid.contains(entry.key) {
            let line = entry.keyNode.mark?.line
            if let known = elsewhere[entry.key] {
                throw ManifestError(file: value.file, line: line, keyPath: path(entry.key),
                                    message: known.message, fix: known.fix)
            }
            var fix = Suggestion.fix(for: entry.key, allowed: valid, noun: "the keys")
            if Suggestion.closest(to: entry.key, in: valid) == nil,
               let near = Suggestion.closest(to: entry.key, in: Array(elsewhere.keys).sorted()) {
                fix += "; `\(near)` is close, but \(elsewhere[near]!.message.components(separatedBy: "; ").last ?? "")"
            }
            throw ManifestError(file: value.file, line: line, keyPath: path(entry.key),
                                message: "unknown key `\(entry.key)` in \(section)", fix: fix)
        }
    }

    /// Keys for a section whose options depend on its `name`: `common` keys always apply, and
    /// each entry of `variantKeys` lists the names that use that key.
    func checkKeys(common: [String], variantKeys: [(key: String, users: [String])], name: String,
                   kind: String, section: String) throws {
        let valid = common + variantKeys.filter { $0.users.contains(name) }.map(\.key)
        var elsewhere: [String: (message: String, fix: String)] = [:]
        for (key, users) in variantKeys where !users.contains(name) {
            let owners = users.map { "`\($0)`" }.joined(separator: ", ")
            let subject = users.count == 1 ? "\(kind) uses" : "\(kind.hasSuffix("s") ? kind + "es" : kind + "s") use"
            elsewhere[key] = ("`\(key)` does not apply to the `\(name)` \(kind); only the \(owners) \(subject) it",
                              "remove `\(key)`, or set `name` to \(users.count == 1 ? owners : "one of " + owners)")
        }
        try checkKeys(valid, elsewhere: elsewhere, section: section)
    }
}

/// A section written either as a bare name (`optimizer: adam`) or as a map with a `name` key.
struct NamedSection {
    let name: String
    let map: MappingReader?

    init(_ value: ValueNode, allowed: [String], what: String) throws {
        if value.isMapping {
            let map = try value.mapping()
            let example = "name: \(allowed.first ?? "")"
            self.name = try map.required("name", example: example).choice(allowed, what: what)
            self.map = map
        } else {
            guard case .scalar = value.node, value.node.tagName == .str else {
                throw value.error("expected a name or a map for the \(what), found \(value.found)",
                                  fix: "write e.g. `\(allowed.first ?? "name")` or {name: \(allowed.first ?? "name"), ...}")
            }
            self.name = try value.choice(allowed, what: what)
            self.map = nil
        }
    }

    func optional(_ key: String) -> ValueNode? { map?.optional(key) }
}

extension ValueNode {
    /// The document's root, or nil for an empty document; syntax errors become `ManifestError`s.
    static func root(yaml: String, file: String) throws -> ValueNode? {
        guard yaml.utf8.count <= ManifestFile.maxBytes else { throw ManifestFile.tooLarge(bytes: yaml.utf8.count, file: file) }
        // Before Yams composes the document: keys made of aliases or collections
        // would be expanded and hashed to compare them, before any count could stop it.
        try YAMLKeys.checkPlain(yaml, file: file)
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: yaml)
            root = try parser.singleRoot()
        } catch {
            throw syntaxError(error, file: file)
        }
        guard let root else { return nil }
        // Nodes hold their anchors weakly and the parser owns them: it must outlive the count.
        try withExtendedLifetime(parser) { try YAMLExpansion.check(root, file: file) }
        return ValueNode(node: root, path: "", file: file)
    }

    /// Yams reports syntax problems with a mark; keep its line and its wording.
    private static func syntaxError(_ error: Error, file: String) -> ManifestError {
        let fix = "fix the YAML syntax at that line (indentation with spaces, `key: value`, matching brackets and quotes)"
        guard let yamlError = error as? YamlError else {
            return ManifestError(file: file, line: nil, keyPath: "", message: "invalid YAML: \(error)", fix: fix)
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map { "\($0.text) (line \($0.mark.line)), " } ?? ""
            return ManifestError(file: file, line: mark.line, keyPath: "",
                                 message: "invalid YAML: \(detail)\(problem)", fix: fix)
        case let .duplicatedKeysInMapping(duplicates, context):
            return ManifestError(file: file, line: context.mark.line, keyPath: "",
                                 message: "a key is written twice in one map: \(duplicates.joined(separator: ", "))",
                                 fix: "keep one of the repeated keys")
        case let .reader(problem, _, _, _):
            return ManifestError(file: file, line: nil, keyPath: "", message: "invalid YAML text: \(problem)",
                                 fix: "save the manifest as UTF-8 text")
        default:
            return ManifestError(file: file, line: nil, keyPath: "", message: "invalid YAML: \(yamlError)", fix: fix)
        }
    }
}

extension Node {
    /// The resolved tag (`int`, `float`, `str`, ...); Yams keeps `Tag.name` internal.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
