import Foundation
import XCTest

/// `foldwise keys generate`: the files it writes, what it prints, and refusals.
final class KeysCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testGenerateWritesAPairIntoTheDefaultFolderAndSaysWhereToCopyIt() throws {
        let result = try FoldwiseProcess.run(["keys", "generate", "worker-1"], in: folder)
        assertSucceeded(result)
        let keys = folder.appendingPathComponent("keys").resolvingSymlinksInPath()
        let keyFile = keys.appendingPathComponent("worker-1.key"), publicFile = keys.appendingPathComponent("worker-1.pub")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, result.stdout)
        XCTAssertTrue(lines.first?.hasSuffix("keys/worker-1.key (keep it on the machine that uses it)") == true, result.stdout)
        XCTAssertTrue(lines.dropFirst().first?.hasSuffix("keys/worker-1.pub") == true, result.stdout)
        XCTAssertTrue(result.stdout.contains("copy worker-1.pub into the coordinator's --allow folder"), result.stdout)

        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
        XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o600)
        let secretLines = try String(contentsOf: keyFile, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(secretLines.count, 3)
        XCTAssertEqual(secretLines.first, "# foldwise CURVE key pair, keep secret")
        let publicLine = try String(contentsOf: publicFile, encoding: .utf8)
        XCTAssertEqual(publicLine, String(secretLines[1]) + "\n", "the .pub file repeats the pair's public-key line")
        XCTAssertTrue(publicLine.hasPrefix("public-key ") && publicLine.count == "public-key ".count + 40 + 1, publicLine)
        XCTAssertTrue(secretLines[2].hasPrefix("secret-key ") && secretLines[2].count == "secret-key ".count + 40)
    }

    func testGenerateHonoursDirAndRefusesToOverwrite() throws {
        let keys = folder.appendingPathComponent("nested/keys")
        assertSucceeded(try FoldwiseProcess.run(["keys", "generate", "coordinator", "--dir", keys.path]))
        let keyFile = keys.appendingPathComponent("coordinator.key")
        let original = try Data(contentsOf: keyFile)

        let again = try FoldwiseProcess.run(["keys", "generate", "coordinator", "--dir", keys.path])
        assertBadInput(again, mentions: [keyFile.path, "already exists"])
        XCTAssertEqual(try Data(contentsOf: keyFile), original, "the existing secret is untouched")
    }

    func testANameThatIsNotAFileNameExitsTwo() throws {
        let result = try FoldwiseProcess.run(["keys", "generate", "../escape", "--dir", folder.path])
        assertBadInput(result, mentions: ["../escape", "foldwise keys generate worker-1"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testHelpListsGenerateAndItsOptions() throws {
        let group = try FoldwiseProcess.run(["keys", "--help"])
        assertSucceeded(group)
        XCTAssertTrue(group.stdout.contains("generate"), group.stdout)
        let generate = try FoldwiseProcess.run(["keys", "generate", "--help"])
        assertSucceeded(generate)
        XCTAssertTrue(generate.stdout.contains("--dir"), generate.stdout)
        XCTAssertTrue(generate.stdout.contains("NAME.key"), generate.stdout)
    }
}
