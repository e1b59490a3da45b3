import Dispatch
import Foundation

/// Catches SIGINT and SIGTERM (instead of dying at once) so a command can hand
/// work back and close its database cleanly; `received` names the first one.
final class SignalWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int32?
    private var sources: [any DispatchSourceSignal] = []

    init(_ signals: [Int32] = [SIGINT, SIGTERM], onSignal: @escaping @Sendable (Int32) -> Void = { _ in }) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                self?.lock.withLock { if self?.first == nil { self?.first = number } }
                onSignal(number)
            }
            source.resume()
            sources.append(source)
        }
    }

    var received: Int32? { lock.withLock { first } }

    static func name(_ number: Int32) -> String { number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)" }
}
