import Foundation
import Kernels

/// oneDNN's GNU OpenMP threads spin between primitives by default, against the
/// engine's own batch-split threads in the same process and against any other
/// process on the cores; measured here at 2 threads on a shared machine, that
/// made oneDNN's convolutions slower than OpenBLAS's, while OMP_WAIT_POLICY=passive
/// ran them 1.3–1.7× faster (docs/BENCHMARKS.md). libgomp reads the variable only
/// when it loads, before main, so a command that trains or predicts with the
/// engine on oneDNN (`engineCommands`) re-executes itself once with it set when it
/// is unset. An explicit value is kept; other commands (XGBoost's stacker runs on
/// the same OpenMP runtime) are left alone.
enum OpenMPWaitPolicy {
    static let engineCommands: Set<String> = ["train", "worker", "lr-find", "bench-engine", "bench-conv"]

    static func passiveForDNNL() {
        #if os(Linux)
        guard CommandLine.arguments.count > 1, engineCommands.contains(CommandLine.arguments[1]),
              getenv("OMP_WAIT_POLICY") == nil, KernelBackend.selected == .dnnl else { return }
        setenv("OMP_WAIT_POLICY", "passive", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed (no /proc): carry on with OpenMP's default policy.
        #endif
    }

    /// What the OpenMP runtime of this process was started with.
    static var current: String { ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "default" }
}
