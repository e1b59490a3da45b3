import XCTest
import Training
@testable import Cluster

/// Golden bytes for every message: the frames are written out by hand (the JSON
/// text beside each header), and checked in both directions.
final class MessagesTests: XCTestCase {
    static let task = ClusterTask(manifestHash: "abc123", stage: "base", round: 0, fold: FoldTask(model: "resnet", seed: 7, fold: 2))
    static let taskID = "90c640d898ab2585"
    let signature = hex("46575003")

    private func assertGolden(_ message: Message, _ frames: [[UInt8]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(message.encode(), frames, "encode", file: file, line: line)
        XCTAssertEqual(try Message.decode(frames), message, "decode", file: file, line: line)
    }

    func testHello() {
        // {"datasetFingerprint":"fp01","host":"node-a","protocolVersion":1,"threads":2,"workerID":"w1"}
        assertGolden(.hello(Hello(protocolVersion: 1, workerID: "w1", host: "node-a", threads: 2, datasetFingerprint: "fp01")),
                     [signature, hex("01"), hex("""
                        7b226461 74617365 7446696e 67657270 72696e74 223a2266 70303122 2c22686f
                        7374223a 226e6f64 652d6122 2c227072 6f746f63 6f6c5665 7273696f 6e223a31
                        2c227468 72656164 73223a32 2c22776f 726b6572 4944223a 22773122 7d
                        """)])
    }

    func testWelcome() {
        // {"heartbeatInterval":1,"workerID":"w1"}
        assertGolden(.welcome(Welcome(workerID: "w1", heartbeatInterval: 1)),
                     [signature, hex("02"), hex("""
                        7b226865 61727462 65617449 6e746572 76616c22 3a312c22 776f726b 65724944
                        223a2277 31227d
                        """)])
    }

    func testReadyAndHeartbeatCarryAnEmptyObject() {
        assertGolden(.ready, [signature, hex("03"), hex("7b7d")])
        assertGolden(.heartbeat, [signature, hex("08"), hex("7b7d")])
    }

    func testTask() {
        // {"attempt":1,"fold":2,"manifestHash":"abc123","model":"resnet","round":0,"seed":7,"stage":"base","taskID":"90c640d898ab2585"}
        assertGolden(.task(TaskAssignment(task: Self.task, attempt: 1)),
                     [signature, hex("04"), hex("""
                        7b226174 74656d70 74223a31 2c22666f 6c64223a 322c226d 616e6966 65737448
                        61736822 3a226162 63313233 222c226d 6f64656c 223a2272 65736e65 74222c22
                        726f756e 64223a30 2c227365 6564223a 372c2273 74616765 223a2262 61736522
                        2c227461 736b4944 223a2239 30633634 30643839 38616232 35383522 7d
                        """)])
    }

    func testProgress() {
        // {"attempt":1,"epoch":3,"epochs":8,"learningRate":0.001,"seconds":1.5,"taskID":"90c640d898ab2585","trainLoss":0.25,"validationLoss":0.5,"validationScore":0.875}
        assertGolden(.progress(TaskProgress(taskID: Self.taskID, attempt: 1, epoch: 3, epochs: 8, trainLoss: 0.25, validationLoss: 0.5,
                                            validationScore: 0.875, learningRate: 0.001, seconds: 1.5)),
                     [signature, hex("05"), hex("""
                        7b226174 74656d70 74223a31 2c226570 6f636822 3a332c22 65706f63 6873223a
                        382c226c 6561726e 696e6752 61746522 3a302e30 30312c22 7365636f 6e647322
                        3a312e35 2c227461 736b4944 223a2239 30633634 30643839 38616232 35383522
                        2c227472 61696e4c 6f737322 3a302e32 352c2276 616c6964 6174696f 6e4c6f73
                        73223a30 2e352c22 76616c69 64617469 6f6e5363 6f726522 3a302e38 37357d
                        """)])
    }

    func testHelloWithTheManifestHashOfItsData() {
        // {"datasetFingerprint":"fp01","host":"node-a","manifestHash":"abc123","protocolVersion":1,"threads":2,"workerID":"w1"}
        assertGolden(.hello(Hello(protocolVersion: 1, workerID: "w1", host: "node-a", threads: 2, datasetFingerprint: "fp01",
                                  manifestHash: "abc123")),
                     [signature, hex("01"), hex("""
                        7b226461 74617365 7446696e 67657270 72696e74 223a2266 70303122 2c22686f
                        7374223a 226e6f64 652d6122 2c226d61 6e696665 73744861 7368223a 22616263
                        31323322 2c227072 6f746f63 6f6c5665 7273696f 6e223a31 2c227468 72656164
                        73223a32 2c22776f 726b6572 4944223a 22773122 7d
                        """)])
    }

    func testWelcomeCarryingTheManifest() {
        // {"heartbeatInterval":1,"manifest":{"directory":"/exp","hash":"abc123","json":"{}"},"workerID":"w1"}
        let offer = ManifestOffer(hash: "abc123", json: "{}", directory: "/exp")
        assertGolden(.welcome(Welcome(workerID: "w1", heartbeatInterval: 1, manifest: offer)),
                     [signature, hex("02"), hex("""
                        7b226865 61727462 65617449 6e746572 76616c22 3a312c22 6d616e69 66657374
                        223a7b22 64697265 63746f72 79223a22 2f657870 222c2268 61736822 3a226162
                        63313233 222c226a 736f6e22 3a227b7d 227d2c22 776f726b 65724944 223a2277
                        31227d
                        """)])
    }

    /// A fine-tuning checkpoint travels with the manifest: named in the header
    /// (path, size, FNV-1a digest), its bytes a payload frame.
    func testWelcomeCarryingTheManifestAndACheckpoint() {
        // {"heartbeatInterval":1,"manifest":{"directory":"/exp","files":[{"bytes":3,"digest":"d0aa6218672cf5ab",
        //  "path":"pre.ckpt"}],"hash":"abc123","json":"{}"},"workerID":"w1"}
        let offer = ManifestOffer(hash: "abc123", json: "{}", directory: "/exp", files: [("pre.ckpt", [1, 2, 3])])
        XCTAssertEqual(offer.files, [ShippedFile(path: "pre.ckpt", bytes: 3, digest: "d0aa6218672cf5ab")])
        assertGolden(.welcome(Welcome(workerID: "w1", heartbeatInterval: 1, manifest: offer)),
                     [signature, hex("02"), hex("""
                        7b226865 61727462 65617449 6e746572 76616c22 3a312c22 6d616e69 66657374
                        223a7b22 64697265 63746f72 79223a22 2f657870 222c2266 696c6573 223a5b7b
                        22627974 6573223a 332c2264 69676573 74223a22 64306161 36323138 36373263
                        66356162 222c2270 61746822 3a227072 652e636b 7074227d 5d2c2268 61736822
                        3a226162 63313233 222c226a 736f6e22 3a227b7d 227d2c22 776f726b 65724944
                        223a2277 31227d
                        """), [1, 2, 3]])
    }

    /// A worker reports the offer's identity once loaded: the manifest hash alone, or with
    /// a digest of its files' paths and digests, so another file at the same path differs.
    func testOfferIdentityCoversItsFiles() {
        XCTAssertEqual(ManifestOffer(hash: "abc", json: "{}", directory: "/exp").identity, "abc")
        let one = ManifestOffer(hash: "abc", json: "{}", directory: "/exp", files: [("pre.ckpt", [1, 2, 3])])
        let other = ManifestOffer(hash: "abc", json: "{}", directory: "/exp", files: [("pre.ckpt", [1, 2, 4])])
        XCTAssertTrue(one.identity.hasPrefix("abc+"))
        XCTAssertEqual(one.identity.count, "abc+".count + 16)
        XCTAssertNotEqual(one.identity, other.identity)
        XCTAssertEqual(one.identity, ManifestOffer(hash: "abc", json: "{}", directory: "/x", files: [("pre.ckpt", [1, 2, 3])]).identity)
        XCTAssertEqual(one.description, "manifest abc with 1 file(s), 3 bytes")
    }

    func testFailureHandedBack() {
        // {"attempt":2,"handedBack":true,"message":"stopping","taskID":"90c640d898ab2585"}
        assertGolden(.failure(TaskFailure(taskID: Self.taskID, attempt: 2, message: "stopping", handedBack: true)),
                     [signature, hex("07"), hex("""
                        7b226174 74656d70 74223a32 2c226861 6e646564 4261636b 223a7472 75652c22
                        6d657373 61676522 3a227374 6f707069 6e67222c 22746173 6b494422 3a223930
                        63363430 64383938 61623235 3835227d
                        """)])
    }

    /// The result layout (`ResultLayout`): the header names the sets and the sizes,
    /// then the validation rows as Int64 (2^24 + 1 would not survive Float32), then
    /// OOF [rows, K] and test [test rows, K] per set as Float32. A layout change fails here.
    func testResultWithNamedSets() {
        // {"attempt":1,"classes":2,"rows":2,"score":0.5,"sets":["last","swa"],"taskID":"90c640d898ab2585","testRows":1}
        let predictions = TaskPredictions(validationRows: [3, 16_777_217], testRows: 1, classes: 2, sets: [
            SetPredictions(name: "last", oof: [0.25, 0.75, 1, 0], test: [0.5, 0.5]),
            SetPredictions(name: "swa", oof: [0.5, 0.5, 0.125, 0.875], test: [1, 0]),
        ])
        assertGolden(.result(TaskResult(taskID: Self.taskID, attempt: 1, score: 0.5, predictions: predictions)),
                     [signature, hex("06"), hex("""
                        7b226174 74656d70 74223a31 2c22636c 61737365 73223a32 2c22726f 7773223a
                        322c2273 636f7265 223a302e 352c2273 65747322 3a5b226c 61737422 2c227377
                        61225d2c 22746173 6b494422 3a223930 63363430 64383938 61623235 3835222c
                        22746573 74526f77 73223a31 7d
                        """),
                      hex("03000000 00000000  01000001 00000000"),  // rows 3 and 2^24 + 1, Int64 little-endian
                      hex("0000803e 0000403f  0000803f 00000000"),  // last OOF: [0.25, 0.75], [1, 0]
                      hex("0000003f 0000003f"),                     // last test: [0.5, 0.5]
                      hex("0000003f 0000003f  0000003e 0000603f"),  // swa OOF: [0.5, 0.5], [0.125, 0.875]
                      hex("0000803f 00000000")])                    // swa test: [1, 0]
    }

    func testTaskWithPseudoLabelsAndATeacher() throws {
        let task = ClusterTask(manifestHash: "abc123", stage: "distill", round: 1, fold: FoldTask(model: "resnet", seed: 7, fold: 2))
        XCTAssertEqual(task.id, "27104f8b8e3a04df")
        let teacher = [Payload(shape: [1, 2], scalars: [0.25, 0.75]), Payload(shape: [1, 2], scalars: [1, 0])]
        let assignment = TaskAssignment(task: task, attempt: 1,
                                        extras: TaskExtras(pseudoRows: [7], pseudoLabels: [3], temperature: 4, alpha: 0.5), teacher: teacher)
        let header = #"{"attempt":1,"extras":{"alpha":0.5,"pseudoLabels":[3],"pseudoRows":[7],"temperature":4},"fold":2,"#
            + #""manifestHash":"abc123","model":"resnet","round":1,"seed":7,"shapes":[[1,2],[1,2]],"stage":"distill","taskID":"27104f8b8e3a04df"}"#
        assertGolden(.task(assignment), [signature, hex("04"), Array(header.utf8), hex("0000803e 0000403f"), hex("0000803f 00000000")])
        // Frames that do not match the announced shapes are refused.
        var frames = Message.task(assignment).encode()
        frames.removeLast()
        XCTAssertThrowsError(try Message.decode(frames))
    }

    func testFailure() {
        // {"attempt":2,"message":"out of memory","taskID":"90c640d898ab2585"}
        assertGolden(.failure(TaskFailure(taskID: Self.taskID, attempt: 2, message: "out of memory")),
                     [signature, hex("07"), hex("""
                        7b226174 74656d70 74223a32 2c226d65 73736167 65223a22 6f757420 6f66206d
                        656d6f72 79222c22 7461736b 4944223a 22393063 36343064 38393861 62323538
                        35227d
                        """)])
    }

    func testCancel() {
        // {"attempt":1,"taskID":"90c640d898ab2585"}
        assertGolden(.cancel(TaskCancel(taskID: Self.taskID, attempt: 1)),
                     [signature, hex("09"), hex("""
                        7b226174 74656d70 74223a31 2c227461 736b4944 223a2239 30633634 30643839
                        38616232 35383522 7d
                        """)])
    }

    func testShutdown() {
        // {"reason":"all tasks done"}
        assertGolden(.shutdown(Shutdown(reason: "all tasks done")),
                     [signature, hex("0a"), hex("7b227265 61736f6e 223a2261 6c6c2074 61736b73 20646f6e 65227d")])
    }

    func testReject() {
        // {"reason":"protocol version mismatch"}
        assertGolden(.reject(Reject(reason: "protocol version mismatch")),
                     [signature, hex("0b"), hex("""
                        7b227265 61736f6e 223a2270 726f746f 636f6c20 76657273 696f6e20 6d69736d
                        61746368 227d
                        """)])
    }

    func testEveryCommandHasAGoldenTest() {
        // Guards this file: a new command must get its own golden test above.
        XCTAssertEqual(Command.allCases.map(\.rawValue), Array(0x01...0x0b))
    }

    func testNonFiniteLossesTravelAsStrings() throws {
        let progress = TaskProgress(taskID: Self.taskID, attempt: 1, epoch: 1, epochs: 2, trainLoss: .nan, validationLoss: .infinity,
                                    validationScore: -.infinity, learningRate: 0.1, seconds: 2)
        let frames = Message.progress(progress).encode()
        XCTAssertTrue(String(decoding: frames[2], as: UTF8.self).contains(#""trainLoss":"NaN""#))
        guard case .progress(let decoded) = try Message.decode(frames) else { return XCTFail("not progress") }
        XCTAssertTrue(decoded.trainLoss.isNaN)
        XCTAssertEqual(decoded.validationScore, -.infinity)
    }

    func testTaskHeaderWhoseIDDoesNotMatchItsFieldsIsRefused() {
        var frames = Message.task(TaskAssignment(task: Self.task, attempt: 1)).encode()
        frames[2] = Array(String(decoding: frames[2], as: UTF8.self).replacingOccurrences(of: Self.taskID, with: "0000000000000000").utf8)
        XCTAssertThrowsError(try Message.decode(frames)) { error in
            guard case .malformedHeader(.task, let reason) = error as? ProtocolError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("90c640d898ab2585"), reason)
        }
    }
}

/// Bytes from hex digits; spaces and newlines are ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter(\.isHexDigit))
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}
