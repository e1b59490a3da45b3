import ArgumentParser
import Dispatch

/// The options bench-engine and bench-conv share: the input shape, the threads,
/// and how many untimed and timed steps each phase runs.
struct BenchOptions: ParsableArguments {
    @Option var threads = 2
    @Option var size = 28
    @Option var channels = 1
    @Option var batch = 128
    @Option var steps = 60
    @Option var warmup = 10

    func validate() throws {
        for (name, value) in [("threads", threads), ("size", size), ("channels", channels), ("batch", batch), ("steps", steps)]
        where value < 1 {
            throw ValidationError("--\(name) must be at least 1, got \(value)")
        }
        if warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
    }

    /// Seconds for `steps` calls of `body` after `warmup` untimed ones.
    func timeSteps(_ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Items per second over the timed steps, to one decimal.
    func rate(_ perStep: Double, seconds: Double) -> Double {
        (perStep * Double(steps) / seconds * 10).rounded() / 10
    }
}
