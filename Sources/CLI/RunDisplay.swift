import Cluster
import Pipeline
import Foundation

/// The live view of a run on stderr. On a terminal: a block redrawn twice a
/// second (tasks done / running / failed, ETA, one line per running task with
/// its worker and epoch). Otherwise (logs, CI, pipes): one line per event.
final class RunDisplay {
    private let interactive = isatty(STDERR_FILENO) != 0
    private let metric: String
    private var started: [String: Date] = [:]
    private var durations: [Double] = []
    private var failed = 0
    private var drawnLines = 0
    private var lastDraw = Date.distantPast

    init(metric: String) { self.metric = metric }

    /// A log line of the coordinator (worker joined, retries, refusals).
    func log(_ line: String) { write(line) }

    func observe(_ action: CoordinatorAction, shell: CoordinatorShell) {
        switch action {
        case .taskStarted(let taskID, let attempt, let workerID):
            started[taskID] = Date()
            if !interactive { write("\(label(taskID, shell)) started on \(workerID)\(attempt > 1 ? " (attempt \(attempt))" : "")") }
        case .taskDone(let taskID, let result):
            let seconds = started.removeValue(forKey: taskID).map { Date().timeIntervalSince($0) }
            if let seconds { durations.append(seconds) }
            let summary = shell.logic.summary
            let total = summary.queued + summary.running + summary.done + summary.abandoned
            write(String(format: "[%d/%d] %@ done: %@ %.4f%@", summary.done, total, label(taskID, shell), metric, result.score,
                         seconds.map { String(format: " in %.1f s", $0) } ?? ""))
        case .taskFailed(let taskID, let attempt, let message), .taskLost(let taskID, let attempt, let message):
            started[taskID] = nil
            failed += 1
            write("\(label(taskID, shell)) attempt \(attempt) ended: \(LogText.line(message))")
        case .taskHandedBack(let taskID, _, _):
            started[taskID] = nil
        default:
            break
        }
    }

    /// Redraws the block on a terminal (at most twice a second).
    func refresh(_ shell: CoordinatorShell, force: Bool = false) {
        guard interactive, force || Date().timeIntervalSince(lastDraw) >= 0.5 else { return }
        lastDraw = Date()
        let summary = shell.logic.summary
        let total = summary.queued + summary.running + summary.done + summary.abandoned
        var lines = ["tasks: \(summary.done)/\(total) done, \(summary.running) running, \(summary.abandoned) given up, "
                     + "\(failed) failed attempt\(failed == 1 ? "" : "s"), \(summary.workers) worker\(summary.workers == 1 ? "" : "s") · ETA \(eta(summary))"]
        for (taskID, activity) in shell.activity.sorted(by: { $0.value.workerID < $1.value.workerID }) {
            let epoch = activity.epochs > 0 ? "epoch \(activity.epoch)/\(activity.epochs)" : "starting"
            lines.append("  \(activity.workerID): \(label(taskID, shell)) \(epoch)")
        }
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for line in lines { text += "\r\u{1B}[K" + line + "\n" }
        // Clear what is left of a taller previous block.
        for _ in lines.count..<max(lines.count, drawnLines) { text += "\r\u{1B}[K\n" }
        let extra = max(0, drawnLines - lines.count)
        if extra > 0 { text += "\u{1B}[\(extra)A" }
        drawnLines = lines.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func eta(_ summary: CoordinatorLogic.Summary) -> String {
        guard !durations.isEmpty, summary.workers > 0 else { return "--:--" }
        let median = durations.sorted()[durations.count / 2]
        let remaining = Double(summary.queued + summary.running) * median / Double(summary.workers)
        let s = Int(remaining.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }

    private func label(_ taskID: String, _ shell: CoordinatorShell) -> String {
        guard let task = shell.logic.task(id: taskID) else { return "task \(taskID)" }
        let model = StagePlan.label(of: task, in: shell.manifest)
        return "\(model) seed \(task.fold.seed) fold \(task.fold.fold + 1)/\(shell.manifest.cv.folds)"
    }

    private func write(_ line: String) {
        // Lines go above the block: clear it, print, and let the next refresh redraw it.
        var text = ""
        if interactive, drawnLines > 0 {
            text += "\u{1B}[\(drawnLines)A"
            for _ in 0..<drawnLines { text += "\r\u{1B}[K\n" }
            text += "\u{1B}[\(drawnLines)A"
            drawnLines = 0
        }
        FileHandle.standardError.write(Data((text + line + "\n").utf8))
        lastDraw = .distantPast
    }
}
