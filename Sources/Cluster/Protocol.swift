import Foundation

/// The Foldwise wire protocol, version 3 (in the spirit of ZeroMQ's Paranoid Pirate;
/// version 2 lets a welcome carry files, version 3 types the result message).
///
/// A message is the frames [signature, command, header, payload…]:
/// - signature: "FWP" and the protocol version byte;
/// - command: one byte (`Command`);
/// - header: UTF-8 JSON with sorted keys, so equal messages are equal bytes;
/// - payloads: a result's validation rows (little-endian Int64) and its named
///   prediction sets (little-endian Float32), laid out by `ResultLayout`; a
///   distilled task's teacher, Float32 arrays whose shapes the header gives;
///   a welcome's files (`ShippedFile`), raw bytes.
/// Either side that hears nothing for `liveness` heartbeat intervals treats the
/// other as gone; a worker then reconnects after 0.5 s, doubling up to 8 s. A
/// hello waits that long for its welcome, then twice as long after each
/// unanswered hello, up to 32 times (a welcome with a large checkpoint on a
/// slow link takes longer to arrive whole). docs/PROTOCOL.md describes it on one screen.
public enum WireProtocol {
    public static let version: UInt8 = 3
    public static let signature: [UInt8] = [0x46, 0x57, 0x50, version]
    public static let heartbeatInterval = 1.0
    public static let liveness = 3
    public static let reconnectInitialDelay = 0.5
    public static let reconnectMaximumDelay = 8.0
    public static let maximumWelcomePatience = 32.0
}

public enum Command: UInt8, Sendable, CaseIterable {
    case hello = 0x01, welcome, ready, task, progress, result, failure, heartbeat, cancel, shutdown, reject
}

public enum ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooFewFrames(Int)
    case wrongSignature([UInt8])
    case unknownVersion(received: UInt8, supported: UInt8)
    case unknownCommand([UInt8])
    case malformedHeader(command: Command, reason: String)
    case payloadMismatch(command: Command, reason: String)
    /// A result whose header parsed but whose contents are refused: the attempt fails.
    case invalidResult(taskID: String, attempt: Int, reason: String)

    public var description: String {
        switch self {
        case .tooFewFrames(let count):
            return "message has \(count) frames, needs at least 3 (signature, command, header); the peer does not speak the Foldwise protocol"
        case .wrongSignature(let bytes):
            return "first frame is \(bytes.prefix(8).map { String(format: "%02x", $0) }.joined()), not the Foldwise signature \"FWP\" + version; the peer is not a Foldwise process — check the address"
        case .unknownVersion(let received, let supported):
            return "peer speaks protocol version \(received), this process speaks version \(supported); run the same Foldwise release on both machines"
        case .unknownCommand(let bytes):
            return "command frame \(bytes.map { String(format: "%02x", $0) }.joined()) is not one known command byte; the peer runs a different Foldwise release"
        case .malformedHeader(let command, let reason):
            return "\(command) header is not valid: \(reason); the peer runs a different Foldwise release or the message was damaged"
        case .payloadMismatch(let command, let reason):
            return "\(command) payload frames do not match the header: \(reason); the message was damaged or built by a different release"
        case .invalidResult(let taskID, let attempt, let reason):
            return "result of task \(taskID) attempt \(attempt) refused: \(reason)"
        }
    }
}

