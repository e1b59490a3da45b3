import Foundation
import TestSupport
import XCTest

/// `foldwise train --json`'s per-model scores.
private struct TrainJSON: Decodable {
    struct Model: Decodable { var name: String; var oofScore: Double; var testScore: Double? }
    var models: [Model]
}

extension JSONDecoder {
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// The data, the two manifests and the `foldwise train --threads 1` output the
/// tests compare with, made once for the whole class (training is the slow part).
final class ClusterReference: @unchecked Sendable {
    struct Made {
        var dataset: TemporaryDataset
        /// Default cluster settings (for `run`, where nothing should time out).
        var manifest: URL
        /// Short heartbeats and retries, so a lost worker is noticed within a second.
        var fastManifest: URL
        var trainOut: URL
        var oofScore: Double
        var testScore: Double?
    }

    static let shared = ClusterReference()
    static let seeds = [0, 1]
    static let folds = 3
    static var taskCount: Int { seeds.count * folds }
    static let epochs = 60

    private let lock = NSLock()
    private var made: Made?

    func get() throws -> Made {
        try lock.withLock {
            if let made { return made }
            let made = try Self.make()
            self.made = made
            return made
        }
    }

    func remove() {
        lock.withLock {
            made?.dataset.remove()
            made = nil
        }
    }

    private static func make() throws -> Made {
        let dataset = try TemporaryDataset.digits(perClass: 6, testRows: 20)
        let manifest = try dataset.writeManifest(yaml(cluster: nil), file: "cluster.yaml")
        let fast = try dataset.writeManifest(yaml(cluster: "{heartbeat_interval: 0.25, liveness: 4, retry_delay: 0.1}"),
                                             file: "cluster-fast.yaml")
        let out = dataset.url("train-out")
        let result = try FoldwiseProcess.train(manifest, out: out, ["--json"])
        guard result.status == 0 else { throw ReferenceError(transcript: result.transcript) }
        let report = try JSONDecoder.snakeCase.decode(TrainJSON.self, from: Data(result.lastLine.utf8))
        guard let model = report.models.first else { throw ReferenceError(transcript: result.transcript) }
        return Made(dataset: dataset, manifest: manifest, fastManifest: fast, trainOut: out,
                    oofScore: model.oofScore, testScore: model.testScore)
    }

    /// The manifest of `TemporaryDataset` with 3 folds × 2 seeds, enough epochs
    /// for a task to be caught mid-training, and an optional cluster section.
    static func yaml(cluster: String?) -> String {
        """
        name: cluster
        \(TemporaryDataset.dataSection())
        cv: {folds: \(folds), seeds: [\(seeds.map(String.init).joined(separator: ", "))], stratify: true}
        metric: accuracy
        models:
          - name: tiny
            arch: {name: resnet, widths: [8], blocks: [1]}
            lr: 1e-2
            epochs: \(epochs)
            batch_size: 16

        """ + (cluster.map { "cluster: \($0)\n" } ?? "")
    }

    struct ReferenceError: Error, CustomStringConvertible {
        var transcript: String
        var description: String { "foldwise train for the reference failed:\n\(transcript)" }
    }
}
