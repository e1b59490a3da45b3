import Foundation

/// A folder of images named `<id>.<extension>` (Kaggle's train/ and test/).
/// The folder is listed once; lookups do not touch the disk.
public struct ImageFolder: Sendable {
    public var directory: URL
    /// The extension without its dot, as found on disk (e.g. "jpg", "JPEG").
    public var fileExtension: String
    private var fileNames: Set<String>

    public static let jpegExtensions: Set<String> = ["jpg", "jpeg", "jpe"]

    /// `fileExtension` nil: use the JPEG extension found on the most files.
    public init(directory: URL, fileExtension: String?) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw DatasetError(file: directory.path, message: "the image folder does not exist or cannot be read",
                               fix: "check the image folder path in the manifest's data section")
        }
        self.directory = directory
        self.fileNames = Set(names)
        if let fileExtension {
            self.fileExtension = fileExtension.hasPrefix(".") ? String(fileExtension.dropFirst()) : fileExtension
        } else {
            self.fileExtension = try Self.detectExtension(names, directory: directory)
        }
    }

    /// The image file of `id`; `line` is the id's CSV line, for the message.
    public func url(for id: String, csv: URL? = nil, line: Int? = nil) throws -> URL {
        let name = "\(id).\(fileExtension)"
        if fileNames.contains(name) { return directory.appendingPathComponent(name) }
        if fileNames.contains(id) { return directory.appendingPathComponent(id) }
        let source = csv.map { " (\($0.lastPathComponent)\(line.map { " line \($0)" } ?? ""))" } ?? ""
        // Ids name files inside the image folder only; a path in one is refused as such, not looked for.
        if id.contains("/") || id.contains("\\") {
            throw DatasetError(file: csv?.path ?? directory.path,
                               message: "id '\(Self.printable(id))'\(source) holds a path separator; an id names a file inside \(directory.path)",
                               fix: "write the image's file name (without folders) in the id column")
        }
        throw DatasetError(file: directory.appendingPathComponent(name).path,
                           message: "no image for id '\(Self.printable(id))'\(source)",
                           fix: "add the image, or remove the id's row from the CSV")
    }

    /// An id as Swift escapes it (`\0`, `\n`, `\u{1B}`), without the quotes: one printable line.
    private static func printable(_ id: String) -> Substring { String(reflecting: id).dropFirst().dropLast() }

    private static func detectExtension(_ names: [String], directory: URL) throws -> String {
        var counts: [String: Int] = [:]
        for name in names {
            let ext = (name as NSString).pathExtension
            if jpegExtensions.contains(ext.lowercased()) { counts[ext, default: 0] += 1 }
        }
        guard let best = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) else {
            throw DatasetError(file: directory.path, message: "the folder has no .jpg or .jpeg files",
                               fix: "point the manifest at the folder of JPEG images, or convert the images to JPEG")
        }
        return best.key
    }
}
