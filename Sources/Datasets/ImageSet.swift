import Foundation

/// The size every image is resized to and how it is normalised:
/// value = (pixel / 255 - mean[c]) / std[c].
public struct ImageSpec: Sendable, Equatable, Codable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var mean: [Float]
    public var std: [Float]

    public init(height: Int, width: Int, channels: Int, mean: [Float]? = nil, std: [Float]? = nil) {
        let mean = mean ?? [Float](repeating: 0, count: channels)
        let std = std ?? [Float](repeating: 1, count: channels)
        precondition(height > 0 && width > 0 && (channels == 1 || channels == 3),
                     "ImageSpec: need positive size and 1 or 3 channels, got \(height)x\(width)x\(channels)")
        precondition(mean.count == channels && std.count == channels && std.allSatisfy { $0 > 0 },
                     "ImageSpec: need \(channels) means and positive stds, got mean \(mean) std \(std)")
        self.height = height
        self.width = width
        self.channels = channels
        self.mean = mean
        self.std = std
    }

    /// Floats per image (C·H·W).
    public var imageSize: Int { channels * height * width }
}

/// Every image of a split decoded, resized and normalised once, held in
/// memory as CHW Float32. Immutable after creation, so it is shared freely
/// between the trainer and the batch loader's thread.
public final class ImageSet: @unchecked Sendable {
    public let spec: ImageSpec
    public let count: Int
    private let scalars: [Float]

    public init(spec: ImageSpec, scalars: [Float]) {
        precondition(scalars.count % spec.imageSize == 0,
                     "ImageSet: \(scalars.count) values is not a whole number of \(spec.channels)x\(spec.height)x\(spec.width) images")
        self.spec = spec
        self.count = scalars.count / spec.imageSize
        self.scalars = scalars
    }

    /// Image `index` as CHW floats.
    public func image(_ index: Int) -> ArraySlice<Float> {
        precondition(index >= 0 && index < count, "ImageSet: image \(index) of \(count)")
        let start = index * spec.imageSize
        return scalars[start..<(start + spec.imageSize)]
    }

    /// Copies image `index` into `buffer` starting at `offset`.
    public func copy(_ index: Int, into buffer: inout [Float], at offset: Int) {
        let source = image(index)
        buffer.replaceSubrange(offset..<(offset + spec.imageSize), with: source)
    }