extension Message {
    public var command: Command {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .ready: .ready
        case .task: .task
        case .progress: .progress
        case .result: .result
        case .failure: .failure
        case .heartbeat: .heartbeat
        case .cancel: .cancel
        case .shutdown: .shutdown
        case .reject: .reject
        }
    }

    public func encode() -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        let header: [UInt8]
        switch self {
        case .hello(let body): header = Self.json(body)
        case .welcome(let body):
            header = Self.json(body)
            payloads = body.manifest?.contents ?? []
        case .ready, .heartbeat: header = Self.json(EmptyHeader())
        case .task(let body):
            header = Self.json(body)
            payloads = body.teacher.map { Self.littleEndianBytes($0.scalars) }
        case .progress(let body): header = Self.json(body)
        case .result(let body):
            let layout = ResultLayout.encode(body)
            (header, payloads) = (Self.json(layout.header), layout.payloads)
        case .failure(let body): header = Self.json(body)
        case .cancel(let body): header = Self.json(body)
        case .shutdown(let body): header = Self.json(body)
        case .reject(let body): header = Self.json(body)
        }
        return [WireProtocol.signature, [command.rawValue], header] + payloads
    }

    public static func decode(_ frames: [[UInt8]]) throws(ProtocolError) -> Message {
        guard let signature = frames.first else { throw .tooFewFrames(0) }
        guard signature.count == 4, Array(signature.prefix(3)) == Array(WireProtocol.signature.prefix(3)) else {
            throw .wrongSignature(signature)
        }
        guard signature[3] == WireProtocol.version else {
            throw .unknownVersion(received: signature[3], supported: WireProtocol.version)
        }
        guard frames.count >= 3 else { throw .tooFewFrames(frames.count) }
        guard frames[1].count == 1, let command = Command(rawValue: frames[1][0]) else { throw .unknownCommand(frames[1]) }
        let header = frames[2], payloads = Array(frames.dropFirst(3))
        if command != .result, command != .task, command != .welcome, !payloads.isEmpty {
            throw .payloadMismatch(command: command, reason: "\(command) carries no payload frames, got \(payloads.count)")
        }
        switch command {
        case .hello: return .hello(try parse(header, command))
        case .welcome:
            var welcome: Welcome = try parse(header, command)
            let contents = try shippedContents(welcome.manifest?.files ?? [], frames: payloads)
            welcome.manifest?.contents = contents
            return .welcome(welcome)
        case .ready: _ = try parse(header, command) as EmptyHeader; return .ready
        case .task:
            var assignment: TaskAssignment = try parse(header, command)
            assignment.teacher = try arrays(shapes: assignment.announcedShapes, frames: payloads, command: command)
            assignment.announcedShapes = []
            return .task(assignment)
        case .progress: return .progress(try parse(header, command))
        case .result: return .result(try ResultLayout.decode(try parse(header, command), payloads: payloads))
        case .failure: return .failure(try parse(header, command))
        case .heartbeat: _ = try parse(header, command) as EmptyHeader; return .heartbeat
        case .cancel: return .cancel(try parse(header, command))
        case .shutdown: return .shutdown(try parse(header, command))
        case .reject: return .reject(try parse(header, command))
        }
    }

    /// The welcome's payload frames as the files its header announced, each of
    /// the announced size and digest.
    private static func shippedContents(_ files: [ShippedFile], frames: [[UInt8]]) throws(ProtocolError) -> [[UInt8]] {
        guard files.count == frames.count else {
            throw .payloadMismatch(command: .welcome, reason: "header names \(files.count) files, got \(frames.count) payload frames")
        }
        for (file, frame) in zip(files, frames) {
            guard frame.count == file.bytes, ShippedFile.digest(frame) == file.digest else {
                throw .payloadMismatch(command: .welcome,
                    reason: "file \(file.path) arrived with \(frame.count) bytes and digest \(ShippedFile.digest(frame)), the header says \(file.bytes) bytes and \(file.digest)")
            }
        }
        return frames
    }

    /// The payload frames as the arrays whose shapes the header announced.
    private static func arrays(shapes: [[Int]], frames: [[UInt8]], command: Command) throws(ProtocolError) -> [Payload] {
        guard shapes.count == frames.count else {
            throw .payloadMismatch(command: command, reason: "header names \(shapes.count) shapes, got \(frames.count) payload frames")
        }
        var payloads: [Payload] = []
        for (index, (shape, frame)) in zip(shapes, frames).enumerated() {
            var count = 1, overflow = false
            for dimension in shape where !overflow {
                (count, overflow) = count.multipliedReportingOverflow(by: dimension)
                overflow = overflow || dimension < 0
            }
            guard !overflow, frame.count % 4 == 0, frame.count / 4 == count else {
                throw .payloadMismatch(command: command,
                    reason: "payload \(index) has \(frame.count) bytes, shape \(shape) needs \(overflow ? "an impossible number of" : String(count * 4))")
            }
            payloads.append(Payload(shape: shape, scalars: floats(littleEndian: frame)))
        }
        return payloads
    }

    /// `{}`: ready and heartbeat carry no fields, but still a JSON object.
    private struct EmptyHeader: Codable {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        init() {}
        init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: AnyKey.self) }
        func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: AnyKey.self) }
    }

    private static func json<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { return Array(try encoder.encode(value)) } catch {
            preconditionFailure("header \(T.self) cannot be encoded: \(error)")
        }
    }

    private static func parse<T: Decodable>(_ bytes: [UInt8], _ command: Command) throws(ProtocolError) -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { return try decoder.decode(T.self, from: Data(bytes)) } catch {
            throw .malformedHeader(command: command, reason: String(describing: error))
        }
    }

    static func littleEndianBytes(_ scalars: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count * 4)
        for scalar in scalars {
            let bits = scalar.bitPattern
            bytes += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                      UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        return bytes
    }

    static func floats(littleEndian bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { start in
            Float(bitPattern: UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8
                  | UInt32(bytes[start + 2]) << 16 | UInt32(bytes[start + 3]) << 24)
        }
    }
}
