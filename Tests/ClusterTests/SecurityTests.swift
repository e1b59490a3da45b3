import Foundation
import XCTest
@testable import Cluster

/// Key files, the bind policy, flag resolution, and CURVE with the allow-list over real loopback sockets.
final class SecurityTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("foldwise-security-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func write(_ text: String, _ name: String) throws -> URL {
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file
    }

    private func mode(_ file: URL) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
    }

    /// Asserts that `body` throws a SecurityError naming `file` (and `line` when given) and mentioning `fragment`.
    private func assertRefused(_ file: URL, line: Int?, _ fragment: String, _ body: () throws -> Void,
                               sourceLine: UInt = #line) {
        XCTAssertThrowsError(try body(), line: sourceLine) { error in
            guard let error = error as? SecurityError else { return XCTFail("not a SecurityError: \(error)", line: sourceLine) }
            XCTAssertEqual(error.file, file.path, line: sourceLine)
            XCTAssertEqual(error.line, line, error.description, line: sourceLine)
            let place = line.map { "\(file.path) line \($0): " } ?? "\(file.path): "
            XCTAssertTrue(error.description.hasPrefix(place), error.description, line: sourceLine)
            XCTAssertTrue(error.description.contains(fragment), error.description, line: sourceLine)
            XCTAssertFalse(error.fix.isEmpty, line: sourceLine)
        }
    }

    // MARK: key files

    func testGeneratedFilesRoundTripWithASecretOnlyTheOwnerReads() throws {
        let files = try KeyFiles.generate(name: "worker-1", directory: folder.appendingPathComponent("keys"))
        XCTAssertEqual(files.keyFile.lastPathComponent, "worker-1.key")
        XCTAssertEqual(files.publicFile.lastPathComponent, "worker-1.pub")
        XCTAssertEqual(try mode(files.keyFile), 0o600)
        XCTAssertEqual(try mode(files.publicFile), 0o644)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: files.keyFile.deletingLastPathComponent().path).sorted(),
                       ["worker-1.key", "worker-1.pub"], "no temporary files are left behind")

        let pair = try KeyFiles.loadKeyPair(files.keyFile)
        XCTAssertTrue(ZMQSocket.isCurveKey(pair.publicKey) && ZMQSocket.isCurveKey(pair.secretKey))
        let secretLines = try String(contentsOf: files.keyFile, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(secretLines, ["# foldwise CURVE key pair, keep secret",
                                     "public-key \(pair.publicKey)"[...], "secret-key \(pair.secretKey)"[...]])
        XCTAssertEqual(try String(contentsOf: files.publicFile, encoding: .utf8), "public-key \(pair.publicKey)\n")
        XCTAssertEqual(try KeyFiles.loadPublicKey(files.publicFile), pair.publicKey)
        XCTAssertEqual(try KeyFiles.loadPublicKey(files.keyFile), pair.publicKey, "a .key file also yields its public key")
        XCTAssertFalse(pair.description.contains(pair.secretKey), "a printed pair never shows its secret")
    }

    func testGenerateNeverOverwritesAndLeavesNoHalfPair() throws {
        let first = try KeyFiles.generate(name: "coordinator", directory: folder)
        let original = try Data(contentsOf: first.keyFile)
        assertRefused(first.keyFile, line: nil, "already exists") { _ = try KeyFiles.generate(name: "coordinator", directory: folder) }
        XCTAssertEqual(try Data(contentsOf: first.keyFile), original)

        let lonePublic = try write("public-key x\n", "lone.pub")
        assertRefused(lonePublic, line: nil, "already exists") { _ = try KeyFiles.generate(name: "lone", directory: folder) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("lone.key").path))
    }

    func testGenerateRejectsNamesThatAreNotPlainFileNames() {
        for name in ["", "../escape", "a/b", ".hidden", "two words", String(repeating: "k", count: 65)] {
            XCTAssertThrowsError(try KeyFiles.generate(name: name, directory: folder), name) { error in
                XCTAssertTrue(String(describing: error).contains("foldwise keys generate worker-1"), String(describing: error))
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testEveryMalformedKeyFileNamesItsFileAndLine() throws {
        let pair = KeyPair.generate(), other = KeyPair.generate()
        let cases: [(text: String, line: Int?, fragment: String)] = [
            ("# c\npublic-key \(pair.publicKey)\nsecret-key \(pair.secretKey.prefix(39))\n", 3, "secret-key is not one 40-character Z85"),
            ("public-key \(pair.publicKey)\n\nprivate-key \(pair.secretKey)\n", 3, "unknown line"),
            ("public-key \(pair.publicKey)\npublic-key \(pair.publicKey)\nsecret-key \(pair.secretKey)\n", 2,
             "a second public-key line (the first is line 1)"),
            ("public-key \(pair.publicKey) extra\nsecret-key \(pair.secretKey)\n", 1, "public-key is not one"),
            ("public-key \(other.publicKey)\nsecret-key \(pair.secretKey)\n", 1, "does not belong to the secret-key"),
            ("public-key \(pair.publicKey)\n", nil, "no secret-key line"),
            ("secret-key \(pair.secretKey)\n", nil, "no public-key line"),
        ]
        for (index, example) in cases.enumerated() {
            let file = try write(example.text, "case-\(index).key")
            assertRefused(file, line: example.line, example.fragment) { _ = try KeyFiles.loadKeyPair(file) }
        }
        let binary = folder.appendingPathComponent("binary.key")
        try Data([0xff, 0xfe, 0x00]).write(to: binary)
        assertRefused(binary, line: nil, "not a text file") { _ = try KeyFiles.loadKeyPair(binary) }
        let missing = folder.appendingPathComponent("gone.key")
        assertRefused(missing, line: nil, "foldwise keys generate gone") { _ = try KeyFiles.loadKeyPair(missing) }
    }

    func testAPublicFileHoldingASecretIsRefused() throws {
        let pair = KeyPair.generate()
        let file = try write("public-key \(pair.publicKey)\nsecret-key \(pair.secretKey)\n", "leaky.pub")
        assertRefused(file, line: 2, "a .pub file holds a secret-key line") { _ = try KeyFiles.loadPublicKey(file) }
    }

    func testAllowListReadsFilesAndEveryPubFileOfAFolder() throws {
        let allowFolder = folder.appendingPathComponent("allow")
        let a = try KeyFiles.generate(name: "a", directory: allowFolder), b = try KeyFiles.generate(name: "b", directory: allowFolder)
        try Data("not a key".utf8).write(to: allowFolder.appendingPathComponent("README"))
        let single = try KeyFiles.generate(name: "single", directory: folder)
        let keys = try KeyFiles.loadAllowList([allowFolder, single.publicFile])
        XCTAssertEqual(keys, Set(try [a.publicFile, b.publicFile, single.publicFile].map(KeyFiles.loadPublicKey)))

        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        assertRefused(empty, line: nil, "holds no .pub files") { _ = try KeyFiles.loadAllowList([empty]) }
        let missing = folder.appendingPathComponent("nowhere")
        assertRefused(missing, line: nil, "does not exist") { _ = try KeyFiles.loadAllowList([missing]) }
        let bad = try write("public-key short\n", "bad.pub")
        assertRefused(bad, line: 1, "Z85") { _ = try KeyFiles.loadAllowList([allowFolder, bad]) }
    }

    // MARK: bind policy

    func testLoopbackClassification() {
        let table: [(String, Bool)] = [
            ("tcp://127.0.0.1:5555", true), ("tcp://127.0.0.1:*", true), ("tcp://127.1.2.3:80", true),
            ("tcp://localhost:5555", true), ("TCP://LocalHost:5555", true), ("tcp://[::1]:5555", true),
            ("ipc:///tmp/foldwise.sock", true), ("inproc://coordinator", true),
            ("tcp://0.0.0.0:5555", false), ("tcp://*:5555", false), ("tcp://[::]:5555", false),
            ("tcp://192.168.1.10:5555", false), ("tcp://eth0:5555", false), ("tcp://example.org:5555", false),
            ("tcp://127.evil.example:5555", false), ("tcp://127.0.0.256:5555", false), ("tcp://127.0.0:5555", false),
            ("tcp://localhost.example.org:5555", false), ("ws://127.0.0.1:5555", false), ("127.0.0.1:5555", false),
        ]
        for (endpoint, loopback) in table {
            XCTAssertEqual(BindPolicy.isLoopback(endpoint: endpoint), loopback, endpoint)
        }
    }

    func testANetworkBindWithoutKeysRefusesToStartUnlessInsecure() throws {
        XCTAssertThrowsError(try BindPolicy.check(endpoint: "tcp://0.0.0.0:5555", hasKeys: false, insecure: false)) { error in
            XCTAssertEqual(String(describing: error),
                           "binding tcp://0.0.0.0:5555 without CURVE keys opens the coordinator to the network — generate keys with "
                           + "`foldwise keys generate coordinator` and pass --key/--allow, pass --insecure if every peer is trusted, "
                           + "or use `foldwise run` on one machine (it makes keys for its own workers)")
        }
        XCTAssertNoThrow(try BindPolicy.check(endpoint: "tcp://0.0.0.0:5555", hasKeys: true, insecure: false))
        XCTAssertNoThrow(try BindPolicy.check(endpoint: "tcp://0.0.0.0:5555", hasKeys: false, insecure: true))
        XCTAssertThrowsError(try BindPolicy.check(endpoint: "tcp://127.0.0.1:5555", hasKeys: false, insecure: false)) { error in
            XCTAssertTrue("\(error)".contains("every process on this machine") && "\(error)".contains("foldwise run"), "\(error)")
        }
        XCTAssertNoThrow(try BindPolicy.check(endpoint: "tcp://127.0.0.1:5555", hasKeys: false, insecure: true))
    }

    func testFlagsResolveToCurveOnlyWhenBothHalvesAreGiven() throws {
        let coordinator = try KeyFiles.generate(name: "coordinator", directory: folder)
        let worker = try KeyFiles.generate(name: "worker", directory: folder)
        XCTAssertThrowsError(try ServerSecurity.resolve(endpoint: "tcp://127.0.0.1:5555", keyFile: nil, allow: [], insecure: false))
        XCTAssertNil(try ServerSecurity.resolve(endpoint: "tcp://127.0.0.1:5555", keyFile: nil, allow: [], insecure: true))
        XCTAssertNil(try ServerSecurity.resolve(endpoint: "tcp://*:5555", keyFile: nil, allow: [], insecure: true))
        XCTAssertThrowsError(try ServerSecurity.resolve(endpoint: "tcp://*:5555", keyFile: nil, allow: [], insecure: false))
        XCTAssertThrowsError(try ServerSecurity.resolve(endpoint: "tcp://*:5555", keyFile: nil, allow: [worker.publicFile], insecure: false))
        assertRefused(coordinator.keyFile, line: nil, "without --allow") {
            _ = try ServerSecurity.resolve(endpoint: "tcp://*:5555", keyFile: coordinator.keyFile, allow: [], insecure: false)
        }
        let server = try XCTUnwrap(ServerSecurity.resolve(endpoint: "tcp://*:5555", keyFile: coordinator.keyFile,
                                                          allow: [worker.publicFile], insecure: false))
        XCTAssertEqual(server.keyPair, try KeyFiles.loadKeyPair(coordinator.keyFile))
        XCTAssertEqual(server.allowedKeys, [try KeyFiles.loadPublicKey(worker.publicFile)])

        XCTAssertNil(try ClientSecurity.resolve(keyFile: nil, serverKeyFile: nil))
        assertRefused(worker.keyFile, line: nil, "without --server-key") {
            _ = try ClientSecurity.resolve(keyFile: worker.keyFile, serverKeyFile: nil)
        }
        assertRefused(coordinator.publicFile, line: nil, "without --key") {
            _ = try ClientSecurity.resolve(keyFile: nil, serverKeyFile: coordinator.publicFile)
        }
        assertRefused(coordinator.keyFile, line: nil, "holds the coordinator's secret key") {
            _ = try ClientSecurity.resolve(keyFile: worker.keyFile, serverKeyFile: coordinator.keyFile)
        }
        let client = try XCTUnwrap(ClientSecurity.resolve(keyFile: worker.keyFile, serverKeyFile: coordinator.publicFile))
        XCTAssertEqual(client.serverPublicKey, server.keyPair.publicKey)
    }

    // MARK: CURVE over real sockets

    /// A worker DEALER with the given key file, connected to `endpoint`.
    private func worker(_ context: ZMQContext, keyFile: URL, serverKey: URL, identity: String, endpoint: String) throws -> ZMQSocket {
        let security = try XCTUnwrap(ClientSecurity.resolve(keyFile: keyFile, serverKeyFile: serverKey))
        let socket = try ZMQSocket(context: context, kind: .dealer)
        try socket.setIdentity(Array(identity.utf8))
        try security.apply(to: socket)
        try socket.connect(endpoint)
        return socket
    }

    func testAnAllowListedWorkerTalksAndAnUnknownKeyGetsNothing() throws {
        let coordinator = try KeyFiles.generate(name: "coordinator", directory: folder)
        let member = try KeyFiles.generate(name: "member", directory: folder.appendingPathComponent("allow"))
        let stranger = try KeyFiles.generate(name: "stranger", directory: folder)
        let security = try XCTUnwrap(ServerSecurity.resolve(endpoint: "tcp://127.0.0.1:*", keyFile: coordinator.keyFile,
                                                            allow: [folder.appendingPathComponent("allow")], insecure: false))
        let context = try ZMQContext()
        let router = try ZMQSocket(context: context, kind: .router)
        let zap = try security.apply(to: router)
        defer { zap.stop() }
        let endpoint = try router.bind("tcp://127.0.0.1:*")

        let intruder = try worker(context, keyFile: stranger.keyFile, serverKey: coordinator.publicFile, identity: "stranger", endpoint: endpoint)
        let allowed = try worker(context, keyFile: member.keyFile, serverKey: coordinator.publicFile, identity: "member", endpoint: endpoint)
        try intruder.send(frames: [Array("let me in".utf8)])
        try allowed.send(frames: [Array("hello".utf8)])

        let received = try XCTUnwrap(router.receive(timeout: 5))
        XCTAssertEqual(received, [Array("member".utf8), Array("hello".utf8)])
        try router.send(frames: [Array("member".utf8), Array("welcome".utf8)])
        XCTAssertEqual(try allowed.receive(timeout: 5), [Array("welcome".utf8)])

        XCTAssertNil(try router.receive(timeout: 1), "a key off the allow-list must deliver nothing")
        XCTAssertNil(try intruder.receive(timeout: 0))
        let rejections = zap.takeRejections()
        XCTAssertTrue(rejections.contains { $0.clientKey == (try? KeyFiles.loadPublicKey(stranger.publicFile)) }, "\(rejections)")
        XCTAssertFalse(rejections.contains { $0.clientKey == security.allowedKeys.first })
    }
}
