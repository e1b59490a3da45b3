import CZeroMQ
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A key file or bind address the user got wrong: the file and line, what is wrong, and the fix.
public struct SecurityError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String?
    public let line: Int?
    public let problem: String
    public let fix: String

    public init(file: String? = nil, line: Int? = nil, problem: String, fix: String) {
        (self.file, self.line, self.problem, self.fix) = (file, line, problem, fix)
    }

    public var description: String {
        let place = file.map { path in line.map { "\(path) line \($0): " } ?? "\(path): " } ?? ""
        return "\(place)\(problem) — \(fix)"
    }
}

/// A CURVE key pair as 40-character Z85 strings.
public struct KeyPair: Sendable, Hashable, CustomStringConvertible {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        (self.publicKey, self.secretKey) = (publicKey, secretKey)
    }

    /// A fresh pair from libzmq's generator.
    public static func generate() -> KeyPair {
        let keys = ZMQSocket.generateCurveKeyPair()
        return KeyPair(publicKey: keys.public, secretKey: keys.secret)
    }

    /// The public half only, so a logged or interpolated pair never leaks its secret.
    public var description: String { "CURVE key pair with public key \(publicKey)" }
}

/// `NAME.key` (the pair, mode 0600) and `NAME.pub` (the public key, to share) as written by `foldwise keys generate`.
public enum KeyFiles {
    static let comment = "# foldwise CURVE key pair, keep secret"
    static let publicKeyword = "public-key", secretKeyword = "secret-key"

    /// Writes a new pair as `directory/NAME.key` and `directory/NAME.pub`, never replacing an existing file.
    public static func generate(name: String, directory: URL) throws(SecurityError) -> (keyFile: URL, publicFile: URL) {
        try checkName(name)
        let keyFile = directory.appendingPathComponent("\(name).key"), publicFile = directory.appendingPathComponent("\(name).pub")
        for file in [keyFile, publicFile] where FileManager.default.fileExists(atPath: file.path) {
            throw SecurityError(file: file.path, problem: "already exists and is never overwritten",
                                fix: "choose another NAME, another --dir, or delete the old pair first if it is no longer used")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SecurityError(file: directory.path, problem: "cannot create the key folder (\(error.localizedDescription))",
                                fix: "pass --dir with a folder you can write to")
        }
        let pair = KeyPair.generate()
        let secretText = "\(comment)\n\(publicKeyword) \(pair.publicKey)\n\(secretKeyword) \(pair.secretKey)\n"
        try writeNew(secretText, to: keyFile, mode: 0o600)
        do {
            try writeNew("\(publicKeyword) \(pair.publicKey)\n", to: publicFile, mode: 0o644)
        } catch {
            // Half a pair is useless and would block the next attempt with the same name.
            try? FileManager.default.removeItem(at: keyFile)
            throw error
        }
        return (keyFile, publicFile)
    }

    /// The pair in a `.key` file.
    public static func loadKeyPair(_ file: URL) throws(SecurityError) -> KeyPair {
        let fields = try parse(file)
        guard let secret = fields[secretKeyword] else {
            throw SecurityError(file: file.path, problem: "holds no secret-key line, so it is not a key pair",
                                fix: "pass the NAME.key file (not NAME.pub), or run `foldwise keys generate \(baseName(file))`")
        }
        guard let publicKey = fields[publicKeyword] else {
            throw SecurityError(file: file.path, problem: "holds no public-key line",
                                fix: "regenerate the pair with `foldwise keys generate \(baseName(file))`")
        }
        guard derivedPublicKey(secret: secret.value) == publicKey.value else {
            throw SecurityError(file: file.path, line: publicKey.line, problem: "public-key does not belong to the secret-key",
                                fix: "the file was edited or mixed from two pairs; regenerate it with `foldwise keys generate \(baseName(file))`")
        }
        return KeyPair(publicKey: publicKey.value, secretKey: secret.value)
    }

