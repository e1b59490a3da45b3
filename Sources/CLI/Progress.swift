import Foundation
import Training

/// Per-epoch progress on stderr: a bar with ETA on a terminal, one line per
/// epoch otherwise (logs, CI, pipes).
final class ProgressDisplay {
    private let interactive = isatty(STDERR_FILENO) != 0
    private let totalEpochs: Int
    private var finishedEpochs = 0
    private var epochSeconds: [Double] = []
    private var lastDraw = Date.distantPast
    private let metricName: String
    var label = ""
    var epochsPerTask = 1

    init(totalEpochs: Int, metricName: String) {
        (self.totalEpochs, self.metricName) = (totalEpochs, metricName)
    }

    func update(_ event: FoldProgress) {
        switch event {
        case .batch(let epoch, let done, let total):
            guard interactive, Date().timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
            lastDraw = Date()
            let fraction = Double(done) / Double(total)
            let width = 24, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\u{1B}[K\(label) epoch \(epoch + 1)/\(epochsPerTask) \(bar) \(Int(fraction * 100))% ETA \(eta(partial: fraction))")
        case .epoch(let record):
            finishedEpochs += 1
            epochSeconds.append(record.seconds)
            let line = String(format: "%@ epoch %d/%d: train loss %.4f, val loss %.4f, %@ %.4f, lr %.2e, %.1f s",
                              label, record.epoch, epochsPerTask, record.trainLoss, record.validationLoss,
                              metricName, record.validationScore, record.learningRate, record.seconds)
            write((interactive ? "\r\u{1B}[K" : "") + line + "\n")
        }
    }

    func message(_ text: String) { write((interactive ? "\r\u{1B}[K" : "") + text + "\n") }

    private func eta(partial: Double) -> String {
        guard !epochSeconds.isEmpty else { return "--:--" }
        let sorted = epochSeconds.sorted()
        let perEpoch = sorted[sorted.count / 2]
        let remaining = max(0, Double(totalEpochs - finishedEpochs) - partial) * perEpoch
        let s = Int(remaining.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
