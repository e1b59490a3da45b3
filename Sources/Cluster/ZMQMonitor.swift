import CZeroMQ
import Foundation

/// A failed security handshake on a monitored socket, as libzmq reports it.
public struct ZMQHandshakeFailure: Sendable, Hashable, CustomStringConvertible {
    /// The peer refused our credentials (for CURVE: the coordinator's ZAP said no).
    public let refusedByPeer: Bool
    /// The ZAP status code (e.g. 400) for a refusal, otherwise libzmq's error number.
    public let code: Int
    public let endpoint: String

    public var description: String {
        refusedByPeer
            ? "the coordinator at \(endpoint) refused this worker's CURVE key (status \(code)); add the worker's public key to the coordinator's allow-list"
            : "the security handshake with \(endpoint) failed (code \(code)); check that both sides use CURVE and the coordinator's public key is right"
    }
}

/// What a monitored socket reports: a failed handshake, or (when asked for) a dropped connection.
public enum ZMQConnectionEvent: Sendable, Hashable {
    case handshakeFailed(ZMQHandshakeFailure)
    case disconnected(endpoint: String)
}

/// Reads handshake failures of one socket; owned by the thread that owns that socket.
public final class ZMQMonitor: @unchecked Sendable {
    private let socket: ZMQSocket

    init(socket: ZMQSocket) { self.socket = socket }

    /// The next handshake failure, or nil when none is reported within `timeout` seconds.
    public func nextFailure(timeout: Double) throws(ZMQError) -> ZMQHandshakeFailure? {
        let deadline = Date().addingTimeInterval(timeout)
        while let event = try nextEvent(timeout: max(0, deadline.timeIntervalSinceNow)) {
            if case .handshakeFailed(let failure) = event { return failure }
        }
        return nil
    }

    /// The next event, or nil when none is reported within `timeout` seconds.
    public func nextEvent(timeout: Double) throws(ZMQError) -> ZMQConnectionEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        while let frames = try socket.receive(timeout: max(0, deadline.timeIntervalSinceNow)) {
            if let event = Self.event(from: frames) { return event }
        }
        return nil
    }

    public func close() { socket.close() }

    /// Parses libzmq's two-frame monitor event: [UInt16 event, UInt32 value] in host order (little-endian
    /// on every platform Foldwise builds for), then the endpoint.
    static func failure(from frames: [[UInt8]]) -> ZMQHandshakeFailure? {
        if case .handshakeFailed(let failure) = event(from: frames) { return failure }
        return nil
    }

    static func event(from frames: [[UInt8]]) -> ZMQConnectionEvent? {
        guard frames.count == 2, frames[0].count == 6 else { return nil }
        let event = UInt32(UInt16(frames[0][0]) | UInt16(frames[0][1]) << 8)
        let value = frames[0][2..<6].reversed().reduce(0) { $0 << 8 | Int($1) }
        let endpoint = String(decoding: frames[1], as: UTF8.self)
        switch Int32(bitPattern: event) {
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            return .handshakeFailed(ZMQHandshakeFailure(refusedByPeer: true, code: value, endpoint: endpoint))
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            return .handshakeFailed(ZMQHandshakeFailure(refusedByPeer: false, code: value, endpoint: endpoint))
        case ZMQ_EVENT_DISCONNECTED:
            return .disconnected(endpoint: endpoint)
        default:
            return nil
        }
    }
}

extension ZMQSocket {
    /// Starts reporting this socket's failed handshakes; a worker calls it before
    /// connecting so it can say why a CURVE coordinator turned it away.
    /// `andDisconnects`: report dropped connections too (a worker counts those before its welcome).
    public func monitorHandshakeFailures(andDisconnects: Bool = false) throws(ZMQError) -> ZMQMonitor {
        let endpoint = "inproc://foldwise-monitor-\(ObjectIdentifier(self).hashValue)"
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | (andDisconnects ? ZMQ_EVENT_DISCONNECTED : 0)
        try startMonitor(endpoint: endpoint, events: events)
        let reader = try ZMQSocket(context: context, kind: .pair)
        try reader.connect(endpoint)
        return ZMQMonitor(socket: reader)
    }
}
