/// What a hello may say about its worker: a printable id and host of bounded
/// length and a sane thread count. A hello outside these is refused before
/// anything it says reaches a log line, the database or a lease.
public enum HelloBounds {
    public static let maximumIDCharacters = 128
    public static let maximumHostCharacters = 255
    public static let threads = 1...4096
    /// A fingerprint is a hex digest; a manifest hash likewise (with file digests appended).
    public static let maximumDigestCharacters = 4096

    /// Why `hello` is refused, naming the field and the bound; nil when it is within them.
    public static func problem(in hello: Hello) -> String? {
        if let problem = idProblem(hello.workerID) { return problem }
        if let problem = name("host", hello.host, limit: maximumHostCharacters, fix: "check this machine's host name") {
            return problem
        }
        if !threads.contains(hello.threads) {
            return "the hello announces \(hello.threads) threads, outside \(threads.lowerBound)…\(threads.upperBound); pass `foldwise worker --threads` a count in that range"
        }
        let digests = [hello.datasetFingerprint] + (hello.manifestHash.map { [$0] } ?? [])
        if digests.contains(where: { $0.unicodeScalars.count > maximumDigestCharacters || !LogText.isPrintable($0) }) {
            return "the hello's data fingerprint or manifest hash is longer than \(maximumDigestCharacters) characters or not printable; this is not a Foldwise worker"
        }
        return nil
    }

    /// Why `id` cannot name a worker, or nil.
    public static func idProblem(_ id: String) -> String? {
        name("worker id", id, limit: maximumIDCharacters, fix: "pass `foldwise worker --id` a short printable name")
    }

    private static func name(_ field: String, _ value: String, limit: Int, fix: String) -> String? {
        if value.isEmpty { return "the \(field) is empty; \(fix)" }
        let length = value.unicodeScalars.count
        if length > limit { return "the \(field) has \(length) characters, more than \(limit); \(fix)" }
        if !LogText.isPrintable(value) { return "the \(field) \"\(LogText.identifier(value))\" holds control characters; \(fix)" }
        return nil
    }
}
