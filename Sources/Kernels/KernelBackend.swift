import Foundation
import Synchronization

/// Which library runs the engine's convolutions and batch norms, read once from
/// FOLDWISE_ENGINE: `dnnl` (oneDNN primitives with activations kept in its blocked
/// layouts; the default where oneDNN has blocked kernels for this CPU) or `blas`
/// (im2col + OpenBLAS and the engine's own kernels: the reference implementation,
/// and the default on a CPU oneDNN would run only through its slow reference kernels).
public enum KernelBackend: String, Sendable, CaseIterable {
    case blas, dnnl

    /// FOLDWISE_ENGINE's choice, or the CPU's default when unset (blas when not a backend: the
    /// command line refuses that).
    public static let configured: KernelBackend = parse(setting) ?? .blas

    /// dnnl where oneDNN has blocked kernels for this CPU (AVX2 and later), else blas.
    public static var cpuDefault: KernelBackend { ActivationLayout.native != nil ? .dnnl : .blas }

    private static let choice = Atomic<Int>(allCases.firstIndex(of: configured)!)

    /// The backend in use: FOLDWISE_ENGINE's, until `use` picks another.
    public static var selected: KernelBackend { allCases[choice.load(ordering: .relaxed)] }

    /// Switches the backend for what runs from now on (tests run both paths in one process).
    /// A network's layers pick their kernels at each call; a blocked activation from one
    /// backend is reordered when the other meets it.
    public static func use(_ backend: KernelBackend) {
        choice.store(allCases.firstIndex(of: backend)!, ordering: .relaxed)
    }

    private static var setting: String? { ProcessInfo.processInfo.environment["FOLDWISE_ENGINE"] }

    /// Why FOLDWISE_ENGINE cannot be used, or nil: the command line refuses to
    /// start on it (exit 2), since training on the other path would mislead.
    public static var settingProblem: String? {
        guard let value = setting, parse(value) == nil else { return nil }
        return "FOLDWISE_ENGINE=\(value) is not a kernel backend; set it to blas or dnnl, or unset it (\(cpuDefault.rawValue) on this CPU)"
    }

    /// nil or empty is the CPU's default; nil for a value that is not a backend.
    static func parse(_ value: String?) -> KernelBackend? {
        guard let value, !value.isEmpty else { return cpuDefault }
        return KernelBackend(rawValue: value.lowercased())
    }
}
