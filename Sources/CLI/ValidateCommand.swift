import ArgumentParser
import Foundation
import Manifests
import Pipeline
import Training

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a manifest and the data it points at, without training.")

    @Argument(help: "The experiment manifest (YAML).")
    var manifest: String

    @Flag(help: "Check the manifest only, not the data files.")
    var manifestOnly = false

    func run() throws {
        let loaded = try Manifest.load(URL(fileURLWithPath: manifest))
        var summary = "manifest \(manifest): ok (\(loaded.models.count) model\(loaded.models.count == 1 ? "" : "s"), "
            + "\(loaded.cv.folds) folds × \(loaded.cv.seeds.count) seed\(loaded.cv.seeds.count == 1 ? "" : "s"), hash \(loaded.hash))"
        if !manifestOnly {
            let data = try ExperimentData(manifest: loaded, threads: ProcessInfo.processInfo.activeProcessorCount)
            try FoldRunner(manifest: loaded, data: data).checkModels()
            try data.checkBeforeTraining(loaded)
            summary += "\ndata: ok (\(data.train.ids.count) train images, \(data.test.ids.count) test images, "
                + "\(data.classes) classes: \(data.train.classNames.joined(separator: " ")))"
        }
        print(summary)
    }
}
