import Datasets
import Foundation

/// The digest of every train and test image, in CSV row order: what the data
/// fingerprint says about image contents, and what names a changed file.
/// Kept in an experiment folder as `image_digests.tsv`, which is also the
/// cache that spares a re-run from reading unchanged images again:
///
///     foldwise-image-digests 1
///     <16 hex digest> TAB <bytes> TAB <mtime ns> TAB <absolute path>
public struct ImageDigests: Sendable, Hashable {
    public static let fileName = "image_digests.tsv"
    static let magic = "foldwise-image-digests 1"

    public var train: [FileDigest]
    public var test: [FileDigest]
    public var all: [FileDigest] { train + test }

    public init(train: [FileDigest], test: [FileDigest]) { (self.train, self.test) = (train, test) }

    /// The file's digests by path; empty when it is missing or not of this format (then every image is read).
    public static func read(_ file: URL) -> [String: FileDigest] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [:] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first == Substring(magic) else { return [:] }
        var digests: [String: FileDigest] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let digest = UInt64(fields[0], radix: 16), let size = Int(fields[1]),
                  let modified = Int64(fields[2]) else { continue }
            digests[String(fields[3])] = FileDigest(path: String(fields[3]), size: size, modified: modified, digest: digest)
        }
        return digests
    }

    /// Writes every digest (a path holding a tab or newline is left out: it is read again next time).
    public func write(to file: URL) throws {
        let lines = all.filter { !$0.path.contains("\t") && !$0.path.contains("\n") }
            .map { "\($0.hex)\t\($0.size)\t\($0.modified)\t\($0.path)" }
        do {
            try Data(([Self.magic] + lines).joined(separator: "\n").utf8 + [10]).write(to: file, options: .atomic)
        } catch {
            throw DatasetError(file: file.path, message: "cannot write the image digests: \(error.localizedDescription)",
                               fix: "check that the folder is writable and the disk has space")
        }
    }

    /// The first image whose contents differ from `recorded` (same path, other
    /// digest) or that `recorded` lacks, described for a message; nil when none.
    public func firstChange(from recorded: [String: FileDigest]) -> String? {
        for (split, files) in [("train", train), ("test", test)] {
            for file in files {
                guard let old = recorded[file.path] else { return "\(split) image \(file.path) is not among the images the results were computed from" }
                if old.digest != file.digest {
                    return "\(split) image \(file.path) changed (\(old.size) bytes, digest \(old.hex) then; \(file.size) bytes, digest \(file.hex) now)"
                }
            }
        }
        return nil
    }

    /// The first image whose digest differs from the same row's in `other`
    /// (another machine's copy, in the same row order), described; nil when none.
    public func firstDifference(from other: [UInt64]) -> String? {
        let mine = all
        for (index, file) in mine.enumerated() where index >= other.count || other[index] != file.digest {
            let split = index < train.count ? "train" : "test"
            return "\(split) image \(file.path) differs from the coordinator's (digest \(file.hex) here, \(index < other.count ? FileDigest(path: "", size: 0, modified: 0, digest: other[index]).hex : "none") there)"
        }
        return other.count > mine.count ? "the coordinator has \(other.count) images, this machine \(mine.count)" : nil
    }
}
