import Foundation
import RegularFile

/// Reads one data file (a CSV, an image) only if it is a regular file within
/// its limit (`RegularFile`), so a folder, `/dev/zero` or a pipe in its place is
/// a plain message naming the file rather than a Foundation error or a read
/// that never ends.
enum DataFile {
    /// CSVs are parsed in memory; larger ones are refused before they are read.
    static let maxCSVBytes = 256 << 20

    /// `what` names the file in messages ("CSV file", "image"); `fix` says what to do when it is missing.
    /// A file over `maxBytes` is refused unread, naming `limitKey` when a manifest key raises the limit.
    static func read(_ url: URL, what: String, fix: String, maxBytes: Int = Int.max, limitKey: String? = nil) throws -> Data {
        let path = url.path
        do {
            return try RegularFile.read(path, maxBytes: maxBytes)
        } catch {
            switch error {
            case .cannotOpen(let reason, let permission):
                throw DatasetError(file: path, message: "cannot read the \(what): \(reason)",
                                   fix: permission ? "check the file's permissions (it must be readable by this user)" : fix)
            case .folder:
                throw DatasetError(file: path, message: "cannot read the \(what): this is a folder, not a file",
                                   fix: "point at the \(what) itself, or remove the folder")
            case .notRegular:
                throw DatasetError(file: path, message: "cannot read the \(what): not a regular file (a device, pipe or socket)",
                                   fix: "point at a \(what) saved on disk")
            case .tooLarge(let bytes):
                throw DatasetError(file: path, message: "the \(what) is \(bytes) bytes, over the limit of \(maxBytes) bytes",
                                   fix: limitKey.map { "check the file; if it is right, raise \($0)" }
                                       ?? "split the file or keep only the columns Foldwise reads")
            case .cannotRead(let reason):
                throw DatasetError(file: path, message: "cannot read the \(what): \(reason)", fix: fix)
            }
        }
    }
}
