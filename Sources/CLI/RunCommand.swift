import ArgumentParser
import Cluster
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train every (model, seed, fold) task with local worker processes over ZeroMQ, into an experiment database.",
        discussion: """
            The coordinator runs in this process on a loopback port; each worker is a separate \
            `foldwise worker` process (logs in DIR/logs/). Run it again on the same DIR to resume: \
            finished tasks are never trained again and failed ones are retried. Workers on other \
            machines can join a `foldwise coordinator` instead.
            """)

    @Argument(help: "The experiment manifest (YAML).")
    var manifest: String

    @Option(help: "Local worker processes.")
    var workers = 1

    @Option(help: "Compute threads per worker (default: the cores divided among the workers).")
    var threads: Int?

    @Option(help: "Experiment directory (default: runs/<manifest name>).")
    var dir: String?

    @Flag(help: "End stdout with one JSON object: scores per prediction set, task counts, paths.")
    var json = false

    func validate() throws {
        if workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = threads ?? max(1, cores / workers)
        let display = LockedDisplay()
        let session = try CoordinatorSession(manifestPath: manifest, directory: dir, endpoint: "tcp://127.0.0.1:*",
                                             threads: cores, log: { display.log($0) })
        let shell = session.shell
        let tasks = CoordinatorShell.tasks(for: session.manifest).count
        display.attach(RunDisplay(metric: session.manifest.metric.rawValue))
        shell.observer = { action, shell in display.observe(action, shell: shell) }
        let done = shell.logic.summary.done
        display.log("foldwise: \(tasks) tasks (\(done) already done) in \(session.directory.url.path); "
                    + "\(workers) local worker\(workers == 1 ? "" : "s") × \(perWorker) thread\(perWorker == 1 ? "" : "s") on \(shell.boundEndpoint)")
        let signals = SignalWatch()
        var finished = shell.logic.isFinished
        // Later stages (pseudo-labels, distillation) may still have work when the base models are done.
        if !finished || session.hasLaterStages {
            let local = LocalWorkers(count: workers, endpoint: shell.boundEndpoint, threads: perWorker, logs: session.directory.logs)
            try local.startAll()
            finished = try session.runStages { shell in
                // Ctrl-C reaches the workers too: they hand back and exit, and must not be restarted.
                guard signals.received == nil else { return false }
                display.refresh(shell)
                for line in local.restartExited() { display.log(line) }
                return true
            }
            display.refresh(shell, force: true)
            shell.close()
            if finished { local.finish(grace: 5) } else { local.terminate(grace: 10) }
        }
        if let signal = signals.received {
            display.log("stopped by \(SignalWatch.name(signal)): finished tasks are in \(session.directory.database.path); "
                        + "run the same command again to resume")
            throw ExitCode(130)
        }
        let summary = try session.finish()
        for line in summary.lines() { print(line) }
        display.log("database: \(session.directory.database.path); predictions: \(session.directory.export.path)")
        if json { print(try summary.jsonString()) }
        if shell.logic.summary.abandoned > 0 {
            display.log("\(shell.logic.summary.abandoned) task(s) were given up; `foldwise status \(session.directory.url.path)` shows why, and running again retries them")
            throw ExitCode(1)
        }
    }
}

/// The display, reachable from the coordinator's `@Sendable` log callback
/// (which the shell calls on this same thread).
final class LockedDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private var display: RunDisplay?
    private var pending: [String] = []

    func attach(_ display: RunDisplay) {
        let lines = lock.withLock { () -> [String] in
            self.display = display
            defer { pending.removeAll() }
            return pending
        }
        for line in lines { display.log(line) }
    }

    func log(_ line: String) {
        let target = lock.withLock { () -> RunDisplay? in
            if display == nil { pending.append(line) }
            return display
        }
        target?.log(line)
    }

    func observe(_ action: CoordinatorAction, shell: CoordinatorShell) { lock.withLock { display }?.observe(action, shell: shell) }
    func refresh(_ shell: CoordinatorShell, force: Bool = false) { lock.withLock { display }?.refresh(shell, force: force) }
}
