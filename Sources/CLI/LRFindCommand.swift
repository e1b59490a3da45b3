import ArgumentParser
import Foundation
import Manifests
import Pipeline
import Training

struct LRFindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "Sweep the learning rate over one pass of the training data, chart the loss and suggest a learning rate.",
        discussion: """
            The model, loss, optimizer, batch size and augmentation come from the manifest; the learning rate grows \
            exponentially from --start to --end over one pass of every train row (or --steps batches), and the sweep \
            stops early once the loss diverges. The suggestion is the steepest descent of the smoothed loss before its \
            minimum. Writes lr-find-<model>.svg and lr-find-<model>.csv into --out. The sweep trains from \
            scratch on plain batches: it does not load a fine-tuning checkpoint, freeze stages, accumulate \
            gradients or mix batches, so for such models the suggestion is a starting point only.
            """)

    @Argument(help: "The experiment manifest (YAML).")
    var manifest: String

    @Option(help: "The model to sweep (default: the manifest's first).")
    var model: String?

    @Option(help: "Folder for the chart and the CSV of the curve.")
    var out = "."

    @Option(help: "Smallest learning rate of the sweep.")
    var start = 1e-6

    @Option(help: "Largest learning rate of the sweep.")
    var end = 10.0

    @Option(help: "At most this many batches (default: one pass over the training data).")
    var steps: Int?

    @Option(help: "Seed of the model's initialisation and the batch order.")
    var seed: UInt64 = 0

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard start > 0, end > start, end <= 1e3 else {
            throw ValidationError("--start and --end must satisfy 0 < start < end <= 1000, got \(start) and \(end)")
        }
        if let steps, steps < 2 { throw ValidationError("--steps must be at least 2, got \(steps)") }
    }

    func run() throws {
        let threads = threadOptions.apply()
        let loaded = try Manifest.load(URL(fileURLWithPath: manifest))
        guard let spec = model.map({ loaded.model(named: $0) }) ?? loaded.models.first else {
            throw UserInputError(message: "--model \(model ?? "") is not in the manifest",
                                 fix: "pick one of: \(loaded.models.map(\.name).joined(separator: ", "))")
        }
        let data = try ExperimentData(manifest: loaded, threads: threads)
        // The loader drops a last short batch; the sweep needs two batches at least.
        guard data.train.ids.count / spec.batchSize >= 2 else {
            throw UserInputError(message: "model \(spec.name) has batch_size \(spec.batchSize) and the data \(data.train.ids.count) train images: fewer than the two batches a sweep needs",
                                 fix: "lower the model's batch_size to at most \(max(1, data.train.ids.count / 2))")
        }
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw UserInputError(message: "cannot create --out \(out): \(error.localizedDescription)", fix: "pass a writable folder")
        }
        let progress = ProgressDisplay(totalEpochs: 1, metricName: "loss")
        progress.label = "lr-find \(spec.name)"
        let points = LRFinder(start: start, end: end).run(spec, manifest: loaded, data: data, seed: seed, maxSteps: steps) { done, total in
            progress.update(.batch(epoch: 0, done: done, total: total))
        }
        let suggestion = LRFinder.suggestion(points)
        let chart = folder.appendingPathComponent("lr-find-\(spec.name).svg")
        let curve = folder.appendingPathComponent("lr-find-\(spec.name).csv")
        let title = "lr-find: \(spec.name) (\(spec.optimizer.name.rawValue), batch \(spec.batchSize), \(points.count) steps)"
        let csv = "lr,loss,smoothed_loss\n" + points.map { "\($0.lr),\($0.loss),\($0.smoothed)\n" }.joined()
        do {
            try Data(LRFinderChart.svg(points: points.map { ($0.lr, $0.smoothed) }, suggestion: suggestion, title: title).utf8)
                .write(to: chart, options: .atomic)
            try Data(csv.utf8).write(to: curve, options: .atomic)
        } catch {
            throw UserInputError(message: "cannot write into --out \(out): \(error.localizedDescription)", fix: "pass a writable folder")
        }
        progress.message("lr-find: \(points.count) steps from \(points.first?.lr ?? start) to \(points.last?.lr ?? end)")
        print("chart: \(chart.path)")
        print("curve: \(curve.path)")
        if let suggestion {
            print("suggested lr: \(String(format: "%.3g", suggestion))")
        } else {
            print("suggested lr: none (the loss never fell; try a wider range with --start and --end)")
        }
    }
}
