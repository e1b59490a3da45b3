import Foundation

/// Which library runs the convolutions of the engine's Conv2d, read once from
/// FOLDWISE_ENGINE: `blas` (im2col + OpenBLAS, the reference implementation and
/// the default) or `dnnl` (oneDNN primitives, issue 12).
public enum KernelBackend: String, Sendable, CaseIterable {
    case blas, dnnl

    public static let selected: KernelBackend = parse(setting) ?? .blas

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
