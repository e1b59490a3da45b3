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
        if let threads, !HelloBounds.threads.contains(threads) {
            throw ValidationError("--threads must be in \(HelloBounds.threads.lowerBound)…\(HelloBounds.threads.upperBound), got \(threads)")
        }
    }

    func run() throws {
        // A worker that dies before reading its keys must not take this process with it.
        signal(SIGPIPE, SIG_IGN)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = threads ?? max(1, cores / workers)
        let display = LockedDisplay()
        // The loopback port admits only the workers started here: they get the
        // client half of a key pair made for this run, through their standard input.
        let (server, client) = (KeyPair.generate(), KeyPair.generate())
        let security = ServerSecurity(keyPair: server, allowedKeys: [client.publicKey])
        var zap: ZAPHandler?
        let session = try CoordinatorSession(manifestPath: manifest, directory: dir, endpoint: "tcp://127.0.0.1:*",
                                             threads: cores, configure: { zap = try security.apply(to: $0) },
                                             log: { display.log($0) })
        defer { zap?.stop() }
        let shell = session.shell
        let tasks = CoordinatorShell.tasks(for: session.manifest).count
        display.attach(RunDisplay(metric: session.manifest.metric.rawValue))
        shell.observer = { action, shell in display.observe(action, shell: shell) }
        let done = shell.logic.summary.done
        display.log("foldwise: \(tasks) tasks (\(done) already done) in \(session.directory.url.path); "
                    + "\(workers) local worker\(workers == 1 ? "" : "s") × \(perWorker) thread\(perWorker == 1 ? "" : "s") on \(shell.boundEndpoint)")
        let signals = SignalWatch()
        var finished = shell.logic.isFinished, workersGone = false
        // Later stages (pseudo-labels, distillation) may still have work when the base models are done.
        if !finished || session.hasLaterStages {
            let local = LocalWorkers(count: workers, endpoint: shell.boundEndpoint, threads: perWorker, logs: session.directory.logs,
                                     security: ClientSecurity(keyPair: client, serverPublicKey: server.publicKey))
            try local.startAll()
            finished = try session.runStages { shell in
                // Stopping: `stop` hands the workers' tasks back; none is restarted.
                guard signals.received == nil else { return false }
                display.refresh(shell)
                for rejection in zap?.takeRejections() ?? [] { display.log(rejection.description) }
                for line in local.restartExited() { display.log(line) }
                workersGone = !local.anyLeft
                return !workersGone
            }
            display.refresh(shell, force: true)
            if finished {
                shell.close()
                local.finish(grace: 5)
            } else {
                try stop(local, shell: shell, reason: signals.received.map(SignalWatch.name) ?? "no local worker left", display: display)
            }
        }
        if let signal = signals.received {
            display.log("stopped by \(SignalWatch.name(signal)): finished tasks are in \(session.directory.database.path); "
                        + "run the same command again to resume")
            throw ExitCode(128 + signal)
        }
        if workersGone {
            display.log("no local worker is left to train (each was refused, could not load the data or kept dying); "
                        + "their logs in \(session.directory.logs.path) say why; run the same command again to resume")
            throw ExitCode(1)
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

    /// Stops before the end: the workers hand their tasks back while the
    /// coordinator still listens (10 s at most), then whatever the database
    /// still shows running is recorded as handed back.
    private func stop(_ local: LocalWorkers, shell: CoordinatorShell, reason: String, display: LockedDisplay) throws {
        shell.drain()
        local.stopAll()
        _ = try shell.run(until: Date().addingTimeInterval(10)) { _ in local.anyRunning }
        shell.close()
        local.terminate(grace: 2)
        let handedBack = try shell.handBackRunning(reason: "the run stopped (\(reason))")
        if handedBack > 0 { display.log("recorded \(handedBack) running task(s) as handed back") }
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
