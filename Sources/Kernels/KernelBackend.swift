import Foundation

/// Which library runs the convolutions of the engine's Conv2d, read once from
/// FOLDWISE_ENGINE: `blas` (im2col + OpenBLAS, the reference implementation and
/// the default) or `dnnl` (oneDNN primitives, issue 12).
public enum KernelBackend: String, Sendable, CaseIterable {
    case blas, dnnl

    public static let selected: KernelBackend = parse(ProcessInfo.processInfo.environment["FOLDWISE_ENGINE"])

    /// nil or empty is the default; anything else that is not a backend stops the process,
    /// since silently benchmarking or training on the other path would mislead.
    static func parse(_ value: String?) -> KernelBackend {
        guard let value, !value.isEmpty else { return .blas }
        guard let backend = KernelBackend(rawValue: value.lowercased()) else {
            fatalError("FOLDWISE_ENGINE=\(value) is not a kernel backend; fix: set it to blas or dnnl, or unset it (blas)")
        }
        return backend
    }
}
