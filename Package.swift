// swift-tools-version:6.0
import PackageDescription

// Numeric code is built for AVX2 + FMA in release builds on x86-64: Swift's
// baseline (SSE2, no FMA) makes the engine's elementwise loops several times slower.
#if arch(x86_64)
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]
#else
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
#endif

let package = Package(
    name: "Foldwise",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "foldwise", targets: ["CLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CXGBoost", providers: [.apt(["libxgboost-dev"])]),
        // oneDNN 2.6 (GNU OpenMP runtime): the convolution path selected by FOLDWISE_ENGINE=dnnl.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "Kernels", dependencies: ["CBLAS", "CDNNL"], swiftSettings: fastMath),
        .target(name: "Engine", dependencies: ["Kernels"], swiftSettings: fastMath),
        // Reading a user-named file only if it is a regular file of bounded size.
        .target(name: "RegularFile"),
        .target(name: "Datasets", dependencies: ["Engine", "CJPEG", "RegularFile"], swiftSettings: fastMath),
        .target(name: "Ensemble", dependencies: ["Engine", "Datasets", "Kernels", "CXGBoost"], swiftSettings: fastMath),
        .target(name: "Manifests", dependencies: [.product(name: "Yams", package: "Yams"), "RegularFile"]),
        .target(name: "Training", dependencies: ["Engine", "Datasets", "Manifests"], swiftSettings: fastMath),
        .target(name: "Storage", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Cluster", dependencies: ["CZeroMQ", "Datasets", "Storage", "Training", "Manifests"]),
        // The experiment pipeline: stages, results, level 2, submission, export, report.
        .target(name: "Pipeline",
                dependencies: ["Cluster", "Datasets", "Engine", "Ensemble", "Manifests", "Storage", "Training"],
                swiftSettings: fastMath),
        .executableTarget(name: "CLI",
                          dependencies: ["Training", "Manifests", "Datasets", "Engine", "Kernels", "Cluster", "Storage", "Ensemble",
                                         "Pipeline", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .target(name: "TestSupport", dependencies: ["Engine", "Datasets"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Datasets", "Kernels", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Engine", "TestSupport"]),
        .testTarget(name: "ManifestsTests", dependencies: ["Manifests"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Datasets", "Engine", "Manifests", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Cluster", "Datasets", "Engine", "Manifests", "Training", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Manifests", "Storage", "Training", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Datasets", "Ensemble", "Kernels", "Manifests", "Storage", "Training", "TestSupport"]),
        .testTarget(name: "EnsembleTests", dependencies: ["Ensemble", "Datasets", "Engine", "Kernels", "TestSupport"], resources: [.copy("Fixtures")]),
    ]
)
