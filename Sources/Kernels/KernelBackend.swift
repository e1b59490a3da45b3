import Foundation
import Synchronization

/// Which library runs the convolutions of the engine's Conv2d, read once from
/// FOLDWISE_ENGINE: `blas` (im2col + OpenBLAS, the reference implementation and
/// the default) or `dnnl` (oneDNN primitives, issue 12).
public enum KernelBackend: String, Sendable, CaseIterable {
    case blas, dnnl

    /// FOLDWISE_ENGINE's choice (blas when unset or not a backend: the command line refuses the latter).
    public static let configured: KernelBackend = parse(setting) ?? .blas

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
        return "FOLDWISE_ENGINE=\(value) is not a kernel backend; set it to blas or dnnl, or unset it (blas)"
    }

    /// nil or empty is the default (blas); nil for a value that is not a backend.
    static func parse(_ value: String?) -> KernelBackend? {
        guard let value, !value.isEmpty else { return .blas }
        return KernelBackend(rawValue: value.lowercased())
    }
}
