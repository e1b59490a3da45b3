import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pipe `foldwise run` hands each local worker as standard input. Its first
/// line carries the run's ephemeral CURVE keys (never on a command line, where
/// `ps` would show them to every user); its end tells the worker that the run
/// is gone, however it died (kill -9 included), so no worker outlives its run.
public enum ParentLink {
    static let keyword = "foldwise-curve"
    /// A longer first line is not a link: reading stops there.
    static let maximumLineBytes = 256

    /// The first line for a worker that connects with `security`.
    public static func line(for security: ClientSecurity) -> String {
        "\(keyword) \(security.serverPublicKey) \(security.keyPair.publicKey) \(security.keyPair.secretKey)\n"
    }

    /// Reads the first line from `descriptor` (blocking) and returns its keys.
    public static func readSecurity(from descriptor: Int32 = STDIN_FILENO) throws(SecurityError) -> ClientSecurity {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count <= maximumLineBytes {
            let count = read(descriptor, &byte, 1)
            if count < 0, errno == EINTR { continue }
            guard count == 1 else { break }
            if byte == UInt8(ascii: "\n") { return try parse(String(decoding: line, as: UTF8.self)) }
            line.append(byte)
        }
        throw SecurityError(problem: "--keys-on-stdin: standard input ended or held no key line",
                            fix: "this flag is for the workers `foldwise run` starts; to join a coordinator yourself, pass --key and --server-key")
    }

    static func parse(_ line: String) throws(SecurityError) -> ClientSecurity {
        let words = line.split(separator: " ").map(String.init)
        guard words.count == 4, words[0] == keyword, words.dropFirst().allSatisfy(ZMQSocket.isCurveKey) else {
            throw SecurityError(problem: "--keys-on-stdin: the first line of standard input is not `\(keyword) SERVER PUBLIC SECRET` with three CURVE keys",
                                fix: "this flag is for the workers `foldwise run` starts; to join a coordinator yourself, pass --key and --server-key")
        }
        return ClientSecurity(keyPair: KeyPair(publicKey: words[2], secretKey: words[3]), serverPublicKey: words[1])
    }

    /// Calls `onClose` on its own thread once `descriptor` reaches its end (the
    /// parent closed its side or died). Anything else read is ignored.
    public static func watch(_ descriptor: Int32 = STDIN_FILENO, onClose: @escaping @Sendable () -> Void) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                if count < 0, errno == EAGAIN {
                    // A non-blocking descriptor: wait for it to become readable, not for an end.
                    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                    _ = poll(&entry, 1, -1)
                    continue
                }
                if count <= 0 { break }
            }
            onClose()
        }
        thread.name = "foldwise-parent-link"
        thread.start()
    }
}
