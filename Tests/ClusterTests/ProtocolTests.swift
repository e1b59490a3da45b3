import XCTest
import Training
@testable import Cluster

final class ProtocolTests: XCTestCase {
    let signature = hex("46575003")

    private func assertError(_ frames: [[UInt8]], _ expected: ProtocolError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Message.decode(frames), file: file, line: line) { error in
            XCTAssertEqual(error as? ProtocolError, expected, file: file, line: line)
        }
    }

    private func decodeError(_ frames: [[UInt8]]) -> ProtocolError? {
        do { _ = try Message.decode(frames); return nil } catch { return error }
    }

    func testFixedConstants() {
        XCTAssertEqual(WireProtocol.version, 3)
        XCTAssertEqual(WireProtocol.signature, Array("FWP".utf8) + [3])
        XCTAssertEqual(WireProtocol.heartbeatInterval, 1)
        XCTAssertEqual(WireProtocol.liveness, 3)
        XCTAssertEqual(WireProtocol.reconnectInitialDelay, 0.5)
        XCTAssertEqual(WireProtocol.reconnectMaximumDelay, 8)
        XCTAssertEqual(WireProtocol.maximumWelcomePatience, 32)
    }

    func testTooFewFrames() {
        assertError([], .tooFewFrames(0))
        assertError([signature, hex("03")], .tooFewFrames(2))
    }

    func testWrongSignature() {
        assertError([hex("46575801"), hex("03"), hex("7b7d")], .wrongSignature(hex("46575801")))
        assertError([hex("465750"), hex("03"), hex("7b7d")], .wrongSignature(hex("465750")))
        XCTAssertTrue(ProtocolError.wrongSignature(hex("474554")).description.contains("474554"))
    }

    func testUnknownVersionNamesBothVersions() {
        assertError([hex("46575001"), hex("03"), hex("7b7d")], .unknownVersion(received: 1, supported: 3))
        // A version 2 worker (Float32 validation rows) is refused at its first frame, before its hello is read.
        assertError([hex("46575002"), hex("01"), hex("7b7d")], .unknownVersion(received: 2, supported: 3))
        let text = ProtocolError.unknownVersion(received: 2, supported: 3).description
        XCTAssertTrue(text.contains("version 2") && text.contains("version 3"), text)
    }

    func testUnknownCommand() {
        assertError([signature, hex("00"), hex("7b7d")], .unknownCommand(hex("00")))
        assertError([signature, hex("0c"), hex("7b7d")], .unknownCommand(hex("0c")))
        assertError([signature, hex("0303"), hex("7b7d")], .unknownCommand(hex("0303")))
        assertError([signature, [], hex("7b7d")], .unknownCommand([]))
    }

    func testMalformedHeader() {
        for header in ["", "{", "[]", "{\"reason\":3}", "\u{FF}"] {
            guard case .malformedHeader(.reject, _)? = decodeError([signature, hex("0b"), Array(header.utf8)]) else {
                return XCTFail("header \(header) should be malformed")
            }
        }
        guard case .malformedHeader(.ready, _)? = decodeError([signature, hex("03"), Array("null".utf8)]) else {
            return XCTFail("a ready header must be an object")
        }
        guard case .malformedHeader(.hello, let reason)? = decodeError([signature, hex("01"), Array("{\"host\":\"a\"}".utf8)]) else {
            return XCTFail("hello without its keys")
        }
        XCTAssertTrue(reason.contains("datasetFingerprint") || reason.contains("protocolVersion") || reason.contains("threads"), reason)
    }

    /// A distilled task's teacher arrays must match the shapes its header announces.
    func testPayloadCountAndShapeMismatch() {
        let task = ClusterTask(manifestHash: "m", stage: "distill", round: 1, fold: FoldTask(model: "r", seed: 1, fold: 0))
        let frames = Message.task(TaskAssignment(task: task, attempt: 1, teacher: [Payload(shape: [2], scalars: [1, 2])])).encode()
        func header(shapes: String) -> [UInt8] {
            Array(String(decoding: frames[2], as: UTF8.self).replacingOccurrences(of: #""shapes":[[2]]"#, with: #""shapes":"# + shapes).utf8)
        }
        XCTAssertEqual(header(shapes: "[[2]]"), frames[2])
        guard case .payloadMismatch(.task, let countReason)? = decodeError(Array(frames.prefix(3))) else {
            return XCTFail("a missing payload frame")
        }
        XCTAssertTrue(countReason.contains("1 shapes") && countReason.contains("0 payload"), countReason)
        guard case .payloadMismatch(.task, let shapeReason)? = decodeError(Array(frames.prefix(3)) + [hex("0000803f")]) else {
            return XCTFail("4 bytes for shape [2]")
        }
        XCTAssertTrue(shapeReason.contains("4 bytes") && shapeReason.contains("8"), shapeReason)
        guard case .payloadMismatch(.task, _)? = decodeError(Array(frames.prefix(3)) + [hex("0000803f0000")]) else {
            return XCTFail("bytes not a multiple of 4")
        }
        guard case .payloadMismatch? = decodeError([signature, hex("04"), header(shapes: "[[-1,-4]]"), hex("0000803f")]) else {
            return XCTFail("negative dimensions")
        }
        guard case .payloadMismatch? = decodeError([signature, hex("04"), header(shapes: "[[4611686018427387904,4]]"), []]) else {
            return XCTFail("overflowing shape")
        }
        guard case .payloadMismatch(.heartbeat, _)? = decodeError([signature, hex("08"), hex("7b7d"), hex("00000000")]) else {
            return XCTFail("a heartbeat with a payload")
        }
    }

    /// A welcome's files must arrive whole: one frame per announced file, of its size and digest.
    func testShippedFilesMustMatchTheirHeader() {
        let offer = ManifestOffer(hash: "m", json: "{}", directory: "/exp", files: [("a.ckpt", [1, 2, 3]), ("b.ckpt", [4])])
        let frames = Message.welcome(Welcome(workerID: "w", heartbeatInterval: 1, manifest: offer)).encode()
        XCTAssertEqual(frames.count, 5)
        guard case .welcome(let welcome)? = try? Message.decode(frames) else { return XCTFail("a whole welcome decodes") }
        XCTAssertEqual(welcome.manifest?.contents, [[1, 2, 3], [4]])
        guard case .payloadMismatch(.welcome, let missing)? = decodeError(Array(frames.dropLast())) else {
            return XCTFail("a missing file")
        }
        XCTAssertTrue(missing.contains("2 files") && missing.contains("1 payload"), missing)
        var damaged = frames
        damaged[3] = [1, 2, 4]
        guard case .payloadMismatch(.welcome, let reason)? = decodeError(damaged) else { return XCTFail("a damaged file") }
        XCTAssertTrue(reason.contains("a.ckpt") && reason.contains(ShippedFile.digest([1, 2, 3])), reason)
        damaged[3] = [1, 2]
        guard case .payloadMismatch(.welcome, _)? = decodeError(damaged) else { return XCTFail("a short file") }
        let plain = Message.welcome(Welcome(workerID: "w", heartbeatInterval: 1)).encode()
        guard case .payloadMismatch(.welcome, _)? = decodeError(plain + [[0]]) else { return XCTFail("a frame no header names") }
    }

    /// Random and mutated frame lists never crash decode and only ever raise ProtocolError.
    func testFuzzedFramesOnlyThrowProtocolErrors() {
        var random = SplitMix64(seed: 0x5eed)
        let valid: [[[UInt8]]] = [
            Message.ready.encode(),
            Message.result(TaskResult(taskID: "t", attempt: 1, score: 1, predictions: TaskPredictions(
                validationRows: [4, 0], testRows: 1, classes: 2,
                sets: [SetPredictions(name: "last", oof: [0.5, 0.5, 1, 0], test: [0, 1])]))).encode(),
            Message.hello(Hello(protocolVersion: 1, workerID: "w", host: "h", threads: 1, datasetFingerprint: "f")).encode(),
        ]
        var decoded = 0
        for round in 0..<600 {
            var frames = valid[round % valid.count]
            switch round % 4 {
            case 0: frames = (0..<random.next(below: 6)).map { _ in random.bytes(count: random.next(below: 24)) }
            case 1:
                let frame = random.next(below: frames.count), bytes = frames[frame]
                if !bytes.isEmpty { frames[frame][random.next(below: bytes.count)] = UInt8(random.next(below: 256)) }
            case 2:
                let frame = random.next(below: frames.count)
                frames[frame].removeLast(min(1 + random.next(below: 3), frames[frame].count))
            default: frames.insert(random.bytes(count: random.next(below: 9)), at: random.next(below: frames.count + 1))
            }
            do { _ = try Message.decode(frames); decoded += 1 } catch {
                XCTAssertFalse(error.description.isEmpty)
            }
        }
        XCTAssertLessThan(decoded, 600, "the mutations should break most messages")
    }
}

/// A small seeded generator (SplitMix64) for the fuzz test.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    mutating func bytes(count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
