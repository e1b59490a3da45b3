import Foundation

/// Reads a manifest's text with limits, so a wrong path (a folder, a device,
/// a huge file) ends with a message instead of a crash or a memory blow-up.
enum ManifestFile {
    /// A manifest is a page or two of YAML; 1 MiB leaves room for long comments.
    static let maxBytes = 1 << 20

    static func text(_ url: URL) throws -> String {
        let path = url.path
        func refuse(_ message: String, _ fix: String) -> ManifestError {
            ManifestError(file: path, line: nil, keyPath: "", message: message, fix: fix)
        }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw refuse("cannot read the manifest: \(String(cString: strerror(errno)))",
                         "check that the file exists and the path is spelled right")
        }
        let kind = status.st_mode & S_IFMT
        if kind == S_IFDIR {
            throw refuse("cannot read the manifest: this is a folder, not a YAML file",
                         "pass the manifest file inside it, e.g. \(path)/digits.yaml")
        }
        guard kind == S_IFREG else {
            throw refuse("cannot read the manifest: not a regular file (a device, pipe or socket)",
                         "pass a YAML file saved on disk")
        }
        guard Int(status.st_size) <= maxBytes else {
            throw refuse("the manifest is \(status.st_size) bytes, over the limit of \(maxBytes) bytes (1 MiB)",
                         "a manifest is a short YAML file; keep data in the CSVs it points at")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw refuse("cannot read the manifest: \(String(cString: strerror(errno)))",
                         "check the file's permissions (it must be readable by this user)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else {
            throw refuse("the manifest is over the limit of \(maxBytes) bytes (1 MiB)",
                         "a manifest is a short YAML file; keep data in the CSVs it points at")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw refuse("cannot read the manifest: the file is not UTF-8 text", "save the manifest as UTF-8 text")
        }
        return text
    }
}
