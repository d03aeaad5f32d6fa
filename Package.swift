// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Open MPI is optional: repprobe runs under `mpirun` when Open MPI's development files
/// (Debian's libopenmpi-dev, which scripts/install-system-packages.sh installs) are present
/// at build time, found by their pkg-config file `ompi-c.pc`. REPPROBE_MPI=0 builds without
/// it, REPPROBE_MPI=1 insists on it.
let withMPI: Bool = {
    let environment = ProcessInfo.processInfo.environment
    if let setting = environment["REPPROBE_MPI"] { return setting != "0" }
    var folders = (environment["PKG_CONFIG_PATH"] ?? "").split(separator: ":").map(String.init)
    folders += ["/usr/lib/pkgconfig", "/usr/local/lib/pkgconfig", "/usr/share/pkgconfig"]
    let multiarch = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
    folders += multiarch.filter { $0.contains("-linux-") }.map { "/usr/lib/\($0)/pkgconfig" }
    return folders.contains { FileManager.default.fileExists(atPath: "\($0)/ompi-c.pc") }
}()

let package = Package(
    name: "repprobe",
    products: [
        .library(name: "RepProbeKit", targets: ["RepProbeKit"]),
        .executable(name: "repprobe", targets: ["repprobe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: - Public API

        /// Umbrella that re-exports every library module.
        .target(name: "RepProbeKit", dependencies: ["LinearAlgebra", "Formats", "Activations", "Analysis", "Networks", "Probe", "Results", "Report", "Comparison", "Training", "Notebooks", "Tokenization", "Cluster"]),
        /// Representation-similarity measures, PCA, linear probes and resampling statistics.
        .target(name: "Analysis", dependencies: ["LinearAlgebra", "CVectorMath"]),
        /// NumPy `.npy`/`.npz` and `.safetensors` readers and writers; a PyTorch checkpoint reader.
        .target(name: "Formats", dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation"), "CImageCodecs"]),
        /// Activation sets (one samples × features matrix per layer) loaded from any supported
        /// file, and the reductions that turn any activation into such a matrix.
        .target(name: "Activations", dependencies: ["Formats", "LinearAlgebra", "Analysis"]),
        /// Hugging Face tokenizers run natively: WordPiece and byte-level BPE from a model folder.
        .target(name: "Tokenization", dependencies: ["Formats"]),
        /// Tensors, the graph IR, CPU kernels for ONNX operators, and model loaders.
        .target(name: "Networks", dependencies: ["LinearAlgebra", "Formats", "ONNXProto", "CAllocator", "Tokenization", "CVectorMath"]),
        /// Training small networks in Swift: reverse-mode differentiation on a tape, layers,
        /// optimisers, and a monitor that probes representations while they form.
        .target(name: "Training", dependencies: ["Networks", "LinearAlgebra", "Analysis", "Probe", "Results", "Report"]),
        /// Hooks on any layer of a network, activation capture with reductions, stimuli.
        .target(name: "Probe", dependencies: ["Networks", "Analysis", "Formats", "Activations", "LinearAlgebra",
                                             .product(name: "Yams", package: "Yams")]),
        /// Every number of a comparison, a receptive-field analysis or a training run, as the
        /// versioned `results.json`/`log.json` holds it.
        .target(name: "Results", dependencies: ["Analysis", "Formats"]),
        /// Markdown notebooks whose shell blocks run and whose outputs are written or checked.
        .target(name: "Notebooks", dependencies: ["Formats"]),
        /// Rendering, from the results types only: Markdown reports and their SVG figures.
        .target(name: "Report", dependencies: ["Analysis", "Results"]),
        /// The comparison pipeline: models and inputs through capture and every analysis to
        /// results (receptive-field analysis is one of its stages); no Markdown.
        .target(name: "Comparison", dependencies: ["Probe", "Networks", "Analysis", "Activations", "Formats", "LinearAlgebra", "Results"]),
        /// Runs under `mpirun`: the processes of one launch, and the comparison's statistics
        /// gathered from them (without Open MPI at build time, it says so when launched).
        .target(name: "Cluster", dependencies: ["Comparison"] + (withMPI ? ["CMPI"] : [])),
        .executableTarget(
            name: "repprobe",
            dependencies: ["RepProbeKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: - Implementation details

        /// LAPACKE + CBLAS from Debian's liblapacke-dev and libopenblas-dev.
        .systemLibrary(
            name: "CLAPACK",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]
        ),
        /// libpng and libjpeg-turbo (TurboJPEG) from Debian's libpng-dev and libturbojpeg0-dev,
        /// the decoders of image-folder probe sets.
        .systemLibrary(name: "CImageCodecs", providers: [.apt(["libpng-dev", "libturbojpeg0-dev"])]),
        /// glibc's `mallopt`, for the runtime's allocator settings.
        .systemLibrary(name: "CAllocator"),
        /// `exp`, `erf`, GELU, sigmoid and softmax's exponentials on sixteen float32 lanes,
        /// compiled for AVX-512, AVX2 and baseline x86-64, the best chosen at load time;
        /// ReLU's gradient and the lines of im2col and col2im under masks; and a float32
        /// matrix product for AVX-512 CPUs, for skinny products and batches of small ones;
        /// float64 products of a tall matrix with a few columns (AVX-512 or AVX2).
        .target(name: "CVectorMath"),
        /// Swift types for the ONNX schema, generated once from onnx.proto by
        /// scripts/generate-onnx-swift.sh and committed.
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        /// Column-major `Matrix` and the only Swift code that calls BLAS/LAPACK.
        .target(name: "LinearAlgebra", dependencies: ["CLAPACK", "CVectorMath"]),
        .executableTarget(
            name: "repprobe-bench",
            dependencies: ["RepProbeKit"],
            path: "Benchmarks/Swift"
        ),

        // MARK: - Tests

        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "CVectorMath"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Activations"]),
        .testTarget(name: "ActivationsTests", dependencies: ["Activations", "Formats", "Analysis", "LinearAlgebra"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Formats", "Activations"]),
        .testTarget(name: "CLITests", dependencies: ["repprobe"]),
        .testTarget(name: "ONNXProtoTests", dependencies: ["ONNXProto"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "ONNXProto", "Formats"]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "Networks", "Formats", "Analysis", "Activations"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Results"]),
        .testTarget(name: "ExamplesTests", dependencies: ["RepProbeKit"]),
        .testTarget(name: "ComparisonTests", dependencies: ["Comparison", "Results", "Report", "Probe", "Activations", "Analysis", "LinearAlgebra"]),
        .testTarget(name: "NotebooksTests", dependencies: ["Notebooks"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Networks", "Formats", "Analysis"]),
    ]
)

if withMPI {
    /// Open MPI from Debian's libopenmpi-dev.
    package.targets.append(.systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]))
}

/// Fuzz targets (`scripts/fuzz.sh`), in the package only when REPPROBE_FUZZ=1, since they
/// are built with libFuzzer, which provides their `main`.
if ProcessInfo.processInfo.environment["REPPROBE_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "repprobe-fuzz", dependencies: ["RepProbeKit"], path: "Fuzz",
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "repprobe-fuzz", targets: ["repprobe-fuzz"]))
}
