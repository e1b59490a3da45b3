import Datasets
import Foundation

/// A tiny Kaggle-layout copy of the committed digits (data/digits) in a fresh
/// temporary folder: train.csv, train/, test/, sample_submission.csv and
/// test_labels.csv, with every class present so held-out labels always
/// name a training class. Small enough that a fold trains in a fraction of a
/// second even in a debug build. Tests damage single files to provoke errors.
public struct TemporaryDataset {
    /// The repository's root folder, found from this file's path.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let digits = repositoryRoot.appendingPathComponent("data/digits")

    public let directory: URL
    /// train.csv's rows in order (the header is line 1, row i is line i + 2).
    public let trainIDs: [String]
    public let trainLabels: [Int]
    /// sample_submission.csv's and test_labels.csv's rows in order.
    public let testIDs: [String]
    public let testLabels: [Int]

    public var trainCSV: URL { url("train.csv") }
    public var sampleSubmission: URL { url("sample_submission.csv") }
    public var testLabelsCSV: URL { url("test_labels.csv") }
    public func trainImage(_ id: String) -> URL { url("train/\(id).jpg") }
    public func testImage(_ id: String) -> URL { url("test/\(id).jpg") }
    public func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    /// The first `perClass` train rows of every digit (in train.csv order) and
    /// the first `testRows` held-out rows, copied into a new temporary folder.
    public static func digits(perClass: Int = 6, testRows: Int = 20) throws -> TemporaryDataset {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("foldwise-dataset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let allTrain = try readRows(digits.appendingPathComponent("train.csv"))
        var taken: [Int: Int] = [:]
        let train = allTrain.filter { row in
            taken[row.label, default: 0] += 1
            return taken[row.label]! <= perClass
        }
        let test = Array(try readRows(digits.appendingPathComponent("test_labels.csv")).prefix(testRows))
        let dataset = TemporaryDataset(directory: directory, trainIDs: train.map(\.id), trainLabels: train.map(\.label),
                                       testIDs: test.map(\.id), testLabels: test.map(\.label))
        try dataset.writeCSV("train.csv", rows: train.map { "\($0.id),\($0.label)" })
        try dataset.writeCSV("sample_submission.csv", rows: test.map { "\($0.id),0" })
        try dataset.writeCSV("test_labels.csv", rows: test.map { "\($0.id),\($0.label)" })
        try copyImages(train.map(\.id), split: "train", to: dataset.url("train"))
        try copyImages(test.map(\.id), split: "test", to: dataset.url("test"))
        return dataset
    }

    /// The manifest's `data:` section for this data (8×8 images, `channels` channels).
    public static func dataSection(channels: Int = 1) -> String {
        """
        data:
          train_csv: train.csv
          train_images: train
          test_images: test
          sample_submission: sample_submission.csv
          test_labels: test_labels.csv
          image_size: 8
          channels: \(channels)
        """
    }

    /// A two-fold, one-epoch manifest over this data with a one-stage,
    /// eight-channel ResNet on 8×8 inputs. `modelLines` are appended to the
    /// model's map (e.g. `"epochs: 2"` must not repeat a key already there).
    public func manifestYAML(lr: String = "1e-2", epochs: String = "1", channels: Int = 1,
                             modelLines: [String] = []) -> String {
        let extra = modelLines.map { "    \($0)\n" }.joined()
        return """
            name: tiny
            \(Self.dataSection(channels: channels))
            cv: {folds: 2, seeds: [0], stratify: true}
            metric: accuracy
            models:
              - name: tiny
                arch: {name: resnet, widths: [8], blocks: [1]}
                lr: \(lr)
                epochs: \(epochs)
                batch_size: 16

            """ + extra
    }

    /// Writes `yaml` beside the data (relative paths resolve from there).
    @discardableResult
    public func writeManifest(_ yaml: String, file: String = "manifest.yaml") throws -> URL {
        let target = url(file)
        try Data(yaml.utf8).write(to: target)
        return target
    }

    /// Replaces a CSV's rows below the header `id,label`.
    public func writeCSV(_ file: String, rows: [String]) throws {
        try Data((["id,label"] + rows).joined(separator: "\n").utf8 + [10]).write(to: url(file))
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    static func readRows(_ csv: URL) throws -> [(id: String, label: Int)] {
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ",").map(String.init)
            return (fields[0], Int(fields[1])!)
        }
    }

    static func copyImages(_ ids: [String], split: String, to target: URL) throws {
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let source = digits.appendingPathComponent(split)
        for id in ids {
            try FileManager.default.copyItem(at: source.appendingPathComponent(id + ".jpg"),
                                             to: target.appendingPathComponent(id + ".jpg"))
        }
    }
}

/// Every regular file under a folder with its bytes, keyed by relative path:
/// two snapshots are equal only when no file was added, removed or changed.
public func folderSnapshot(_ folder: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    guard FileManager.default.fileExists(atPath: folder.path) else { return files }
    for relative in try FileManager.default.subpathsOfDirectory(atPath: folder.path) {
        var isFolder: ObjCBool = false
        let file = folder.appendingPathComponent(relative)
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), !isFolder.boolValue {
            files[relative] = try Data(contentsOf: file)
        }
    }
    return files
}
