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

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        ComputeThreads.set(count)
        let host = ProcessInfo.processInfo.hostName
        let workerID = id ?? "\(host)-\(ProcessInfo.processInfo.processIdentifier)"
        let security = try clientSecurity()
        let worker = WorkerShell(context: try ZMQContext(), endpoint: connect, workerID: workerID, host: host, threads: count,
                                 dataRoot: dataRoot.map { URL(fileURLWithPath: $0, isDirectory: true) },
                                 configure: { try security?.apply(to: $0) },
                                 log: { line in Self.log("\(workerID): \(line)") })
        let stop = worker.stop
        let signals = SignalWatch { number in stop.request(SignalWatch.name(number)) }
        Self.log("\(workerID): connecting to \(connect) with \(count) thread\(count == 1 ? "" : "s")")
        let reason = try worker.run() ?? "stopped"
        _ = signals
        if reason.hasPrefix("the coordinator rejected") || reason.hasPrefix("cannot load") {
            Foldwise.fail(reason)
        }
    }

    private func clientSecurity() throws -> ClientSecurity? {
        try ClientSecurity.resolve(keyFile: key.map { URL(fileURLWithPath: $0) }, serverKeyFile: serverKey.map { URL(fileURLWithPath: $0) })
    }

    static func log(_ line: String) {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        FileHandle.standardError.write(Data("[\(stamp)] \(line)\n".utf8))
    }
}
