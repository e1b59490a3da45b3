import ArgumentParser
import Cluster
import Foundation

/// `foldwise keys`: CURVE key pairs for coordinators and workers off loopback.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create the CURVE keys a coordinator and its workers need off loopback.",
        subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a new key pair: NAME.key (secret, mode 0600) and NAME.pub (public, to share).")

        @Argument(help: "The pair's name, e.g. coordinator or worker-1 (letters, digits, '-', '_', '.').")
        var name: String

        @Option(help: "The folder for the key files (created if missing).")
        var dir = "keys"

        func run() throws {
            let files = try KeyFiles.generate(name: name, directory: URL(fileURLWithPath: dir))
            print("secret key: \(files.keyFile.path) (keep it on the machine that uses it)")
            print("public key: \(files.publicFile.path)")
            print("next: for a worker, copy \(name).pub into the coordinator's --allow folder; "
                + "for the coordinator, copy \(name).pub to every worker (--server-key)")
        }
    }
}
