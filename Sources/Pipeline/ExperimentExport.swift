import Datasets
import Engine
import Foundation

/// Writes an experiment's prediction sets under DIR/export/:
///
///     <model>.<set>.oof.npy  <model>.<set>.test.npy            averaged over the complete seeds
///     <model>.<set>.oof_seed<S>.npy  <model>.<set>.test_seed<S>.npy
///     oof.csv    id, label, fold per seed, then every set's class probabilities
///
/// Rows follow DIR/train_ids.csv and DIR/test_ids.csv.
public struct ExperimentExport {
    public let directory: ExperimentDirectory

    public init(directory: ExperimentDirectory) { self.directory = directory }

    public func write(_ sets: [AssembledSet]) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(at: directory.export, withIntermediateDirectories: true)
        var paths: [String] = []
        for set in sets {
            let base = set.name.replacingOccurrences(of: "/", with: ".")
            try save(set.oof, "\(base).oof.npy", &paths)
            try save(set.test, "\(base).test.npy", &paths)
            for seed in set.bySeed {
                try save(seed.oof, "\(base).oof_seed\(seed.seed).npy", &paths)
                try save(seed.test, "\(base).test_seed\(seed.seed).npy", &paths)
            }
        }
        if !sets.isEmpty { paths.append(try writeCSV(sets)) }
        return paths
    }

    private func save(_ tensor: Tensor, _ name: String, _ paths: inout [String]) throws {
        let url = directory.export.appendingPathComponent(name)
        try NPY.write(tensor, to: url)
        paths.append(url.path)
    }

    /// id, label, fold_seed<S>…, then `<model>/<set>/<class>` probability columns.
    private func writeCSV(_ sets: [AssembledSet]) throws -> String {
        let ids = try directory.trainIDs()
        let labels = try directory.labels()
        let classes = try directory.classNames()
        let seeds = Array(Set(sets.flatMap(\.seeds))).sorted()
        let folds = try seeds.map { try directory.folds(seed: $0) }
        var header = ["id", "label"] + seeds.map { "fold_seed\($0)" }
        for set in sets { header += classes.map { "\(set.name)/\($0)" } }
        var text = header.map(CSVFile.field).joined(separator: ",") + "\n"
        let K = classes.count
        for (row, id) in ids.enumerated() {
            var fields = [CSVFile.field(id), CSVFile.field(row < labels.count && labels[row] < K ? classes[labels[row]] : "")]
            fields += folds.map { row < $0.count ? String($0[row]) : "" }
            for set in sets { fields += (0..<K).map { String(set.oof[row * K + $0]) } }
            text += fields.joined(separator: ",") + "\n"
        }
        let url = directory.export.appendingPathComponent("oof.csv")
        try Data(text.utf8).write(to: url, options: .atomic)
        return url.path
    }
}
