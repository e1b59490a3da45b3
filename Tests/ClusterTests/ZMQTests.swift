import Foundation
import XCTest
@testable import Cluster

/// The socket layer over loopback: ROUTER/DEALER exchange of real protocol messages,
/// large frames, timeouts, errors, and CURVE with the ZAP allow-list.
final class ZMQTests: XCTestCase {
    let hello = Message.hello(Hello(protocolVersion: 1, workerID: "w1", host: "node-a", threads: 2, datasetFingerprint: "fp01"))
    let welcome = Message.welcome(Welcome(workerID: "w1", heartbeatInterval: 1.0))

    /// A ROUTER on a free loopback port and a DEALER connected to it.
    private func pair(_ context: ZMQContext, configureRouter: (ZMQSocket) throws -> Void = { _ in },
                      configureDealer: (ZMQSocket) throws -> Void = { _ in }) throws -> (ZMQSocket, ZMQSocket) {
        let router = try ZMQSocket(context: context, kind: .router)
        try configureRouter(router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context: context, kind: .dealer)
        try configureDealer(dealer)
        try dealer.connect(endpoint)
        return (router, dealer)
    }

    func testBindReturnsTheChosenPort() throws {
        let router = try ZMQSocket(context: ZMQContext(), kind: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        let port = Int(endpoint.split(separator: ":").last ?? "")
        XCTAssertNotNil(port, endpoint)
        XCTAssertGreaterThan(port ?? 0, 0)
    }

    func testHelloAndWelcomeRoundTrip() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context, configureDealer: { try $0.setIdentity(Array("worker-1".utf8)) })
        try dealer.send(frames: hello.encode())

        let received = try XCTUnwrap(router.receive(timeout: 5))
        XCTAssertEqual(received.first, Array("worker-1".utf8), "a ROUTER prefixes the sender's routing id")
        XCTAssertEqual(try Message.decode(Array(received.dropFirst())), hello)