    /// Decodes every id's image with `threads` threads. Every image is checked
    /// first (missing, corrupt, truncated, wrong channel count); all problems
    /// are reported together in one error before any training starts.
    public static func decode(ids: [String], folder: ImageFolder, spec: ImageSpec,
                              csv: URL?, threads: Int, maxPixels: Int = JPEG.defaultMaxPixels) throws -> ImageSet {
        let workers = max(1, min(threads, ids.count))
        let chunkSize = (ids.count + workers - 1) / max(workers, 1)
        let results = ChunkResults(count: workers)
        // Every worker decodes straight into its rows of the one array: the data set is held once, not twice.
        var scalars = [Float](repeating: 0, count: ids.count * spec.imageSize)
        scalars.withUnsafeMutableBufferPointer { buffer in
            let rows = RowsPointer(base: buffer.baseAddress)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let range = (worker * chunkSize)..<min(ids.count, (worker + 1) * chunkSize)
                guard let base = rows.base, !range.isEmpty else { return }
                results.store(worker, decodeChunk(ids[range], into: base + range.lowerBound * spec.imageSize,
                                                  folder: folder, spec: spec, maxPixels: maxPixels))
            }
        }
        let problems = results.all().flatMap(\.problems)
        if !problems.isEmpty {
            throw summary(problems, folder: folder, total: ids.count, csv: csv)
        }
        return ImageSet(spec: spec, scalars: scalars)
    }

    /// One image file as normalised CHW floats of `spec`'s size.
    public static func load(_ url: URL, spec: ImageSpec, maxPixels: Int = JPEG.defaultMaxPixels) throws -> [Float] {
        let data = try JPEG.readFile(url, maxPixels: maxPixels)
        let header = try JPEG.info(data: data, name: url.path)
        try JPEG.checkPixels(width: header.width, height: header.height, maxPixels: maxPixels, name: url.path)
        try checkChannels(stored: header.components, spec: spec, file: url)
        let image = try JPEG.decode(data: data, header: header, components: spec.channels, name: url.path)
        var values = Resize.bilinear(image, height: spec.height, width: spec.width)
        let plane = spec.height * spec.width
        for c in 0..<spec.channels {
            let scale = 1 / (255 * spec.std[c])
            let shift = spec.mean[c] / spec.std[c]
            for i in (c * plane)..<((c + 1) * plane) { values[i] = values[i] * scale - shift }
        }
        return values
    }

    /// Grey and RGB images load as the manifest's channels say; CMYK (4) has no such setting.
    private static func checkChannels(stored: Int, spec: ImageSpec, file: URL) throws {
        guard stored != spec.channels else { return }
        let target = spec.channels == 1 ? "greyscale" : "RGB"
        guard stored == 1 || stored == 3 else {
            throw DatasetError(file: file.path,
                               message: "the image is CMYK or another \(stored)-channel JPEG; Foldwise reads grey (1) or RGB (3) images",
                               fix: "convert the image to \(target), e.g. `convert IN -colorspace sRGB OUT.jpg`")
        }
        throw DatasetError(file: file.path,
                           message: "the image has \(stored) channel\(stored == 1 ? "" : "s") but the manifest expects \(spec.channels)",
                           fix: "set the image channels to \(stored) in the manifest's data section, or convert every image to \(target)")
    }

    private static func decodeChunk(_ ids: ArraySlice<String>, into rows: UnsafeMutablePointer<Float>, folder: ImageFolder,
                                    spec: ImageSpec, maxPixels: Int) -> Chunk {
        var chunk = Chunk()
        for (offset, id) in ids.enumerated() {
            do {
                let values = try load(folder.url(for: id), spec: spec, maxPixels: maxPixels)
                values.withUnsafeBufferPointer { (rows + offset * spec.imageSize).update(from: $0.baseAddress!, count: spec.imageSize) }
            } catch let error as DatasetError {
                chunk.problems.append(Problem(id: id, error: error))
            } catch {
                chunk.problems.append(Problem(id: id, error: DatasetError(file: id, message: "\(error)", fix: "check the image")))
            }
        }
        return chunk
    }

    /// One error for all problems; missing images name their CSV line.
    private static func summary(_ problems: [Problem], folder: ImageFolder, total: Int, csv: URL?) -> DatasetError {
        let lines = csv.map(idLines) ?? [:]
        let errors = problems.map { problem -> DatasetError in
            guard let line = lines[problem.id], let csv else { return problem.error }
            var error = problem.error
            error.message += " (\(csv.lastPathComponent) line \(line))"
            return error
        }
        if errors.count == 1 { return errors[0] }
        let shown = errors.prefix(20).map { "  \($0)" }
        let more = errors.count > 20 ? ["  … and \(errors.count - 20) more"] : []
        return DatasetError(file: folder.directory.path,
                            message: "\(errors.count) of \(total) images cannot be used:\n" + (shown + more).joined(separator: "\n"),
                            fix: "fix or remove the images listed above (nothing was trained)")
    }

    /// The first CSV line on which each value appears; only read to word an error.
    private static func idLines(_ csv: URL) -> [String: Int] {
        guard let table = try? CSVFile.load(csv) else { return [:] }
        var lines: [String: Int] = [:]
        for row in table.rows {
            for field in row.fields {
                let value = field.trimmingCharacters(in: .whitespaces)
                if lines[value] == nil { lines[value] = row.line }
            }
        }
        return lines
    }
}

private struct Problem: Sendable {
    var id: String
    var error: DatasetError
}

private struct Chunk: Sendable {
    var problems: [Problem] = []
}

/// The decoded array's storage, shared by the decode workers: each writes only its own rows.
private struct RowsPointer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>?
}

/// Per-worker results of a parallel decode, guarded by a lock.
private final class ChunkResults: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [Chunk]

    init(count: Int) {
        chunks = [Chunk](repeating: Chunk(), count: count)
    }

    func store(_ index: Int, _ chunk: Chunk) {
        lock.lock()
        chunks[index] = chunk
        lock.unlock()
    }

    func all() -> [Chunk] {
        lock.lock()
        defer { lock.unlock() }
        return chunks
    }
}