    /// The public key in a `.pub` file (or the public half of a `.key` file).
    public static func loadPublicKey(_ file: URL) throws(SecurityError) -> String {
        let fields = try parse(file)
        if file.pathExtension == "pub", let secret = fields[secretKeyword] {
            throw SecurityError(file: file.path, line: secret.line, problem: "a .pub file holds a secret-key line",
                                fix: ".pub files are shared with other machines: regenerate with `foldwise keys generate \(baseName(file))` and share only the .pub file")
        }
        guard let publicKey = fields[publicKeyword] else {
            throw SecurityError(file: file.path, problem: "holds no public-key line",
                                fix: "pass a NAME.pub file written by `foldwise keys generate NAME`")
        }
        return publicKey.value
    }

    /// Every public key in the given `.pub` files and in the `*.pub` files of the given folders.
    public static func loadAllowList(_ locations: [URL]) throws(SecurityError) -> Set<String> {
        var keys: Set<String> = []
        for location in locations {
            for file in try publicFiles(at: location) { keys.insert(try loadPublicKey(file)) }
        }
        return keys
    }

    private static func publicFiles(at location: URL) throws(SecurityError) -> [URL] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isFolder) else {
            throw SecurityError(file: location.path, problem: "does not exist",
                                fix: "pass a worker's NAME.pub file or a folder of them (each worker runs `foldwise keys generate NAME`)")
        }
        guard isFolder.boolValue else { return [location] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: location.path)) ?? []
        let files = names.filter { $0.hasSuffix(".pub") }.sorted().map { location.appendingPathComponent($0) }
        guard !files.isEmpty else {
            throw SecurityError(file: location.path, problem: "the allow folder holds no .pub files, so no worker could connect",
                                fix: "copy each worker's NAME.pub (from `foldwise keys generate NAME` on the worker) into it")
        }
        return files
    }

    /// The keyword lines of a key file, with their line numbers; comments and blank lines are skipped.
    private static func parse(_ file: URL) throws(SecurityError) -> [String: (value: String, line: Int)] {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: file)
        } catch {
            throw SecurityError(file: file.path, problem: "cannot be read (\(error.localizedDescription))",
                                fix: "check the path and permissions, or run `foldwise keys generate \(baseName(file))`")
        }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw SecurityError(file: file.path, problem: "is not a text file",
                                fix: "pass a key file written by `foldwise keys generate \(baseName(file))`")
        }
        var fields: [String: (value: String, line: Int)] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let field = try parseLine(line, file: file, number: index + 1)
            if let earlier = fields[field.keyword] {
                throw SecurityError(file: file.path, line: index + 1, problem: "a second \(field.keyword) line (the first is line \(earlier.line))",
                                    fix: "keep one \(field.keyword) line, or regenerate with `foldwise keys generate \(baseName(file))`")
            }
            fields[field.keyword] = (field.value, index + 1)
        }
        return fields
    }

    private static func parseLine(_ line: String, file: URL, number: Int) throws(SecurityError) -> (keyword: String, value: String) {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        let regenerate = "regenerate with `foldwise keys generate \(baseName(file))`"
        guard let keyword = words.first, [publicKeyword, secretKeyword].contains(keyword) else {
            throw SecurityError(file: file.path, line: number, problem: "unknown line \"\(line.prefix(20))…\"",
                                fix: "a key file holds only `public-key KEY` and `secret-key KEY` lines; \(regenerate)")
        }
        guard words.count == 2, ZMQSocket.isCurveKey(words[1]) else {
            throw SecurityError(file: file.path, line: number, problem: "\(keyword) is not one 40-character Z85 CURVE key",
                                fix: "the key was cut or edited; copy the file again or \(regenerate)")
        }
        return (keyword, words[1])
    }

    private static func checkName(_ name: String) throws(SecurityError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !name.isEmpty, name.count <= 64, !name.hasPrefix("."), name.allSatisfy(allowed.contains) else {
            throw SecurityError(problem: "key name \"\(name)\" is not a plain file name",
                                fix: "use letters, digits, '-', '_' and '.' (not first), e.g. `foldwise keys generate worker-1`")
        }
    }

    private static func baseName(_ file: URL) -> String {
        let name = file.deletingPathExtension().lastPathComponent
        return name.isEmpty ? "NAME" : name
    }

    /// The public key that belongs to `secret`, as libzmq derives it.
    private static func derivedPublicKey(secret: String) -> String? {
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secret) == 0 else { return nil }
        return string(fromNullTerminated: publicKey)
    }

    /// Writes a temporary file created with `mode`, then hard-links it to `file`, which
    /// fails if `file` exists: the final name appears complete or not at all, and a
    /// secret is never readable by others, not even for a moment.
    private static func writeNew(_ text: String, to file: URL, mode: mode_t) throws(SecurityError) {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString)")
        defer { unlink(temporary.path) }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else { throw writeError(file, errno) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            guard fchmod(descriptor, mode) == 0 else { throw writeError(file, errno) }
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
            try handle.close()
        } catch let error as SecurityError {
            throw error
        } catch {
            throw SecurityError(file: file.path, problem: "cannot be written (\(error.localizedDescription))",
                                fix: "check the disk and the folder's permissions")
        }
        guard link(temporary.path, file.path) == 0 else { throw writeError(file, errno) }
    }

    private static func writeError(_ file: URL, _ code: Int32) -> SecurityError {
        if code == EEXIST {
            return SecurityError(file: file.path, problem: "already exists and is never overwritten",
                                 fix: "choose another NAME or --dir, or delete the old pair first if it is no longer used")
        }
        return SecurityError(file: file.path, problem: "cannot be written (\(String(cString: strerror(code))))",
                             fix: "pass --dir with a folder on a local disk you can write to")
    }
}

