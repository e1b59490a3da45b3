import Datasets
import Engine
import Foundation
import Manifests

/// The `.npy` files a training run leaves in its output folder (rows follow
/// train.csv / the test CSV order, written in train_ids.csv and test_ids.csv):
///
///     experiment.json                      manifest hash and the resolved manifest
///     labels.npy  folds_seed<S>.npy        int64 train labels; fold of each train row
///     classes.json                         class names in label order
///     <model>/seed<S>/fold<K>.{oof,rows,test}.npy, fold<K>.json, fold<K>.ckpt (weights)
///     <model>/oof_seed<S>.npy  test_seed<S>.npy   once every fold of the seed is present
///     <model>/oof.npy  test.npy                    averaged over the complete seeds
///
/// Those are the set `last`; a model's other sets (`swa`, `snapshot-k`,
/// `snapshots`, `best`) sit beside it as `fold<K>.<set>.{oof,test}.npy` and
/// `<model>/<set>/{oof_seed<S>,test_seed<S>,oof,test}.npy`.
///
/// Every file is written atomically; a folder that holds another manifest's
/// results is refused rather than mixed.
public struct PredictionFiles {
    public let directory: URL
    public let manifest: Manifest

    /// `images`: the data's image digests, checked against those the folder
    /// recorded (to name a changed image) and recorded for the next run.
    public init(directory: URL, manifest: Manifest, dataFingerprint: String, images: ImageDigests? = nil) throws {
        (self.directory, self.manifest) = (directory, manifest)
        try prepare(dataFingerprint: dataFingerprint, images: images)
        try images?.write(to: url(ImageDigests.fileName))
    }

