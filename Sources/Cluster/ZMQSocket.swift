import CZeroMQ
import Foundation

/// One ROUTER or DEALER socket.
///
/// Owned by one thread: libzmq sockets are not thread-safe, so only the thread that
/// uses it (the coordinator's or the worker's I/O loop) may call its methods. It is
/// `@unchecked Sendable` only so it can be handed to that thread once.
public final class ZMQSocket: @unchecked Sendable {
    public struct Kind: Sendable, Hashable {
        let raw: Int32
        public static let router = Kind(raw: ZMQ_ROUTER)
        public static let dealer = Kind(raw: ZMQ_DEALER)
        /// For the ZAP responder only.
        static let reply = Kind(raw: ZMQ_REP)
        /// For reading monitor events only.
        static let pair = Kind(raw: ZMQ_PAIR)
    }

    public let kind: Kind
    public let context: ZMQContext
    private var handle: UnsafeMutableRawPointer?
    private var endpoint: String?

    /// A new socket with linger 0: unsent messages are dropped at close, because the
    /// protocol resends what matters and a lingering socket would stall shutdown.
    public init(context: ZMQContext, kind: Kind) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, kind.raw) else {
            throw ZMQError.last("socket creation", endpoint: nil)
        }
        (self.context, self.kind, self.handle) = (context, kind, handle)
        try setLinger(seconds: 0)
    }

    deinit { close() }

    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
    }

    /// Binds and returns the endpoint actually bound (the chosen port for `tcp://HOST:*`).
    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        let socket = try live("bind", endpoint)
        guard zmq_bind(socket, endpoint) == 0 else { throw ZMQError.last("bind", endpoint: endpoint) }
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
            throw ZMQError.last("bind (reading the bound endpoint)", endpoint: endpoint)
        }
        let bound = string(fromNullTerminated: buffer)
        self.endpoint = bound
        return bound
    }

    /// Connects in the background; libzmq reconnects by itself when the peer goes away.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let socket = try live("connect", endpoint)
        guard zmq_connect(socket, endpoint) == 0 else { throw ZMQError.last("connect", endpoint: endpoint) }
        self.endpoint = endpoint
    }

    // MARK: options (no ZeroMQ heartbeats: the Foldwise protocol has its own)

    public func setLinger(seconds: Double) throws(ZMQError) {
        try setInt(ZMQ_LINGER, Int32((seconds * 1000).rounded()), "linger")
    }

    /// The routing id a ROUTER peer sees for this socket; set before connecting.
    public func setIdentity(_ identity: [UInt8]) throws(ZMQError) {
        try setBytes(ZMQ_ROUTING_ID, identity, "identity")
    }

    public func setHighWaterMarks(receive: Int, send: Int) throws(ZMQError) {
        try setInt(ZMQ_RCVHWM, Int32(clamping: receive), "receive high-water mark")
        try setInt(ZMQ_SNDHWM, Int32(clamping: send), "send high-water mark")
    }

    /// How long `send` may block (a DEALER without a peer, or a full queue); nil waits forever.
    public func setSendTimeout(seconds: Double?) throws(ZMQError) {
        try setInt(ZMQ_SNDTIMEO, seconds.map { Int32(($0 * 1000).rounded()) } ?? -1, "send timeout")
    }

    /// A peer that sends a frame larger than `bytes` is disconnected before the
    /// frame is buffered (libzmq reads the size from the frame's header first).
    public func setMaximumMessageSize(bytes: Int) throws(ZMQError) {
        let socket = try live("setting maximum message size", endpoint)
        var value = Int64(bytes)
        let result = zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size)
        guard result == 0 else { throw ZMQError.last("setting maximum message size", endpoint: endpoint) }
    }

    /// A ROUTER then fails a send to an unknown routing id with EHOSTUNREACH instead of dropping it.
    public func setRouterMandatory(_ mandatory: Bool) throws(ZMQError) {
        try setInt(ZMQ_ROUTER_MANDATORY, mandatory ? 1 : 0, "router mandatory")
    }

    // MARK: CURVE

    /// A new CURVE key pair as 40-character Z85 strings.
    public static func generateCurveKeyPair() -> (public: String, secret: String) {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        let result = zmq_curve_keypair(&publicKey, &secretKey)
        precondition(result == 0, "libzmq was built without CURVE; install Debian's libzmq3-dev (zmq_has(\"curve\") must be 1)")
        return (string(fromNullTerminated: publicKey), string(fromNullTerminated: secretKey))
    }

    /// Whether `key` is a 40-character Z85 CURVE key.
    public static func isCurveKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var decoded = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&decoded, key) != nil
    }

    /// The coordinator's side: encrypts every connection; clients are checked by a `ZAPHandler`.
    public func setCurveServer(secretKey: String) throws(ZMQError) {
        try setInt(ZMQ_CURVE_SERVER, 1, "curve server")
        try setCurveKey(ZMQ_CURVE_SECRETKEY, secretKey, "curve server secret key")
    }

    /// A worker's side: the coordinator's public key and the worker's own key pair; set before connecting.
    public func setCurveClient(serverPublic: String, public publicKey: String, secret secretKey: String) throws(ZMQError) {
        try setCurveKey(ZMQ_CURVE_SERVERKEY, serverPublic, "curve server public key")
        try setCurveKey(ZMQ_CURVE_PUBLICKEY, publicKey, "curve public key")
        try setCurveKey(ZMQ_CURVE_SECRETKEY, secretKey, "curve secret key")
    }

    // MARK: messages

    /// Sends one multipart message; a ROUTER's first frame is the peer's routing id.
    public func send(frames: [[UInt8]]) throws(ZMQError) {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        let socket = try live("send", endpoint)
        for (index, frame) in frames.enumerated() {
            let flags = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            var sent: Int32
            repeat {
                sent = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
            } while sent < 0 && zmq_errno() == foldwise_zmq_eintr()
            guard sent >= 0 else { throw ZMQError.last("send", endpoint: endpoint) }
        }
    }

    /// The next multipart message, or nil when none arrives within `timeout` seconds
    /// (`.infinity` waits forever). A ROUTER's first frame is the sender's routing id.
    public func receive(timeout: Double) throws(ZMQError) -> [[UInt8]]? {
        let socket = try live("receive", endpoint)
        let deadline = Date().addingTimeInterval(timeout.isFinite ? max(timeout, 0) : 0)
        while true {
            let milliseconds = timeout.isFinite ? max(0, Int((deadline.timeIntervalSinceNow * 1000).rounded(.up))) : -1
            let ready = foldwise_zmq_poll_in(socket, milliseconds)
            if ready == 1 { return try receiveFrames(socket) }
            if ready == 0 { return nil }
            guard zmq_errno() == foldwise_zmq_eintr() else { throw ZMQError.last("receive", endpoint: endpoint) }
        }
    }

    // Parts of one message arrive together, so after poll says ready none of them blocks.
    private func receiveFrames(_ socket: UnsafeMutableRawPointer) throws(ZMQError) -> [[UInt8]] {
        // libzmq keeps pointers into a zmq_msg_t, so it needs one stable heap address.
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { message.deallocate() }
        var frames: [[UInt8]] = []
        var more = true
        while more {
            zmq_msg_init(message)
            defer { zmq_msg_close(message) }
            guard zmq_msg_recv(message, socket, ZMQ_DONTWAIT) >= 0 else {
                throw ZMQError.last("receive", endpoint: endpoint)
            }
            frames.append(Array(UnsafeRawBufferPointer(start: zmq_msg_data(message), count: zmq_msg_size(message))))
            more = zmq_msg_more(message) != 0
        }
        return frames
    }

    // MARK: helpers

    func startMonitor(endpoint: String, events: Int32) throws(ZMQError) {
        let socket = try live("monitor", endpoint)
        guard zmq_socket_monitor(socket, endpoint, events) == 0 else { throw ZMQError.last("monitor", endpoint: endpoint) }
    }

    private func live(_ operation: String, _ endpoint: String?) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(operation: operation, endpoint: endpoint, code: ENOTSOCK) }
        return handle
    }

    private func setInt(_ option: Int32, _ value: Int32, _ name: String) throws(ZMQError) {
        let socket = try live("setting \(name)", endpoint)
        guard foldwise_zmq_set_int(socket, option, value) == 0 else {
            throw ZMQError.last("setting \(name)", endpoint: endpoint)
        }
    }

    private func setBytes(_ option: Int32, _ bytes: [UInt8], _ name: String) throws(ZMQError) {
        let socket = try live("setting \(name)", endpoint)
        let result = bytes.withUnsafeBytes { zmq_setsockopt(socket, option, $0.baseAddress, $0.count) }
        guard result == 0 else { throw ZMQError.last("setting \(name)", endpoint: endpoint) }
    }

    private func setCurveKey(_ option: Int32, _ key: String, _ name: String) throws(ZMQError) {
        guard Self.isCurveKey(key) else { throw ZMQError(operation: name, endpoint: endpoint, code: EINVAL) }
        try setBytes(option, Array(key.utf8), name)
    }
}
