import ArgumentParser
import Cluster
import Datasets
import Engine
import Kernels
import Foundation
import Manifests
import Pipeline
import Storage
import Training

@main
struct Foldwise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foldwise",
        abstract: "Cross-validated CNN training and ensembling for image competitions.",
        subcommands: [TrainCommand.self, RunCommand.self, CoordinatorCommand.self, WorkerCommand.self,
                      StatusCommand.self, ExportCommand.self, SubmitCommand.self, KeysCommand.self, ValidateCommand.self,
                      BenchEngineCommand.self, BenchConvCommand.self, StackCommand.self, ReportCommand.self, LRFindCommand.self])

    /// Bad input of any kind (command line, manifest, CSV, image, checkpoint)
    /// exits with code 2 and one message naming what to fix.
    static func main() {
        if let problem = KernelBackend.settingProblem { fail(problem) }
        OpenMPWaitPolicy.passiveForDNNL()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ManifestError {
            fail(error.description)
        } catch let error as DatasetError {
            fail(error.description)
        } catch let error as CheckpointError {
            fail(error.description)
        } catch let error as UserInputError {
            fail(error.description)
        } catch let error as PipelineError {
            fail(error.description)
        } catch let error as StorageError {
            fail(error.description)
        } catch let error as SecurityError {
            fail(error.description)
        } catch let error as ZMQError {
            fail(error.description)
        } catch let error as AssemblyError {
            fail(error.description)
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    /// The same prefix as ArgumentParser's own errors.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        Foundation.exit(2)
    }
}

/// A user mistake found by a command itself (not by a module's parser).
struct UserInputError: Error, CustomStringConvertible {
    var message: String
    var fix: String
    var description: String { "\(message) — \(fix)" }
}

/// Options every training command shares.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Compute threads (default: every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func apply() -> Int {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        ComputeThreads.set(count)
        return count
    }
}