/// Which addresses a coordinator may bind without CURVE.
public enum BindPolicy {
    /// Whether `endpoint` is reachable from this machine only: tcp on 127.x.x.x, localhost
    /// or [::1], and ipc or inproc. Wildcards and every other host are reachable from the network.
    public static func isLoopback(endpoint: String) -> Bool {
        let lowered = endpoint.lowercased()
        if lowered.hasPrefix("ipc://") || lowered.hasPrefix("inproc://") { return true }
        guard lowered.hasPrefix("tcp://") else { return false }
        let host = tcpHost(String(lowered.dropFirst("tcp://".count)))
        return host == "localhost" || host == "::1" || isIPv4Loopback(host)
    }

    /// Refuses a bind without keys unless the user said `--insecure`: on loopback
    /// too, where every process of every user on the machine could take tasks.
    public static func check(endpoint: String, hasKeys: Bool, insecure: Bool) throws(SecurityError) {
        guard !hasKeys, !insecure else { return }
        let exposure = isLoopback(endpoint: endpoint) ? "to every process on this machine" : "to the network"
        throw SecurityError(problem: "binding \(endpoint) without CURVE keys opens the coordinator \(exposure)",
                            fix: "generate keys with `foldwise keys generate coordinator` and pass --key/--allow, pass --insecure if every peer is trusted, "
                                 + "or use `foldwise run` on one machine (it makes keys for its own workers)")
    }

    /// The host of `HOST:PORT`, `[V6]:PORT` or `SOURCE;HOST:PORT`.
    private static func tcpHost(_ address: String) -> String {
        let target = address.split(separator: ";").last.map(String.init) ?? address
        if target.hasPrefix("[") { return String(target.dropFirst().prefix { $0 != "]" }) }
        guard let colon = target.lastIndex(of: ":") else { return target }
        return String(target[..<colon])
    }

    private static func isIPv4Loopback(_ host: String) -> Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.first == "127" else { return false }
        return octets.allSatisfy { $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }
}

/// The coordinator's CURVE setup: its own key pair and the workers it admits.
public struct ServerSecurity: Sendable, Hashable {
    public let keyPair: KeyPair
    public let allowedKeys: Set<String>

    public init(keyPair: KeyPair, allowedKeys: Set<String>) {
        (self.keyPair, self.allowedKeys) = (keyPair, allowedKeys)
    }

