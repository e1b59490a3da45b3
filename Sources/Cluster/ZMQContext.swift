import CZeroMQ
import Foundation

/// A failed ZeroMQ call: what was attempted, on which endpoint, libzmq's reason and a fix.
public struct ZMQError: Error, Sendable, Hashable, CustomStringConvertible {
    public let operation: String
    public let endpoint: String?
    public let code: Int32
    public let reason: String

    public init(operation: String, endpoint: String?, code: Int32) {
        (self.operation, self.endpoint, self.code) = (operation, endpoint, code)
        reason = String(cString: zmq_strerror(code))
    }

    /// The error libzmq just reported on this thread.
    static func last(_ operation: String, endpoint: String?) -> ZMQError {
        ZMQError(operation: operation, endpoint: endpoint, code: zmq_errno())
    }

    public var isTimeout: Bool { code == foldwise_zmq_eagain() }

    public var description: String {
        let place = endpoint.map { " on \($0)" } ?? ""
        return "ZeroMQ \(operation)\(place) failed: \(reason); \(fix)"
    }

    public var fix: String {
        switch code {
        case EADDRINUSE:
            return "another process holds this port: choose another port, or bind tcp://127.0.0.1:* to take any free one"
        case ENODEV, EADDRNOTAVAIL:
            return "the address is not one of this machine's interfaces: bind 0.0.0.0 or an address that `ip addr` lists"
        case EPROTONOSUPPORT:
            return "use the tcp:// transport, e.g. tcp://HOST:PORT"
        case EINVAL where operation.contains("curve"):
            return "CURVE keys are 40-character Z85 strings, as `foldwise keys generate` prints them"
        case EINVAL:
            return "write the endpoint as tcp://HOST:PORT (tcp://HOST:* binds any free port)"
        case foldwise_zmq_eagain():
            return "the peer is not reading (no peer connected or its queue is full): check that it is running and reachable"
        case EHOSTUNREACH:
            return "the peer with this routing id has disconnected; it says hello again when it reconnects"
        case foldwise_zmq_eterm():
            return "the ZeroMQ context is shutting down: stop using this socket"
        case ENOTSOCK:
            return "the socket was already closed: create a new one"
        default:
            return "check the endpoint and that libzmq (Debian: libzmq3-dev) is installed"
        }
    }
}

/// Owns one libzmq context and terminates it on deinit.
///
/// libzmq contexts are thread-safe. Every `ZMQSocket` keeps its context alive, so
/// termination only starts after the last socket is closed and never blocks on one.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("context creation", endpoint: nil) }
        self.handle = handle
    }

    deinit {
        while zmq_ctx_term(handle) == -1, zmq_errno() == foldwise_zmq_eintr() {}
    }
}

/// The text of a C string buffer filled by libzmq.
func string(fromNullTerminated buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
