import ArgumentParser
import Cluster
import Foundation

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve a manifest's tasks to workers on other machines; exits when every task is done.",
        discussion: """
            Workers join with `foldwise worker --connect tcp://THIS_HOST:PORT`. Every bind needs CURVE \
            keys (--key and --allow, see `foldwise keys generate`) or --insecure when every peer that can \
            reach it is trusted. Started again on the same --dir it resumes.
            """)

    @Argument(help: "The experiment manifest (YAML).")
    var manifest: String

    @Option(help: "The endpoint to listen on, e.g. tcp://0.0.0.0:5555.")
    var bind: String

    @Option(help: "Experiment directory (default: runs/<manifest name>).")
    var dir: String?

    @Option(help: "The coordinator's CURVE key pair (a .key file from `foldwise keys generate`).")
    var key: String?

    @Option(parsing: .upToNextOption, help: "Worker public keys admitted: .pub files or folders of them.")
    var allow: [String] = []

    @Flag(help: "Bind without CURVE keys (only when every peer that can reach the port is trusted).")
    var insecure = false

    @Flag(help: "End stdout with one JSON object: scores per prediction set, task counts, paths.")
    var json = false

    func run() throws {
        // Before anything is loaded or written: an exposed bind without keys stops here.
        let security = try ServerSecurity.resolve(endpoint: bind, keyFile: key.map { URL(fileURLWithPath: $0) },
                                                  allow: allow.map { URL(fileURLWithPath: $0) }, insecure: insecure)
        let display = LockedDisplay()
        if security == nil {
            display.log("warning: no CURVE keys for \(bind): any process that reaches the port can take tasks "
                        + "(results are still checked before they are stored); use --key and --allow unless every peer is trusted")
        }
        var zap: ZAPHandler?
        let session = try CoordinatorSession(
            manifestPath: manifest, directory: dir, endpoint: bind, threads: ProcessInfo.processInfo.activeProcessorCount,
            configure: { socket in zap = try security?.apply(to: socket, context: socket.context) },
            log: { display.log($0) })
        defer { zap?.stop() }
        let shell = session.shell
        let tasks = CoordinatorShell.tasks(for: session.manifest).count
        display.attach(RunDisplay(metric: session.manifest.metric.rawValue))
        shell.observer = { action, shell in display.observe(action, shell: shell) }
        display.log("foldwise coordinator: \(tasks) tasks (\(shell.logic.summary.done) already done) on \(shell.boundEndpoint)"
                    + (security == nil ? "" : " with CURVE (\(security!.allowedKeys.count) worker key\(security!.allowedKeys.count == 1 ? "" : "s") allowed)")
                    + "; experiment in \(session.directory.url.path)")
        let signals = SignalWatch()
        let finished = try session.runStages { shell in
            display.refresh(shell)
            for rejection in zap?.takeRejections() ?? [] { display.log(rejection.description) }
            return signals.received == nil
        }
        shell.close()
        guard finished else {
            let number = signals.received ?? SIGTERM, signal = SignalWatch.name(number)
            let handedBack = try shell.handBackRunning(reason: "the coordinator stopped (\(signal))")
            if handedBack > 0 { display.log("recorded \(handedBack) running task(s) as handed back") }
            display.log("stopped by \(signal); start again with the same --dir to resume")
            throw ExitCode(128 + number)
        }
        let summary = try session.finish()
        for line in summary.lines() { print(line) }
        display.log("database: \(session.directory.database.path); predictions: \(session.directory.export.path)")
        if json { print(try summary.jsonString()) }
        if shell.logic.summary.abandoned > 0 { throw ExitCode(1) }
    }
}
