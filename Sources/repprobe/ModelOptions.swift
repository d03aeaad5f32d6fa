import ArgumentParser
import Foundation
import RepProbeKit

#if canImport(Glibc)
import Glibc
#endif

/// How a model file is given: the file, and the graph for weight-only files.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("ONNX export of the same architecture, for PyTorch state dicts, Lightning checkpoints and safetensors state dicts (weights matched to initializers by name).", valueName: "model.onnx"))
    var graph: String?

    /// Loads `path`, reporting on stderr how a state dict matched the graph.
    func load(_ path: String) throws -> ModelLoader.Loaded { try loadModel(path, graph: graph).loaded }
}

/// Loads a model file (with `graph` for weight-only files), reporting on stderr how a state
/// dict matched the graph.
func loadModel(_ path: String, graph: String?) throws -> ComparedModel {
    let model = try ComparedModel.load(URL(fileURLWithPath: path), graph: graph.map { URL(fileURLWithPath: $0) })
    if let report = model.loaded.weightReport {
        Diagnostics.note("\(path): \(report.summary.replacingOccurrences(of: "\n", with: "\n  "))")
    }
    return model
}

extension ProbeSet {
    /// ``load(_:for:)`` with `otherwise`, what to do instead, added to the message when the
    /// model has no single fixed-size image input.
    static func load(_ name: String, for network: Network, allowing: ProbePathOptions, otherwise: String) throws -> ProbeSet {
        do {
            return try load(name, for: network, allowing: allowing.folders)
        } catch let error as ProbeError {
            guard case .invalidInput = error else { throw error }
            throw ValidationError("\(error.localizedDescription); \(otherwise)")
        }
    }
}

/// The `[channels, height, width]` of a model's single image input, which probe sets are
/// drawn for; `otherwise` says what to do instead when the model has none.
func imageInputShape(of network: Network, otherwise: String) throws -> [Int] {
    do {
        return try network.imageInputShape()
    } catch let error as ProbeError {
        throw ValidationError("\(error.localizedDescription); \(otherwise)")
    }
}

/// Inputs for a model: `--input FILE.npy` for a single-input model, `--input NAME=FILE.npy`
/// once per input otherwise.
struct InputOptions: ParsableArguments {
    @Option(name: .customLong("input"), help: ArgumentHelp("Input array (.npy, samples first); NAME=FILE.npy once per input for models with several inputs. Streamed from disk in batches.", valueName: "[NAME=]FILE"))
    var inputs: [String] = []

    @Option(help: "Samples per batch run through the network.")
    var batchSize: Int = 32

    @Option(help: ArgumentHelp("Instead of --input: a probe set (a name in probes/ or a YAML file), images or text for the model's tokenizer.", valueName: "name"))
    var probe: String?

    @OptionGroup var probePaths: ProbePathOptions

    func validate() throws {
        guard !inputs.isEmpty || probe != nil else { throw ValidationError("give the inputs with --input FILE.npy or --probe NAME") }
        guard inputs.isEmpty || probe == nil else { throw ValidationError("give either --input or --probe, not both") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    /// The input sources by graph input name.
    func sources(for network: Network) throws -> [String: any InputSource] {
        if let probe { return try ProbeSet.load(probe, for: network, allowing: probePaths, otherwise: "give --input FILE.npy").sources(for: network) }
        return try NPYInputs.sources(Self.files(inputs), for: network)
    }

    /// The files of `--input` values by graph input name: `FILE.npy` (named `""`, the
    /// single input) or `NAME=FILE.npy`.
    static func files(_ inputs: [String]) throws -> [String: URL] {
        var files: [String: URL] = [:]
        for entry in inputs {
            var (name, path) = ("", entry)
            if let equals = entry.firstIndex(of: "="), !FileManager.default.fileExists(atPath: entry) {
                (name, path) = (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
            }
            guard files[name] == nil else {
                throw ValidationError(name.isEmpty ? "give one --input FILE.npy, or NAME=FILE.npy per input" : "input '\(name)' is given twice")
            }
            files[name] = URL(fileURLWithPath: path)
        }
        return files
    }
}

/// Layers to hook and how to reduce them.
struct CaptureOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Layers to capture: comma-separated module paths or tensor names, or PREFIX* for every layer under a prefix (default: every module output, see `repprobe layers`).", valueName: "names"))
    var layers: String?

    @Option(name: [.customLong("reduce"), .customLong("reduction")],
            help: ArgumentHelp("Reduction of each activation: flatten, mean or max (over space or tokens), center (the central position or token), first (or cls), last (the last real token), subsample:S (every S-th position), project:K (fixed Gaussian projection to K features). Padding never counts.", valueName: "reduction"))
    var reduce: Reduction = .mean

    @Option(name: [.customLong("seed"), .customLong("projection-seed")], help: "Seed of the random projection.")
    var seed: UInt64 = 0

    var filter: LayerFilter { LayerFilter(parsing: layers) }

    var reduction: Reduction { reduce.seeded(seed) }
}

/// `--quiet`: no progress on stderr.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "No progress bars or step lines on stderr (bars are drawn only when stderr is a terminal anyway); notices and errors remain.")
    var quiet = false

    /// Makes the setting the process's.
    func apply() { Diagnostics.quiet = quiet }
}

enum Diagnostics {
    /// Whether progress is left out (`--quiet`); set once, before any work starts.
    nonisolated(unsafe) static var quiet = false

    /// Writes a line to stderr.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Names each step of a long run on stderr, with the time since the first step.
    static let step: @Sendable (String) -> Void = {
        let start = Date()
        return { message in
            guard !quiet else { return }
            note(String(format: "[%5.1f s] ", Date().timeIntervalSince(start)) + message)
        }
    }()

    /// A progress callback drawing a bar on stderr in the manner of tqdm (percentage, bar,
    /// count, elapsed and remaining time, inputs per second), or `nil` when stderr is not a
    /// terminal or with `--quiet`.
    static func progressBar(_ label: String) -> ((Int, Int) -> Void)? {
        guard isatty(2) == 1, !quiet else { return nil }
        let start = Date()
        var drawn = Date.distantPast
        return { done, total in
            let now = Date()
            // At most ten redraws a second, and always the last.
            guard done >= total || now.timeIntervalSince(drawn) >= 0.1 else { return }
            drawn = now
            let width = 24
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
            let filled = Int(Double(width) * fraction)
            let elapsed = now.timeIntervalSince(start)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let remaining = rate > 0 ? Double(total - done) / rate : .nan
            let bar = String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled)
            let line = "\r\(label) \(String(format: "%3d", Int(fraction * 100)))%|\(bar)| \(done)/\(total) "
                + "[\(clock(elapsed))<\(clock(remaining)), \(String(format: rate >= 100 ? "%.0f" : "%.1f", rate)) inputs/s]"
            FileHandle.standardError.write(Data((line + (done >= total ? "\n" : "")).utf8))
        }
    }

    /// `mm:ss`, or `h:mm:ss` from an hour; `?` when unknown.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let whole = Int(seconds.rounded())
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%02d:%02d", m, s)
    }
}
