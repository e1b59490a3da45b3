import Datasets
import Engine
import Foundation
import Manifests
import TestSupport
import Training
import XCTest

/// Every example in manifests/tricks/ decodes, passes the checks `foldwise
/// validate` makes, and trains one task (fold 0 of its first seed) on data/digits.
final class TricksManifestTests: XCTestCase {
    static let folder = TrainingDataset.repositoryRoot.appendingPathComponent("manifests/tricks")

    static func manifests() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testEveryTrickManifestTrainsOnTheDigits() throws {
        let files = try Self.manifests()
        XCTAssertGreaterThanOrEqual(files.count, 20, "the trick catalogue")
        for file in files {
            let manifest = try Manifest.load(file)
            let data = try ExperimentData(manifest: manifest, threads: 2)
            let runner = FoldRunner(manifest: manifest, data: data)
            try runner.checkModels()
            for spec in manifest.models {
                let result = try XCTUnwrap(runner.run(FoldTask(model: spec.name, seed: manifest.cv.seeds[0], fold: 0),
                                                      progress: { _ in }, isCancelled: { false }))
                let name = "\(file.lastPathComponent) \(spec.name)"
                XCTAssertEqual(result.history.count, spec.epochs, name)
                XCTAssertTrue(result.history.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss.isFinite }, "\(name): \(result.history)")
                XCTAssertEqual(["last"] + result.extraSets.map(\.name), spec.predictionSets, name)
                for set in [NamedPredictions(name: "last", oof: result.oof, test: result.test)] + result.extraSets {
                    XCTAssertTrue(set.test.scalars.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(name) \(set.name)")
                }
                // Better than chance after one short run: the trick trains, it does not just run.
                XCTAssertGreaterThan(result.score, 0.2, "\(name): validation accuracy \(result.score)")
            }
        }
    }
}