    /// Refuses a folder that holds anything but results of this manifest on
    /// this data, then records both in experiment.json.
    private func prepare(dataFingerprint: String, images: ImageDigests?) throws {
        let fm = FileManager.default
        let marker = directory.appendingPathComponent("experiment.json")
        if fm.fileExists(atPath: marker.path) {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            guard let existing = try? Data(contentsOf: marker),
                  let recorded = try? decoder.decode(ExperimentMarker.self, from: existing) else {
                throw DatasetError(file: marker.path, message: "the output folder's experiment.json is unreadable",
                                   fix: "choose another folder with --out, or delete this one to start over")
            }
            let hash = recorded.manifestHash
            if hash != manifest.hash {
                throw DatasetError(file: directory.path,
                                   message: "this folder holds results of another manifest (hash \(hash), this one is \(manifest.hash))",
                                   fix: "choose another folder with --out, or delete this one to start over")
            }
            if let data = recorded.dataFingerprint, data != dataFingerprint {
                throw DatasetError(file: directory.path,
                                   message: "this folder holds results computed on other data (fingerprint \(data), the data now is \(dataFingerprint)): \(dataChange(images))",
                                   fix: "restore the data the results were computed from, or choose another folder (--out for train, --dir for run), or delete this one to start over")
            }
        } else if let contents = try? fm.contentsOfDirectory(atPath: directory.path),
                  !contents.filter({ $0 != PredictionFilesBookkeeping.lockFile }).isEmpty {
            throw DatasetError(file: directory.path, message: "the output folder is not empty and holds no Foldwise results",
                               fix: "choose a new or empty folder with --out")
        }
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DatasetError(file: directory.path, message: "cannot create the output folder: \(error.localizedDescription)",
                               fix: "choose a writable folder with --out")
        }
        let json = "{\"manifest_hash\": \"\(manifest.hash)\", \"data_fingerprint\": \"\(dataFingerprint)\", "
            + "\"manifest\": \(manifest.canonicalJSON())}\n"
        try writeAtomically(Data(json.utf8), to: marker)
    }

    /// What changed since the folder's results were computed, as far as its recorded image digests tell.
    private func dataChange(_ images: ImageDigests?) -> String {
        let recorded = ImageDigests.read(url(ImageDigests.fileName))
        guard let images, !recorded.isEmpty else {
            return "the CSVs or images changed, or the folder was written by a Foldwise release whose fingerprint left out image contents"
        }
        return images.firstChange(from: recorded)
            ?? "no image changed, so the CSVs did (ids, labels or class names) or the manifest's image size or channels"
    }

    /// Files every run rewrites with the same contents; returns their paths.
    @discardableResult
    public func writeCommon(data: ExperimentData, seeds: [Int]) throws -> [String] {
        try NPY.write(ints: data.train.labels, shape: [data.train.labels.count], to: url("labels.npy"))
        for seed in seeds {
            let folds = data.folds(manifest.cv, seed: seed)
            try NPY.write(ints: folds, shape: [folds.count], to: url("folds_seed\(seed).npy"))
        }
        try writeAtomically(Data((["id"] + data.train.ids).joined(separator: "\n").utf8 + [10]), to: url("train_ids.csv"))
        try writeAtomically(Data((["id"] + data.test.ids).joined(separator: "\n").utf8 + [10]), to: url("test_ids.csv"))
        // Class names in label order (label k is classes[k]), for CSV exports.
        try writeAtomically(try JSONEncoder().encode(data.train.classNames), to: url("classes.json"))
        return (["experiment.json", "labels.npy", "train_ids.csv", "test_ids.csv", "classes.json"] + seeds.map { "folds_seed\($0).npy" })
            .map { url($0).path }
    }

    /// Writes one fold's predictions; returns the paths written.
    public func write(_ result: FoldResult) throws -> [String] {
        let t = result.task
        let base = "\(t.model)/seed\(t.seed)/fold\(t.fold)"
        try FileManager.default.createDirectory(at: url("\(t.model)/seed\(t.seed)"), withIntermediateDirectories: true)
        try NPY.write(result.oof, to: url(base + ".oof.npy"))
        try NPY.write(ints: result.validationRows, shape: [result.validationRows.count], to: url(base + ".rows.npy"))
        try NPY.write(result.test, to: url(base + ".test.npy"))
        var written = [base + ".oof.npy", base + ".rows.npy", base + ".test.npy"]
        for set in result.extraSets {
            try NPY.write(set.oof, to: url("\(base).\(set.name).oof.npy"))
            try NPY.write(set.test, to: url("\(base).\(set.name).test.npy"))
            written += ["\(base).\(set.name).oof.npy", "\(base).\(set.name).test.npy"]
        }
        let info = try JSONEncoder().encode(FoldSummary(task: t, score: result.score, history: result.history))
        try writeAtomically(info, to: url(base + ".json"))
        let store = ParameterStore(result.weights.map { Parameter(name: $0.name, value: $0.value, isBuffer: $0.isBuffer) })
        try Checkpoint.save(store, metadata: ["architecture": result.architecture, "manifest_hash": manifest.hash,
                                              "model": t.model, "seed": "\(t.seed)", "fold": "\(t.fold)"],
                            to: url(base + ".ckpt"))
        return (written + [base + ".json", base + ".ckpt"]).map { url($0).path }
    }

    /// Where a set's files sit: the fold files' suffix and the folder of its assembled arrays.
    private func layout(model: String, set: String) -> (suffix: String, folder: String) {
        set == "last" ? ("", model) : (".\(set)", "\(model)/\(set)")
    }

    /// Assembles a seed's full OOF matrix and fold-averaged test predictions when
    /// every fold is on disk (from this run or an earlier one); nil otherwise.
    public func assembleSeed(model: String, set: String = "last", seed: Int, trainRows: Int,
                             classes: Int) throws -> (oof: Tensor, test: Tensor)? {
        let (suffix, folder) = layout(model: model, set: set)
        var folds: [FoldPredictions] = []
        for fold in 0..<manifest.cv.folds {
            let base = "\(model)/seed\(seed)/fold\(fold)"
            guard FileManager.default.fileExists(atPath: url(base + suffix + ".test.npy").path) else { return nil }
            // Row indices are int64 in the file; reading them as integers keeps them exact past 2^24 rows.
            let rowFile = try NPY.read(url(base + ".rows.npy"))
            let test = try NPY.read(url(base + suffix + ".test.npy"))
            folds.append(FoldPredictions(rows: rowFile.integers ?? rowFile.floats.map { Int($0) },
                                         oof: try NPY.read(url(base + suffix + ".oof.npy")).floats,
                                         test: Tensor(shape: test.shape, scalars: test.floats)))
        }
        let assembled: (oof: Tensor, test: Tensor)
        do {
            assembled = try OOFAssembly.seed(folds, trainRows: trainRows, classes: classes)
        } catch {
            throw DatasetError(file: url("\(model)/seed\(seed)").path, message: "\(error)",
                               fix: "delete the output folder and train again")
        }
        try FileManager.default.createDirectory(at: url(folder), withIntermediateDirectories: true)
        try NPY.write(assembled.oof, to: url("\(folder)/oof_seed\(seed).npy"))
        try NPY.write(assembled.test, to: url("\(folder)/test_seed\(seed).npy"))
        return assembled
    }

    /// Averages complete seeds into `<model>/oof.npy` and `<model>/test.npy`
    /// (`<model>/<set>/…` for a set other than `last`); returns the paths too.
    public func writeModelAverage(model: String, set: String = "last",
                                  seeds: [(oof: Tensor, test: Tensor)]) throws -> (oof: Tensor, test: Tensor, paths: [String]) {
        let folder = layout(model: model, set: set).folder
        let (oof, test) = OOFAssembly.average(seeds)
        try NPY.write(oof, to: url("\(folder)/oof.npy"))
        try NPY.write(test, to: url("\(folder)/test.npy"))
        let names = seeds.isEmpty ? [] : ["oof.npy", "test.npy"]
        return (oof, test, names.map { url("\(folder)/\($0)").path })
    }

    /// The paths of a set's assembled per-seed files that exist.
    public func seedPaths(model: String, set: String = "last") -> [String] {
        let folder = layout(model: model, set: set).folder
        return manifest.cv.seeds.flatMap { ["\(folder)/oof_seed\($0).npy", "\(folder)/test_seed\($0).npy"] }
            .map { url($0).path }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    public func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    private func writeAtomically(_ data: Data, to target: URL) throws {
        do {
            try data.write(to: target, options: .atomic)
        } catch {
            throw DatasetError(file: target.path, message: "cannot write: \(error.localizedDescription)",
                               fix: "check that the output folder is writable and the disk has space")
        }
    }
}

/// Files a coordinator keeps in an experiment folder before any result: a new
/// folder holding only them is still an empty one.
public enum PredictionFilesBookkeeping {
    public static let lockFile = "coordinator.lock"
}

public struct FoldSummary: Codable, Sendable {
    public var task: FoldTask
    public var score: Double
    public var history: [EpochRecord]
}

/// What experiment.json records about the results in its folder (its `manifest` is not read back).
private struct ExperimentMarker: Decodable {
    var manifestHash: String
    /// Absent in folders written before the fingerprint was recorded.
    var dataFingerprint: String?
}
