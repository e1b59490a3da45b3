import Foundation
import TestSupport
import XCTest

/// `foldwise lr-find`: the sweep on the embedded digits, its chart and CSV, and bad input.
final class LRFindCommandTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-lrfind-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// On manifests/digits.yaml (Adam), the suggestion lands within a factor of 10 of 3e-4.
    func testDigitsSweepSuggestsAnAdamLearningRateAndWritesTheChart() throws {
        let out = try temporaryDirectory()
        let manifest = TemporaryDataset.repositoryRoot.appendingPathComponent("manifests/digits.yaml")
        let result = try FoldwiseProcess.run(["lr-find", manifest.path, "--model", "resnet", "--out", out.path, "--threads", "1"],
                                             timeout: 120)
        assertSucceeded(result)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("suggested lr: ") }, result.stdout)
        let suggestion = try XCTUnwrap(Double(line.dropFirst("suggested lr: ".count)), String(line))
        XCTAssertGreaterThanOrEqual(suggestion, 3e-5)
        XCTAssertLessThanOrEqual(suggestion, 3e-3)
        let svg = try String(contentsOf: out.appendingPathComponent("lr-find-resnet.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("suggested lr"), String(svg.prefix(200)))
        let csv = try String(contentsOf: out.appendingPathComponent("lr-find-resnet.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n")
        XCTAssertEqual(rows.first, "lr,loss,smoothed_loss")
        XCTAssertGreaterThan(rows.count, 20)
    }

    func testBadInputExitsWithCodeTwo() throws {
        let manifest = TemporaryDataset.repositoryRoot.appendingPathComponent("manifests/digits.yaml")
        assertBadInput(try FoldwiseProcess.run(["lr-find", manifest.path, "--model", "nope"]),
                       mentions: ["--model nope is not in the manifest", "resnet"])
        assertBadInput(try FoldwiseProcess.run(["lr-find", manifest.path, "--start", "1", "--end", "0.1"]),
                       mentions: ["--start and --end"])
        assertBadInput(try FoldwiseProcess.run(["lr-find", "missing.yaml"]), mentions: ["missing.yaml"])
        // Fewer train images than two batches: a message, not a crash.
        let dataset = try TemporaryDataset.digits()
        defer { dataset.remove() }
        let big = dataset.manifestYAML().replacingOccurrences(of: "batch_size: 16", with: "batch_size: 4096")
        assertBadInput(try FoldwiseProcess.run(["lr-find", try dataset.writeManifest(big).path]),
                       mentions: ["fewer than the two batches a sweep needs", "lower the model's batch_size"])
    }
}
