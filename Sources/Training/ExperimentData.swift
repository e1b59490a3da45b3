import Datasets
import Engine
import Foundation
import Manifests

/// Everything a manifest's data section points at, read and checked once:
/// the train table, every train and test image decoded, the held-out labels.
/// Any problem is a `DatasetError` raised before training starts.
public final class ExperimentData: @unchecked Sendable {
    public let train: TrainTable
    public let test: TestTable
    public let trainImages: ImageSet
    public let testImages: ImageSet
    /// Labels of the test rows when the manifest names `test_labels`.
    public let testLabels: [Int]?
    /// The digest of every image file's bytes, train then test in CSV order.
    public let imageDigests: ImageDigests
    public var classes: Int { train.classNames.count }

    /// Identifies the data a result was computed from: train ids and labels,
    /// class names, test ids, the image geometry and every image file's bytes
    /// (16 hex digits). Results for other data are never mixed into the same folder.
    public var fingerprint: String {
        var h = stableHash(train.classNames.joined(separator: "\u{1F}"))
        func mix(_ string: String) { h = (h ^ stableHash(string)) &* 0x0000_0100_0000_01B3 }
        for (id, label) in zip(train.ids, train.labels) { mix("\(id)\u{1F}\(label)") }
        for id in test.ids { mix(id) }
        let spec = trainImages.spec
        mix("\(spec.channels)x\(spec.height)x\(spec.width)")
        for file in imageDigests.all { mix(file.hex) }
        return String(h, radix: 16).leftPadded(to: 16)
    }

    /// `digestCache`: digests of earlier reads by path (`ImageDigests.read`);
    /// an image whose size and modification time are unchanged is not read again.
    public init(manifest: Manifest, threads: Int, digestCache: [String: FileDigest] = [:]) throws {
        let d = manifest.data
        train = try TrainTable.load(csv: manifest.resolve(d.trainCSV), idColumn: d.idColumn,
                                    labelColumn: d.labelColumn, groupColumn: manifest.cv.groupColumn)
        guard train.classNames.count >= 2 else {
            throw DatasetError(file: train.file.path, message: "the label column has only one class (\(train.classNames.first ?? ""))",
                               fix: "a classifier needs at least two classes in the training labels")
        }
        let testFile = manifest.resolve(d.testCSV ?? d.sampleSubmission ?? "")
        test = try TestTable.load(csv: testFile, idColumn: d.idColumn)
        try MemoryCheck.check(manifest, trainRows: train.ids.count, testRows: test.ids.count)
        let spec = ImageSpec(height: d.imageHeight, width: d.imageWidth, channels: d.channels, mean: d.mean, std: d.std)
        let trainFolder = try ImageFolder(directory: manifest.resolve(d.trainImages), fileExtension: d.imageExtension)
        let testFolder = try ImageFolder(directory: manifest.resolve(d.testImages), fileExtension: d.imageExtension)
        trainImages = try ImageSet.decode(ids: train.ids, folder: trainFolder, spec: spec, csv: train.file, threads: threads,
                                          maxPixels: d.imagePixelLimit)
        testImages = try ImageSet.decode(ids: test.ids, folder: testFolder, spec: spec, csv: test.file, threads: threads,
                                         maxPixels: d.imagePixelLimit)
        imageDigests = ImageDigests(
            train: try FileDigests.compute(train.ids.map { try trainFolder.url(for: $0) }, cache: digestCache, threads: threads),
            test: try FileDigests.compute(test.ids.map { try testFolder.url(for: $0) }, cache: digestCache, threads: threads))
        let (testIDs, classNames) = (test.ids, train.classNames)
        testLabels = try d.testLabels.map {
            try heldOutLabels(csv: manifest.resolve($0), idColumn: d.idColumn, labelColumn: d.labelColumn,
                              ids: testIDs, classNames: classNames)
        }
    }

    /// Whether `cv` can split these rows: what `validate`, `train` and `run` check
    /// before training (`FoldCheck`), so a split with empty folds never starts.
    public func checkFolds(_ cv: CVSection) throws {
        try FoldCheck.check(folds: cv.folds, labels: train.labels, classNames: train.classNames,
                            groups: train.groups, stratify: cv.stratify, file: train.file)
    }

    /// The fold of every train row for one CV seed: group k-fold when the
    /// manifest names a group column, else stratified or plain k-fold.
    public func folds(_ cv: CVSection, seed: Int) -> [Int] {
        let s = UInt64(bitPattern: Int64(seed))
        if let groups = train.groups { return groupFolds(groups: groups, folds: cv.folds, seed: s) }
        if cv.stratify { return stratifiedFolds(labels: train.labels, folds: cv.folds, seed: s) }
        return randomFolds(count: train.ids.count, folds: cv.folds, seed: s)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
