import Foundation

/// Reads a file a user named (a manifest, a CSV, an image) only if it is a
/// regular file of bounded size: it is opened first and checked through its
/// descriptor, so a folder, `/dev/zero` or a pipe swapped in between a check
/// and a read cannot block or flood the process. Callers word the `Problem`
/// for their own kind of file.
public enum RegularFile {
    public enum Problem: Error, Sendable, Equatable {
        /// open(2) failed; `permission` when it was EACCES.
        case cannotOpen(reason: String, permission: Bool)
        case folder
        /// A device, pipe or socket.
        case notRegular
        /// More than the caller's limit (`bytes` as fstat saw it, or limit + 1 when it grew while read).
        case tooLarge(bytes: Int)
        case cannotRead(reason: String)
    }

    /// At most `maxBytes` of the file at `path`.
    public static func read(_ path: String, maxBytes: Int = Int.max) throws(Problem) -> Data {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .cannotOpen(reason: String(cString: strerror(errno)), permission: errno == EACCES)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .cannotRead(reason: String(cString: strerror(errno))) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .folder
        default: throw .notRegular
        }
        if Int(status.st_size) > maxBytes { throw .tooLarge(bytes: Int(status.st_size)) }
        let data: Data
        do {
            // One byte past the limit tells a file that grew since fstat.
            data = try handle.read(upToCount: maxBytes == Int.max ? Int.max : maxBytes + 1) ?? Data()
        } catch {
            throw .cannotRead(reason: String(cString: strerror(errno)))
        }
        if data.count > maxBytes { throw .tooLarge(bytes: data.count) }
        return data
    }
}