        try router.send(frames: [received[0]] + welcome.encode())
        let reply = try XCTUnwrap(dealer.receive(timeout: 5))
        XCTAssertEqual(try Message.decode(reply), welcome)
    }

    func testOneMegabytePayloadRoundTripsIntact() throws {
        let context = try ZMQContext()
        let (router, dealer) = try pair(context)
        var random = SystemRandomNumberGenerator()
        // 512 rows of 512 random class probabilities: a 1 MiB OOF frame.
        let oof = (0..<512).flatMap { _ in
            let weights = (0..<512).map { _ in Float.random(in: 0.5...1.5, using: &random) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        }
        let predictions = TaskPredictions(validationRows: Array(0..<512), testRows: 0, classes: 512,
                                          sets: [SetPredictions(name: "last", oof: oof, test: [])])
        let result = Message.result(TaskResult(taskID: "t1", attempt: 1, score: 0.5, predictions: predictions))
        let frames = result.encode()
        XCTAssertEqual(frames[4].count, 1 << 20)
        try dealer.send(frames: frames)

        let received = try XCTUnwrap(router.receive(timeout: 5))
        XCTAssertEqual(Array(received.dropFirst()), frames)
        guard case .result(let decoded) = try Message.decode(Array(received.dropFirst())) else {
            return XCTFail("expected a result message")
        }
        XCTAssertEqual(decoded.predictions.sets.first?.oof, oof)
    }

    func testAFrameOverTheMaximumSizeIsDroppedWithItsConnectionAndOthersGoOn() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context: context, kind: .router)
        try router.setMaximumMessageSize(bytes: 4096)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let big = try ZMQSocket(context: context, kind: .dealer), small = try ZMQSocket(context: context, kind: .dealer)
        for dealer in [big, small] {
            try dealer.setLinger(seconds: 0)
            try dealer.connect(endpoint)
        }
        try big.send(frames: [[UInt8](repeating: 1, count: 4097)])
        XCTAssertNil(try router.receive(timeout: 0.5), "an oversized frame never reaches the coordinator")
        try small.send(frames: [[UInt8](repeating: 2, count: 4096)])
        XCTAssertEqual(try router.receive(timeout: 5)?.last, [UInt8](repeating: 2, count: 4096))
    }

    func testTheCoordinatorsFrameLimitFitsTheLargestResultFrame() {
        let shape = DataShape(trainRows: 5_000, testRows: 20_000, classes: 1_000)
        XCTAssertGreaterThanOrEqual(FrameLimit.coordinator(shape), 20_000 * 1_000 * 4)
        XCTAssertEqual(FrameLimit.coordinator(DataShape(trainRows: 10, testRows: 5, classes: 2)), FrameLimit.headerBytes + 160)
    }

    func testReceiveTimesOutPromptlyWithNil() throws {
        let context = try ZMQContext()
        let (router, _) = try pair(context)
        let start = Date()
        XCTAssertNil(try router.receive(timeout: 0.05))
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.04)
        XCTAssertLessThan(elapsed, 0.5)
        XCTAssertNil(try router.receive(timeout: 0))
    }

    func testBindToAnInvalidEndpointNamesIt() throws {
        let router = try ZMQSocket(context: ZMQContext(), kind: .router)
        for endpoint in ["tcp://127.0.0.1", "carrier-pigeon://roof:1", "tcp://203.0.113.9:5555"] {
            XCTAssertThrowsError(try router.bind(endpoint), endpoint) { error in
                guard let error = error as? ZMQError else { return XCTFail("not a ZMQError: \(error)") }
                XCTAssertEqual(error.endpoint, endpoint)
                XCTAssertTrue(error.description.contains(endpoint), error.description)
                XCTAssertTrue(error.description.contains(error.reason), error.description)
                XCTAssertFalse(error.reason.isEmpty)
            }
        }
    }

    func testPortInUseSuggestsAnotherPort() throws {
        let context = try ZMQContext()
        let first = try ZMQSocket(context: context, kind: .router)
        let endpoint = try first.bind("tcp://127.0.0.1:*")
        let second = try ZMQSocket(context: context, kind: .router)
        XCTAssertThrowsError(try second.bind(endpoint)) { error in
            let description = String(describing: error)
            XCTAssertTrue(description.contains(endpoint) && description.contains("another port"), description)
        }
    }

    func testClosedSocketThrowsInsteadOfCrashing() throws {
        let dealer = try ZMQSocket(context: ZMQContext(), kind: .dealer)
        dealer.close()
        dealer.close()
        XCTAssertThrowsError(try dealer.send(frames: [[1]])) { error in
            XCTAssertTrue(String(describing: error).contains("already closed"), String(describing: error))
        }
    }

    func testCurveKeysAreZ85() {
        let keys = ZMQSocket.generateCurveKeyPair()
        XCTAssertEqual(keys.public.count, 40)
        XCTAssertEqual(keys.secret.count, 40)
        XCTAssertNotEqual(keys.public, keys.secret)
        XCTAssertTrue(ZMQSocket.isCurveKey(keys.public))
        XCTAssertFalse(ZMQSocket.isCurveKey("short"))
        XCTAssertFalse(ZMQSocket.isCurveKey(String(repeating: "\"", count: 40)))
    }

    func testInvalidCurveKeyIsRejectedWithAFix() throws {
        let dealer = try ZMQSocket(context: ZMQContext(), kind: .dealer)
        let server = ZMQSocket.generateCurveKeyPair()
        XCTAssertThrowsError(try dealer.setCurveClient(serverPublic: server.public, public: "not-a-key", secret: server.secret)) { error in
            XCTAssertTrue(String(describing: error).contains("Z85"), String(describing: error))
        }
    }

    /// A CURVE coordinator with a ZAP allow-list, and a worker with the given key pair.
    private func curvePair(_ context: ZMQContext, worker: (public: String, secret: String),
                           allowed: Set<String>) throws -> (ZAPHandler, ZMQSocket, ZMQSocket) {
        let server = ZMQSocket.generateCurveKeyPair()
        let zap = try ZAPHandler(context: context, allowedClientKeys: allowed)
        let (router, dealer) = try pair(context, configureRouter: { try $0.setCurveServer(secretKey: server.secret) },
                                        configureDealer: { try $0.setCurveClient(serverPublic: server.public,
                                                                                 public: worker.public, secret: worker.secret) })
        return (zap, router, dealer)
    }

    func testCurveAllowListedWorkerExchangesMessages() throws {
        let context = try ZMQContext()
        let worker = ZMQSocket.generateCurveKeyPair()
        let (zap, router, dealer) = try curvePair(context, worker: worker, allowed: [worker.public])
        defer { zap.stop() }
        try dealer.send(frames: hello.encode())
        let received = try XCTUnwrap(router.receive(timeout: 5))
        XCTAssertEqual(try Message.decode(Array(received.dropFirst())), hello)
        try router.send(frames: [received[0]] + welcome.encode())
        XCTAssertEqual(try Message.decode(XCTUnwrap(dealer.receive(timeout: 5))), welcome)
        XCTAssertTrue(zap.takeRejections().isEmpty)
    }

    func testMonitorEventParsing() {
        let auth: UInt16 = 0x4000  // ZMQ_EVENT_HANDSHAKE_FAILED_AUTH in zmq.h
        let frames: [[UInt8]] = [[UInt8(auth & 0xff), UInt8(auth >> 8), 0x90, 0x01, 0, 0], Array("tcp://h:1".utf8)]
        XCTAssertEqual(ZMQMonitor.failure(from: frames), ZMQHandshakeFailure(refusedByPeer: true, code: 400, endpoint: "tcp://h:1"))
        XCTAssertNil(ZMQMonitor.failure(from: [[1, 0, 0, 0, 0, 0], []]), "a connect event is not a failure")
        XCTAssertNil(ZMQMonitor.failure(from: [[1, 2, 3]]))
    }

    func testCurveUnknownWorkerNeverReachesTheCoordinator() throws {
        let context = try ZMQContext()
        let allowedWorker = ZMQSocket.generateCurveKeyPair(), stranger = ZMQSocket.generateCurveKeyPair()
        let (zap, router, dealer) = try curvePair(context, worker: stranger, allowed: [allowedWorker.public])
        defer { zap.stop() }
        let monitor = try dealer.monitorHandshakeFailures()
        try dealer.send(frames: hello.encode())
        XCTAssertNil(try router.receive(timeout: 0.5), "a key off the allow-list must not deliver a message")
        let failure = try XCTUnwrap(monitor.nextFailure(timeout: 2), "the worker learns that it was refused")
        XCTAssertTrue(failure.refusedByPeer, failure.description)
        XCTAssertEqual(failure.code, 400)
        XCTAssertTrue(failure.description.contains("allow-list"), failure.description)
        let rejections = zap.takeRejections()
        XCTAssertFalse(rejections.isEmpty)
        XCTAssertEqual(rejections.first?.clientKey, stranger.public)
        XCTAssertEqual(rejections.first?.address, "127.0.0.1")
        XCTAssertTrue(zap.takeRejections().isEmpty, "taking empties the list")
    }

    func testZAPReplyAdmitsOnlyListedCurveKeys() {
        let key = [UInt8](repeating: 7, count: 32)
        guard let z85 = ZAPHandler.z85(key) else { return XCTFail("32 bytes always encode to Z85") }
        XCTAssertEqual(z85.count, 40)
        let request: [[UInt8]] = [Array("1.0".utf8), [9], [], Array("127.0.0.1".utf8), [], Array("CURVE".utf8), key]
        XCTAssertEqual(ZAPHandler.reply(to: request, allowed: [z85])[2], Array("200".utf8))
        XCTAssertEqual(ZAPHandler.reply(to: request, allowed: [z85])[1], [9], "the reply echoes the request id")
        XCTAssertEqual(ZAPHandler.reply(to: request, allowed: [])[2], Array("400".utf8))
        var plain = request
        plain[5] = Array("PLAIN".utf8)
        XCTAssertEqual(ZAPHandler.reply(to: plain, allowed: [z85])[2], Array("400".utf8))
        XCTAssertEqual(ZAPHandler.reply(to: [[1]], allowed: [z85])[2], Array("400".utf8), "a malformed request is still answered")
    }
}
