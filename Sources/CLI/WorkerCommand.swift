import ArgumentParser
import Cluster
import Foundation
import Kernels

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Train tasks for a coordinator: connects, takes its manifest, loads the data, trains until told to stop.",
        discussion: """
            The worker needs no manifest: the coordinator sends it, and the worker loads the data \
            it names (from the same paths, or under --data-root). SIGTERM or Ctrl-C hands the current \
            task back and exits. A worker reconnects when the coordinator goes away and comes back.
            """)

    @Option(help: "The coordinator's endpoint, e.g. tcp://10.0.0.5:5555.")
    var connect: String

    @Option(help: "Compute threads (default: every core).")
    var threads: Int?

    @Option(help: "The folder on this machine holding what the coordinator's data folder holds (the deepest folder containing every data path of the manifest).")
    var dataRoot: String?

    @Option(help: "This worker's CURVE key pair (NAME.key from `foldwise keys generate`), for a coordinator that requires keys.")
    var key: String?

    @Option(help: "The coordinator's public key (its .pub file).")
    var serverKey: String?

    @Option(help: "This worker's name in logs and the database (default: host-pid).")
    var id: String?

    @Flag(help: "Read CURVE keys from the first line of standard input and stop when standard input closes (how `foldwise run` starts its workers).")
    var keysOnStdin = false

    func validate() throws {
        if let threads, !HelloBounds.threads.contains(threads) {
            throw ValidationError("--threads must be in \(HelloBounds.threads.lowerBound)…\(HelloBounds.threads.upperBound), got \(threads)")
        }
        if let id, let problem = HelloBounds.idProblem(id) { throw ValidationError("--id: \(problem)") }
        if keysOnStdin, key != nil || serverKey != nil {
            throw ValidationError("--keys-on-stdin takes its keys from standard input; drop --key and --server-key")
        }
    }

    func run() throws {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        ComputeThreads.set(count)
        let host = ProcessInfo.processInfo.hostName
        // A host name can be long; its first label keeps the default id within the hello's bounds.
        let shortHost = host.split(separator: ".").first.map { String($0.prefix(63)) } ?? "worker"
        let workerID = id ?? "\(shortHost)-\(ProcessInfo.processInfo.processIdentifier)"
        let security = try keysOnStdin ? ParentLink.readSecurity() : clientSecurity()
        let worker = WorkerShell(context: try ZMQContext(), endpoint: connect, workerID: workerID, host: host, threads: count,
                                 dataRoot: dataRoot.map { URL(fileURLWithPath: $0, isDirectory: true) },
                                 configure: { try security?.apply(to: $0) },
                                 log: { line in Self.log("\(workerID): \(line)") })
        let stop = worker.stop
        let signals = SignalWatch { number in stop.request(SignalWatch.name(number)) }
        if keysOnStdin { Self.exitWithParent(stop) }
        Self.log("\(workerID): connecting to \(connect) with \(count) thread\(count == 1 ? "" : "s")")
        _ = try worker.run()
        _ = signals
        if let exit = worker.exit, exit.needsFix { Foldwise.fail(LogText.line(exit.reason)) }
    }

    /// A worker of `foldwise run` stops when its run is gone (its standard input
    /// ends); if handing back takes longer than a few seconds it exits anyway.
    private static func exitWithParent(_ stop: StopRequest) {
        ParentLink.watch {
            stop.request("the `foldwise run` that started this worker is gone")
            Thread.sleep(forTimeInterval: 3)
            log("the `foldwise run` that started this worker is gone; exiting")
            _exit(3)
        }
    }

    private func clientSecurity() throws -> ClientSecurity? {
        try ClientSecurity.resolve(keyFile: key.map { URL(fileURLWithPath: $0) }, serverKeyFile: serverKey.map { URL(fileURLWithPath: $0) })
    }

    static func log(_ line: String) {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        FileHandle.standardError.write(Data("[\(stamp)] \(LogText.line(line))\n".utf8))
    }
}
