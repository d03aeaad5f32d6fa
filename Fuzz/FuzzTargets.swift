import Foundation
import RepProbeKit

/// libFuzzer targets, one per parser of untrusted input, in one binary: the environment
/// variable `REPPROBE_FUZZ_TARGET` picks the parser. Built and run by `scripts/fuzz.sh`.
///
/// A target feeds the bytes to the parser as a user's file would reach it and ignores the
/// errors it throws: a thrown error is the right answer to a bad file. What counts is
/// anything else — a trap, a sanitizer report, a hang or a runaway allocation.
enum FuzzTarget: String, CaseIterable {
    case npy, npz, safetensors, pytorch, pickle, onnx, probeset, notebook

    /// A scratch folder for the targets whose parser reads a path, one per process.
    static let scratch: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// `data` written to a scratch file named `name`.
    static func file(_ data: Data, named name: String) -> URL {
        let url = scratch.appendingPathComponent(name)
        try? data.write(to: url)
        return url
    }

    func run(_ data: Data) throws {
        switch self {
        case .npy:
            _ = try NPY.decode(data, file: "fuzz.npy")
        case .npz:
            _ = try NPZ.read(Self.file(data, named: "fuzz.npz"))
        case .safetensors:
            _ = try Safetensors.decode(data, file: "fuzz.safetensors")
        case .pytorch:
            _ = try PyTorchCheckpoint.read(Self.file(data, named: "fuzz.pt"))
        case .pickle:
            _ = try PyTorchPickle.decode(data, file: "fuzz.pkl")
        case .onnx:
            // Compile, then run once on zeros of the declared input shapes, as `layers` does.
            let network = try Network(graph: try ONNXImporter.decode(data, file: "fuzz.onnx"), file: "fuzz.onnx")
            var feed: [String: Tensor] = [:]
            for input in network.graph.inputs {
                feed[input.name] = try network.zeros(for: input, shape: (input.shape ?? [1]).map { $0 ?? 1 })
            }
            _ = try network.run(feed)
        case .probeset:
            let url = Self.file(data, named: "fuzz.yaml")
            _ = try ProbeSet(spec: try ProbeSetSpec.read(url), file: url, inputShape: [1, 8, 8])
        case .notebook:
            let notebook = Notebook(String(decoding: data, as: UTF8.self))
            _ = notebook.rendered(outputs: notebook.blocks.map { $0.output ?? "" })
        }
    }

    /// The target named by `REPPROBE_FUZZ_TARGET`.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["REPPROBE_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("REPPROBE_FUZZ_TARGET must be one of \(allCases.map(\.rawValue).joined(separator: ", ")), not '\(name)'\n".utf8))
            exit(2)
        }
        // One tensor of a fuzzed model may take 256 MB: the sanitizer's allocator, not the
        // machine, sets the bound here.
        ResourceLimit.tensor.value = 256 << 20
        return target
    }()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    try? FuzzTarget.selected.run(data)
    return 0
}

/// libFuzzer's driver, which a program with its own `main` calls.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The entry point: the package builds executables with a `main` of their own, named after
/// the product, so libFuzzer's `main` is not used and its driver is called from here.
@_cdecl("repprobe_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { bytes, size in fuzzOneInput(bytes, size) }
}
