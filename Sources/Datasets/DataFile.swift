import Foundation

/// Reads one data file (a CSV, an image) after checking it is a regular file,
/// so a folder, `/dev/zero` or a pipe in its place is a plain message naming
/// the file rather than a Foundation error or a read that never ends.
enum DataFile {
    /// CSVs are parsed in memory; larger ones are refused before they are read.
    static let maxCSVBytes = 256 << 20

    /// `what` names the file in messages ("CSV file", "image"); `fix` says what to do when it is missing.
    /// A file over `maxBytes` is refused unread, naming `limitKey` when a manifest key raises the limit.
    static func read(_ url: URL, what: String, fix: String, maxBytes: Int = Int.max, limitKey: String? = nil) throws -> Data {
        let path = url.path
        // Opened first and checked through the descriptor: a file swapped for a
        // pipe between a check and an open cannot block the read.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            let permission = errno == EACCES
            throw DatasetError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))",
                               fix: permission ? "check the file's permissions (it must be readable by this user)" : fix)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
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
        if Int(status.st_size) > maxBytes {
            throw DatasetError(file: path, message: "the \(what) is \(status.st_size) bytes, over the limit of \(maxBytes) bytes",
                               fix: limitKey.map { "check the file; if it is right, raise \($0)" }
                                   ?? "split the file or keep only the columns Foldwise reads")
        }
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw DatasetError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))", fix: fix)
        }
    }
}
