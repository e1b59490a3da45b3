/// Text from a peer made safe for one log line: control characters (a newline
/// that would start a forged line, escape sequences that would repaint a
/// terminal) are written as `\u{…}` escapes, and anything past a bound is cut.
public enum LogText {
    /// The longest log line kept whole; a longer one ends in "… (N more characters)".
    public static let maximumLineCharacters = 2_000
    /// The longest identifier (a worker id, a host) kept whole in a line.
    public static let maximumIdentifierCharacters = 64

    /// `text` as one printable line of at most `maximumLineCharacters` (plus the note of what was cut).
    public static func line(_ text: String) -> String {
        escaped(text, limit: maximumLineCharacters)
    }

    /// A peer's identifier as it appears inside a line: escaped and short.
    public static func identifier(_ text: String) -> String {
        escaped(text, limit: maximumIdentifierCharacters)
    }

    /// Whether `text` prints as itself on one line (no control characters).
    public static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { !isControl($0) }
    }

    static func escaped(_ text: String, limit: Int) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                let rest = text.unicodeScalars.count - count
                return result + "… (\(rest) more characters)"
            }
            if isControl(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return result
    }

    /// C0 and C1 controls, DEL, the line and paragraph separators, and format
    /// characters (bidirectional overrides, zero-width joiners) that reorder or hide text.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 { return true }
        return scalar.properties.generalCategory == .format
    }
}
