import Foundation
import RegularFile

/// Reads a manifest's text with limits (`RegularFile`), so a wrong path (a
/// folder, a device, a huge file) ends with a message instead of a crash or a
/// memory blow-up.
enum ManifestFile {
    /// A manifest is a page or two of YAML; 1 MiB leaves room for long comments.
    static let maxBytes = 1 << 20

    static func text(_ url: URL) throws -> String {
        let path = url.path
        func refuse(_ message: String, _ fix: String) -> ManifestError {
            ManifestError(file: path, line: nil, keyPath: "", message: message, fix: fix)
        }
        let data: Data
        do {
            data = try RegularFile.read(path, maxBytes: maxBytes)
        } catch {
            switch error {
            case .cannotOpen(let reason, let permission):
                throw refuse("cannot read the manifest: \(reason)",
                             permission ? "check the file's permissions (it must be readable by this user)"
                                        : "check that the file exists and the path is spelled right")
            case .folder:
                throw refuse("cannot read the manifest: this is a folder, not a YAML file",
                             "pass the manifest file inside it, e.g. \(path)/digits.yaml")
            case .notRegular:
                throw refuse("cannot read the manifest: not a regular file (a device, pipe or socket)",
                             "pass a YAML file saved on disk")
            case .tooLarge(let bytes):
                throw tooLarge(bytes: bytes, file: path)
            case .cannotRead(let reason):
                throw refuse("cannot read the manifest: \(reason)", "check that the file is readable")
            }
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw refuse("cannot read the manifest: the file is not UTF-8 text", "save the manifest as UTF-8 text")
        }
        return text
    }

    /// The one message for a manifest over `maxBytes`, read from a file or given as text.
    static func tooLarge(bytes: Int, file: String) -> ManifestError {
        ManifestError(file: file, line: nil, keyPath: "",
                      message: "the manifest is \(bytes) bytes, over the limit of \(maxBytes) bytes (1 MiB)",
                      fix: "a manifest is a short YAML file; keep data in the CSVs it points at")
    }
}
