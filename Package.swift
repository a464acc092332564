// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "MedGLIP",
    products: [
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Synthetic", targets: ["Synthetic"]),
        .library(name: "Text", targets: ["Text"]),
        .library(name: "Metrics", targets: ["Metrics"]),
        .library(name: "Grounding", targets: ["Grounding"]),
        .library(name: "ReportGen", targets: ["ReportGen"]),
        .library(name: "VQA", targets: ["VQA"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "Injection", targets: ["Injection"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Experiments", targets: ["Experiments"]),
        .executable(name: "medglip", targets: ["medglip"]),
        .executable(name: "mrg-train", targets: ["mrg-train"]),
        .executable(name: "mrg-eval", targets: ["mrg-eval"]),
        .executable(name: "vqa-train", targets: ["vqa-train"]),
        .executable(name: "vqa-eval", targets: ["vqa-eval"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SQLite through GRDB, linked against the system libsqlite3 (apt: libsqlite3-dev); the run registry uses it.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0")
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng16",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        // oneDNN: Debian's libdnnl-dev ships no pkg-config file; the module map links dnnl.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CAllocator"),
        // Open MPI (apt: libopenmpi-dev): data-parallel training under mpirun.
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CDNNL", "CAllocator"]),
        .target(name: "Distributed", dependencies: ["Tensor", "CMPI"]),
        .target(name: "Imaging", dependencies: ["Tensor", "CPNG", "CTurboJPEG"]),
        .target(name: "Datasets", dependencies: ["Imaging", "Tensor"]),
        .target(name: "Synthetic", dependencies: ["Datasets", "Imaging", "Tensor", "Text"]),
        .target(name: "Text"),
        .target(name: "Metrics", dependencies: ["Text"]),
        .target(name: "Grounding", dependencies: ["Tensor", "Distributed", "Imaging", "Datasets", "Text", "Metrics"]),
        .target(name: "Registry", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Injection", dependencies: ["Tensor", "Imaging", "Datasets", "Grounding"]),
        .target(name: "ReportGen", dependencies: ["Tensor", "Distributed", "Imaging", "Datasets", "Text", "Metrics", "Injection"]),
        .target(name: "VQA", dependencies: ["Tensor", "Distributed", "Imaging", "Datasets", "Metrics", "Injection"]),
        // Ground -> inject for a whole dataset: which grounder serves which image, the detections cache.
        .target(name: "Pipeline", dependencies: ["Datasets", "Grounding", "Imaging", "Injection", "Metrics", "Registry", "Synthetic", "VQA"]),
        .target(
            name: "Experiments",
            dependencies: ["Tensor", "Datasets", "Imaging", "Injection", "Metrics", "Pipeline", "Registry", "ReportGen", "VQA"]),
        .target(name: "Fuzzing", dependencies: ["Datasets", "Imaging", "Tensor"]),
        .target(
            name: "CLI",
            dependencies: [
                "Tensor", "COpenBLAS", "Distributed", "Datasets", "Synthetic", "Imaging", "Metrics", "Text", "Grounding",
                "ReportGen", "VQA", "Registry", "Injection", "Pipeline", "Experiments", "Fuzzing",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        // One binary with every subcommand, and the papers' entry points as their own executables.
        .executableTarget(name: "medglip", dependencies: ["CLI"]),
        .executableTarget(name: "mrg-train", dependencies: ["CLI"]),
        .executableTarget(name: "mrg-eval", dependencies: ["CLI"]),
        .executableTarget(name: "vqa-train", dependencies: ["CLI"]),
        .executableTarget(name: "vqa-eval", dependencies: ["CLI"]),
        // The library alone: ground one image and inject its regions (built by `make test`).
        .executableTarget(name: "ground-and-inject", dependencies: ["Grounding", "Imaging", "Injection"], path: "Examples/GroundAndInject"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], exclude: ["Fixtures"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Tensor"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
        .testTarget(name: "SyntheticTests", dependencies: ["Synthetic", "Datasets", "Imaging", "Tensor", "Metrics"]),
        .testTarget(name: "TextTests", dependencies: ["Text"], exclude: ["Fixtures"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Text"], exclude: ["Fixtures"]),
        .testTarget(name: "GroundingTests", dependencies: ["Grounding"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Registry"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Datasets", "Grounding", "Imaging", "Injection", "Registry"]),
        .testTarget(name: "FuzzingTests", dependencies: ["Fuzzing"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "Registry", "Injection", "Synthetic", "VQA", "Imaging", "Grounding"]),
        .testTarget(name: "InjectionTests", dependencies: ["Injection", "Tensor", "Imaging"]),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .testTarget(name: "ReportGenTests", dependencies: ["ReportGen", "Datasets", "Tensor", "Text", "Metrics"]),
        .testTarget(name: "VQATests", dependencies: ["VQA", "Datasets", "Imaging", "Tensor", "Metrics", "Injection"])
    ]
)