    /// The coordinator's flags resolved: nil when it runs without CURVE (`--insecure`);
    /// throws when only one of `--key` and `--allow` is given or neither is and `--insecure` is not.
    public static func resolve(endpoint: String, keyFile: URL?, allow: [URL], insecure: Bool) throws(SecurityError) -> ServerSecurity? {
        switch (keyFile, allow.isEmpty) {
        case (nil, true):
            try BindPolicy.check(endpoint: endpoint, hasKeys: false, insecure: insecure)
            return nil
        case (nil, false):
            throw SecurityError(problem: "--allow was given without --key, so the coordinator has no key pair to encrypt with",
                                fix: "pass --key with the coordinator's .key file (`foldwise keys generate coordinator` writes one)")
        case (let keyFile?, true):
            throw SecurityError(file: keyFile.path, problem: "--key was given without --allow, so no worker could connect",
                                fix: "pass --allow with the workers' .pub files or a folder holding them")
        case (let keyFile?, false):
            return ServerSecurity(keyPair: try KeyFiles.loadKeyPair(keyFile), allowedKeys: try KeyFiles.loadAllowList(allow))
        }
    }

    /// Starts the ZAP handler on `context` and makes `socket` a CURVE server; call before
    /// `socket.bind`. One per context: ZAP has a single well-known endpoint per context.
    /// Keep the handler alive as long as the socket and stop it at shutdown.
    public func apply(to socket: ZMQSocket, context: ZMQContext) throws(ZMQError) -> ZAPHandler {
        let handler = try ZAPHandler(context: context, allowedClientKeys: allowedKeys)
        do {
            try socket.setCurveServer(secretKey: keyPair.secretKey)
        } catch {
            handler.stop()
            throw error
        }
        return handler
    }

    /// The same on the socket's own context.
    public func apply(to socket: ZMQSocket) throws(ZMQError) -> ZAPHandler {
        try apply(to: socket, context: socket.context)
    }
}

/// A worker's CURVE setup: its own key pair and the coordinator's public key.
public struct ClientSecurity: Sendable, Hashable {
    public let keyPair: KeyPair
    public let serverPublicKey: String

    public init(keyPair: KeyPair, serverPublicKey: String) {
        (self.keyPair, self.serverPublicKey) = (keyPair, serverPublicKey)
    }

    /// The worker's flags resolved: nil without either; throws when only one of them is given.
    public static func resolve(keyFile: URL?, serverKeyFile: URL?) throws(SecurityError) -> ClientSecurity? {
        switch (keyFile, serverKeyFile) {
        case (nil, nil):
            return nil
        case (let keyFile?, nil):
            throw SecurityError(file: keyFile.path, problem: "--key was given without --server-key",
                                fix: "pass --server-key with the coordinator's .pub file (copy it from the coordinator's key folder)")
        case (nil, let serverKeyFile?):
            throw SecurityError(file: serverKeyFile.path, problem: "--server-key was given without --key",
                                fix: "pass --key with this worker's .key file (`foldwise keys generate worker-NAME` writes one)")
        case (let keyFile?, let serverKeyFile?):
            if (try? KeyFiles.loadKeyPair(serverKeyFile)) != nil {
                throw SecurityError(file: serverKeyFile.path, problem: "--server-key is a key pair: it holds the coordinator's secret key",
                                    fix: "pass the coordinator's .pub file, and keep its .key file on the coordinator's machine only")
            }
            return ClientSecurity(keyPair: try KeyFiles.loadKeyPair(keyFile),
                                  serverPublicKey: try KeyFiles.loadPublicKey(serverKeyFile))
        }
    }

    /// Makes `socket` a CURVE client of the coordinator; call on every new socket before `connect`.
    public func apply(to socket: ZMQSocket) throws(ZMQError) {
        try socket.setCurveClient(serverPublic: serverPublicKey, public: keyPair.publicKey, secret: keyPair.secretKey)
    }
}
