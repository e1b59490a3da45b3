import ArgumentParser
import Datasets
import Engine
import Foundation
import Manifests
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a manifest's models fold by fold in this process and write OOF and test predictions.")

    @Argument(help: "The experiment manifest (YAML).")
    var manifest: String

    @Option(help: "Train only this fold (0-based).")
    var fold: Int?

    @Option(help: "Train only this CV seed (one of the manifest's cv.seeds).")
    var seed: Int?

    @Option(help: "Train only this model (by name).")
    var model: String?

    @Option(help: "Output folder (default: runs/<manifest name>).")
    var out: String?

    @OptionGroup var threadOptions: ThreadOptions

    @Flag(help: "End stdout with one JSON object: scores and paths.")
    var json = false

    func run() throws {
        let threads = threadOptions.apply()
        let loaded = try Manifest.load(URL(fileURLWithPath: manifest))
        let tasks = try selectTasks(loaded)
        let folder = URL(fileURLWithPath: out ?? "runs/\(loaded.name)")
        let data = try ExperimentData(manifest: loaded, threads: threads,
                                      digestCache: ImageDigests.read(folder.appendingPathComponent(ImageDigests.fileName)))
        try FoldRunner(manifest: loaded, data: data).checkModels()
        try data.checkFolds(loaded.cv)
        let files = try PredictionFiles(directory: folder, manifest: loaded, dataFingerprint: data.fingerprint,
                                        images: data.imageDigests)
        let common = try files.writeCommon(data: data, seeds: loaded.cv.seeds)
        let metric = Metric(loaded.metric)
        let progress = ProgressDisplay(totalEpochs: tasks.reduce(0) { $0 + loaded.model(named: $1.model)!.epochs },
                                       metricName: metric.rawValue)
        progress.message("foldwise: \(tasks.count) task\(tasks.count == 1 ? "" : "s") on \(data.train.ids.count) train / "
                         + "\(data.test.ids.count) test images, \(data.classes) classes, \(threads) thread\(threads == 1 ? "" : "s")")
        let runner = FoldRunner(manifest: loaded, data: data)
        var report = TrainReport(manifest: manifest, out: files.directory.path, paths: common)
        for task in tasks {
            progress.label = "\(task.model) seed \(task.seed) fold \(task.fold + 1)/\(loaded.cv.folds)"
            progress.epochsPerTask = loaded.model(named: task.model)!.epochs
            let result = runner.run(task) { progress.update($0) }
            report.paths += try files.write(result)
            progress.message(String(format: "%@: %@ %.4f", progress.label, metric.rawValue, result.score))
            report.folds.append(.init(model: task.model, seed: task.seed, fold: task.fold, score: result.score))
        }
        try summarise(loaded, data: data, files: files, metric: metric, report: &report, progress: progress)
        if json { print(try report.jsonString()) }
    }

    private func selectTasks(_ m: Manifest) throws -> [FoldTask] {
        if let fold, !(0..<m.cv.folds).contains(fold) {
            throw UserInputError(message: "--fold \(fold) is outside 0..<\(m.cv.folds) (the manifest's cv.folds)", fix: "pick a fold from 0 to \(m.cv.folds - 1)")
        }
        if let seed, !m.cv.seeds.contains(seed) {
            throw UserInputError(message: "--seed \(seed) is not one of the manifest's cv.seeds \(m.cv.seeds)", fix: "pick one of \(m.cv.seeds), or add it to cv.seeds")
        }
        if let model, m.model(named: model) == nil {
            throw UserInputError(message: "--model \(model) is not in the manifest", fix: "pick one of: \(m.models.map(\.name).joined(separator: ", "))")
        }
        return m.models.filter { model == nil || $0.name == model }.flatMap { spec in
            m.cv.seeds.filter { seed == nil || $0 == seed }.flatMap { s in
                (0..<m.cv.folds).filter { fold == nil || $0 == fold }.map { FoldTask(model: spec.name, seed: s, fold: $0) }
            }
        }
    }

    /// Per model and prediction set: the OOF score over every complete seed and,
    /// with held-out labels, the test score.
    private func summarise(_ m: Manifest, data: ExperimentData, files: PredictionFiles, metric: Metric,
                           report: inout TrainReport, progress: ProgressDisplay) throws {
        for spec in m.models where model == nil || spec.name == model {
            for set in spec.predictionSets {
                let complete = try m.cv.seeds.compactMap { s in
                    try files.assembleSeed(model: spec.name, set: set, seed: s, trainRows: data.train.ids.count,
                                           classes: data.classes)
                }
                guard !complete.isEmpty else { continue }
                let averaged = try files.writeModelAverage(model: spec.name, set: set, seeds: complete)
                let name = set == "last" ? spec.name : "\(spec.name)/\(set)"
                let oofScore = metric.score(probabilities: averaged.oof.scalars, classes: data.classes, labels: data.train.labels)
                var line = String(format: "%@: OOF %@ %.4f over %d seed%@", name, metric.rawValue, oofScore,
                                  complete.count, complete.count == 1 ? "" : "s")
                var testScore: Double?
                if let labels = data.testLabels {
                    testScore = metric.score(probabilities: averaged.test.scalars, classes: data.classes, labels: labels)
                    line += String(format: "; held-out test %@ %.4f", metric.rawValue, testScore!)
                }
                print(line)
                report.models.append(.init(name: name, oofScore: oofScore, testScore: testScore, seeds: complete.count))
                report.paths += files.seedPaths(model: spec.name, set: set) + averaged.paths
            }
        }
        progress.message("predictions written to \(files.directory.path)")
    }
}

/// The `--json` summary.
struct TrainReport: Encodable {
    struct FoldScore: Encodable { var model: String; var seed: Int; var fold: Int; var score: Double }
    /// `name` is the model for its set `last`, `<model>/<set>` for the others.
    struct ModelScore: Encodable { var name: String; var oofScore: Double; var testScore: Double?; var seeds: Int }
    var manifest: String
    var out: String
    var folds: [FoldScore] = []
    var models: [ModelScore] = []
    var paths: [String]

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
