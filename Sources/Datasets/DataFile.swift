import Foundation

/// Reads one data file (a CSV, an image) after checking it is a regular file,
/// so a folder, `/dev/zero` or a pipe in its place is a plain message naming
/// the file rather than a Foundation error or a read that never ends.
enum DataFile {
    /// `what` names the file in messages ("CSV file", "image"); `fix` says what to do when it is missing.
    static func read(_ url: URL, what: String, fix: String) throws -> Data {
        let path = url.path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw DatasetError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))", fix: fix)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR:
            throw DatasetError(file: path, message: "cannot read the \(what): this is a folder, not a file",
                               fix: "point at the \(what) itself, or remove the folder")
        default:
            throw DatasetError(file: path, message: "cannot read the \(what): not a regular file (a device, pipe or socket)",
                               fix: "point at a \(what) saved on disk")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DatasetError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))",
                               fix: "check the file's permissions (it must be readable by this user)")
        }
        defer { try? handle.close() }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw DatasetError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))", fix: fix)
        }
    }
}
