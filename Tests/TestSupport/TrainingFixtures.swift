import Datasets
import Foundation

/// Small Kaggle-layout data sets for the Training tests, made at test time
/// from the committed digits (data/digits) so a fold trains in well under a
/// second. Manifests are written as YAML text, because this target does not
/// depend on Manifests; the tests load them with `Manifest.load`.
public struct TrainingDataset {
    /// The repository's root folder, found from this file's path.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    public static let digitsManifest = repositoryRoot.appendingPathComponent("manifests/digits.yaml")
    static let digits = repositoryRoot.appendingPathComponent("data/digits")

    public let directory: URL
    /// Ids and digit labels of train.csv's rows, in order.
    public let trainIDs: [String]
    public let trainLabels: [Int]

    /// A fresh folder under the system's temporary folder; the caller removes it.
    public static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Copies the first `trainRows` digits train rows whose label `keeps`
    /// accepts (with a `group` column from `groupOf(row, label)` when given)
    /// and the first `testRows` test rows.
    public static func digits(in directory: URL, trainRows: Int, testRows: Int,
                              keeping keeps: (Int) -> Bool = { _ in true },
                              groupOf: ((Int, Int) -> String)? = nil) throws -> TrainingDataset {
        let train = Array(try readRows(digits.appendingPathComponent("train.csv")).filter { keeps(Int($0.label)!) }
            .prefix(trainRows))
        let test = Array(try readRows(digits.appendingPathComponent("sample_submission.csv")).prefix(testRows))
        let header = groupOf == nil ? "id,label" : "id,label,group"
        let trainLines = train.enumerated().map { row, fields in
            ([fields.id, fields.label] + (groupOf.map { [$0(row, Int(fields.label)!)] } ?? [])).joined(separator: ",")
        }
        try write(([header] + trainLines).joined(separator: "\n") + "\n", to: directory.appendingPathComponent("train.csv"))
        try write((["id"] + test.map(\.id)).joined(separator: "\n") + "\n", to: directory.appendingPathComponent("test.csv"))
        try copyImages(train.map(\.id), from: "train", to: directory.appendingPathComponent("train"))
        try copyImages(test.map(\.id), from: "test", to: directory.appendingPathComponent("test"))
        return TrainingDataset(directory: directory, trainIDs: train.map(\.id), trainLabels: train.map { Int($0.label)! })
    }

    /// Replaces the test set with `images` (ids t000, t001, …) in `folder`;
    /// calling it again with as many images writes the same test.csv.
    public func writeTestImages(_ images: [DecodedImage], folder: String) throws {
        let ids = images.indices.map { String(format: "t%03d", $0) }
        try Self.write((["id"] + ids).joined(separator: "\n") + "\n", to: directory.appendingPathComponent("test.csv"))
        let target = directory.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for (id, image) in zip(ids, images) {
            try JPEG.write(image, to: target.appendingPathComponent(id + ".jpg"), quality: 100)
        }
    }

    /// Writes a manifest beside the data and returns its URL. `cv` and
    /// `models` are YAML: a flow mapping and the lines of the model list.
    public func writeManifest(file: String = "experiment.yaml", imageSize: Int, testImages: String = "test",
                              cv: String = "{folds: 5, seeds: [0], stratify: true}", models: [String]) throws -> URL {
        let yaml = """
            name: training-test
            data:
              train_csv: train.csv
              train_images: train
              test_images: \(testImages)
              test_csv: test.csv
              image_size: \(imageSize)
              channels: 1
              mean: 0.5
              std: 0.5
            cv: \(cv)
            metric: accuracy
            models:

            """ + models.map { "  - \($0)\n" }.joined()
        let url = directory.appendingPathComponent(file)
        try Self.write(yaml, to: url)
        return url
    }

    static func readRows(_ csv: URL) throws -> [(id: String, label: String)] {
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ",").map(String.init)
            return (fields[0], fields[1])
        }
    }

    static func copyImages(_ ids: [String], from split: String, to target: URL) throws {
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let source = digits.appendingPathComponent(split)
        for id in ids {
            try FileManager.default.copyItem(at: source.appendingPathComponent(id + ".jpg"),
                                             to: target.appendingPathComponent(id + ".jpg"))
        }
    }

    static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url)
    }
}
