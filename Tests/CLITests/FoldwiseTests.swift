import Foundation
import XCTest

/// The root command: help text and command-line errors (exit code 2).
final class FoldwiseTests: XCTestCase {
    func testRootHelpListsEverySubcommand() throws {
        let result = try FoldwiseProcess.run(["--help"])
        assertSucceeded(result)
        XCTAssertTrue(result.stdout.contains("USAGE: foldwise <subcommand>"), result.stdout)
        for subcommand in ["train", "validate", "bench-engine"] {
            XCTAssertTrue(result.stdout.contains("  \(subcommand) "), "\(subcommand) missing:\n\(result.stdout)")
        }
        XCTAssertTrue(result.stdout.contains("Cross-validated CNN training"), result.stdout)
    }

    func testTrainHelpListsEveryOption() throws {
        let result = try FoldwiseProcess.run(["train", "--help"])
        assertSucceeded(result)
        for option in ["<manifest>", "--fold <fold>", "--seed <seed>", "--model <model>", "--out <out>",
                       "--threads <threads>", "--json", "runs/<manifest name>"] {
            XCTAssertTrue(result.stdout.contains(option), "\(option) missing:\n\(result.stdout)")
        }
    }

    func testValidateHelpListsItsOptions() throws {
        let result = try FoldwiseProcess.run(["validate", "--help"])
        assertSucceeded(result)
        for option in ["<manifest>", "--manifest-only"] {
            XCTAssertTrue(result.stdout.contains(option), "\(option) missing:\n\(result.stdout)")
        }
    }

    func testCommandLineErrorsExitTwoAndShowTheUsage() throws {
        assertBadInput(try FoldwiseProcess.run(["frobnicate"]), mentions: ["'frobnicate'", "foldwise --help"])
        assertBadInput(try FoldwiseProcess.run(["train", "m.yaml", "--bogus"]), mentions: ["'--bogus'", "foldwise train --help"])
        assertBadInput(try FoldwiseProcess.run(["train", "m.yaml", "--threads", "abc"]), mentions: ["'abc'", "--threads"])
        assertBadInput(try FoldwiseProcess.run(["train", "m.yaml", "--threads", "0"]), mentions: ["--threads must be at least 1, got 0"])
        assertBadInput(try FoldwiseProcess.run(["train"]), mentions: ["<manifest>"])
    }
}
