import CZeroMQ
import Foundation

/// Admits CURVE clients whose public key is on an allow-list (ZeroMQ's ZAP, RFC 27).
///
/// Create it on the coordinator before binding a CURVE server socket in the same
/// context. Its REP socket on `inproc://zeromq.zap.01` belongs to its own thread;
/// `stop()` (or deinit) ends that thread and closes the socket.
public final class ZAPHandler: @unchecked Sendable {
    public static let endpoint = "inproc://zeromq.zap.01"
    private let state = SharedState()
    private let allowedKeys: Set<String>

    /// `allowedClientKeys` are the workers' Z85 public keys.
    public init(context: ZMQContext, allowedClientKeys: Set<String>) throws(ZMQError) {
        for key in allowedClientKeys where !ZMQSocket.isCurveKey(key) {
            throw ZMQError(operation: "curve allow-list key \(key.prefix(40))", endpoint: Self.endpoint, code: EINVAL)
        }
        allowedKeys = allowedClientKeys
        let socket = try ZMQSocket(context: context, kind: .reply)
        try socket.bind(Self.endpoint)
        let (state, allowed) = (state, allowedKeys)
        let thread = Thread { Self.serve(socket: socket, allowed: allowed, state: state) }
        thread.name = "foldwise-zap"
        thread.start()
    }

    deinit { stop() }

    /// The connections refused since the last call, oldest first, for the coordinator's log.
    public func takeRejections() -> [ZAPRejection] { state.takeRejections() }

    /// Ends the responder thread and waits for it (at most one poll interval).
    public func stop() {
        guard state.requestStop() else { return }
        state.finished.wait()
    }

    private static func serve(socket: ZMQSocket, allowed: Set<String>, state: SharedState) {
        defer {
            socket.close()
            state.finished.signal()
        }
        while !state.stopRequested {
            do {
                // A short poll keeps stop() prompt without a second control socket.
                guard let request = try socket.receive(timeout: 0.02) else { continue }
                let answer = reply(to: request, allowed: allowed)
                if answer[2] != Array("200".utf8) { state.record(rejectionOf: request) }
                try socket.send(frames: answer)
            } catch {
                return
            }
        }
    }

    /// The reply frames for one ZAP request: 200 for an allow-listed CURVE key, 400 for anything else.
    static func reply(to request: [[UInt8]], allowed: Set<String>) -> [[UInt8]] {
        let requestID = request.count > 1 ? request[1] : []
        let wellFormed = request.count >= 7 && request[0] == Array("1.0".utf8) && request[6].count == 32
        let clientKey = wellFormed && request[5] == Array("CURVE".utf8) ? z85(request[6]) : nil
        let admitted = clientKey.map(allowed.contains) == true
        let status = admitted ? "200" : "400"
        let text = admitted ? "OK" : "worker key is not on the coordinator's allow-list"
        return [Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8),
                Array((admitted ? clientKey ?? "" : "").utf8), []]
    }

    static func z85(_ key: [UInt8]) -> String? {
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, key, key.count) != nil else { return nil }
        return string(fromNullTerminated: text)
    }
}

/// A client the ZAP handler turned away: its address and, for CURVE, its public key.
public struct ZAPRejection: Sendable, Hashable, CustomStringConvertible {
    public let address: String
    public let clientKey: String?
    public var description: String {
        "refused a worker from \(address) with \(clientKey.map { "CURVE key \($0)" } ?? "no CURVE key"): it is not on the allow-list; add its public key to admit it"
    }
}

/// The stop request, the thread's end and the rejections, shared between `ZAPHandler` and its thread.
private final class SharedState: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var rejections: [ZAPRejection] = []
    let finished = DispatchSemaphore(value: 0)
    // Bounded so a flood of refused connections cannot grow memory without limit.
    private let rejectionLimit = 1000

    func record(rejectionOf request: [[UInt8]]) {
        let address = request.count > 3 ? String(decoding: request[3], as: UTF8.self) : "an unknown address"
        let key = request.count > 6 && request[6].count == 32 ? ZAPHandler.z85(request[6]) : nil
        lock.withLock {
            if rejections.count == rejectionLimit { rejections.removeFirst() }
            rejections.append(ZAPRejection(address: address, clientKey: key))
        }
    }

    func takeRejections() -> [ZAPRejection] {
        lock.withLock {
            defer { rejections = [] }
            return rejections
        }
    }

    var stopRequested: Bool { lock.withLock { stopped } }

    /// True the first time; later calls find the thread already stopping.
    func requestStop() -> Bool {
        lock.withLock {
            defer { stopped = true }
            return !stopped
        }
    }
}
