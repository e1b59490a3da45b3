/// A problem with the user's data (CSV, image folder, image file, .npy file):
/// which file and line, what is wrong, and how to fix it.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var message: String
    public var fix: String

    public init(file: String, line: Int? = nil, message: String, fix: String) {
        self.file = file
        self.line = line
        self.message = message
        self.fix = fix
    }

    /// "FILE:LINE: message — fix", the form editors and terminals link to.
    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return "\(location): \(message) — \(fix)"
    }
}
