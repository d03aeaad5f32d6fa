import ArgumentParser
import Foundation
import RepProbeKit

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on inputs and write its outputs (and chosen intermediate tensors) to an .npz file.",
        discussion: """
            Arrays are keyed by ONNX tensor name and hold every sample (axis 0) in input order. \
            Inputs are streamed in batches; the output file is written atomically.
            """
    )

    @Argument(help: "Model: .onnx, repprobe checkpoint, or a PyTorch/safetensors state dict with --graph.")
    var model: String

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: InputOptions

    @Option(help: ArgumentHelp("Intermediate tensors to write as well (comma-separated tensor names or module paths).", valueName: "names"))
    var layers: String?

    @Option(name: .shortAndLong, help: "Output .npz file.")
    var output: String

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        try AtomicFile.checkWritable(URL(fileURLWithPath: output))
        progressOptions.apply()
        let network = try modelOptions.load(model).network
        let sources = try inputOptions.sources(for: network)
        let count = try Capture.validate(sources, for: network)
        let catalog = LayerCatalog(network)
        let extra = try (layers?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } ?? [])
            .map { try catalog.tensor(for: $0) }
        var names = network.graph.outputs
        for name in extra where !names.contains(name) { names.append(name) }
        let writer = try NPZStreamWriter(URL(fileURLWithPath: output))
        var started = Set<String>()
        let progress = Diagnostics.progressBar("run")
        var start = 0
        while start < count {
            let range = start..<min(count, start + inputOptions.batchSize)
            let results = try network.run(try Capture.batch(range, of: sources, for: network), keeping: Set(extra))
            for name in names {
                guard let tensor = results[name] else { continue }
                guard tensor.shape.first == range.count else {
                    throw ValidationError("tensor '\(name)' has shape \(tensor.shape), without a batch axis of \(range.count); it cannot be written per sample")
                }
                let array = NumericArray(tensor)
                if started.insert(name).inserted {
                    try writer.begin(name, shape: [count] + tensor.shape.dropFirst(), elementType: array.elementType)
                }
                try writer.append(name, array)
            }
            start = range.upperBound
            progress?(start, count)
        }
        try writer.finish()
        Diagnostics.note("wrote \(names.count) arrays of \(count) samples to \(output)")
    }
}

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture hidden-layer activations of a model into an activation file for the analysis commands.",
        discussion: """
            Each layer becomes a samples × features float32 array (after --reduce), named by the \
            layer as given, plus `sample_ids`. Inputs stream in batches and activations stream to \
            disk, so memory does not grow with the number of inputs.

            With -o NAME.safetensors, activations larger than --max-shard-size go into shards \
            split by samples, NAME-00001-of-0000N.safetensors …, with NAME.safetensors.index.json; \
            every command that reads activations takes NAME.safetensors (or the index) as one file. \
            With --shard K/N (a job array), this process captures the K-th of N slices of the \
            inputs into NAME-0000K-of-0000N.safetensors and writes the index; once every shard \
            is there, the set reads as one file.
            """
    )

    @Argument(help: "Model: .onnx, repprobe checkpoint, or a PyTorch/safetensors state dict with --graph.")
    var model: String

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var capture: CaptureOptions

    @Option(name: .shortAndLong, help: "Output activation file: .npz, or .safetensors (sharded beyond --max-shard-size).")
    var output: String

    @Option(help: ArgumentHelp("Largest shard of a .safetensors output (e.g. 2G, 500M), headers aside.", valueName: "size"))
    var maxShardSize = MemorySize(bytes: 2 << 30)

    @Option(help: ArgumentHelp("Capture only the K-th of N slices of the inputs (1 ≤ K ≤ N) as shard K of the set -o NAME.safetensors names.", valueName: "K/N"),
            transform: { try Shard(parsing: $0) })
    var shard: Shard?

    func validate() throws {
        guard output.hasSuffix(".npz") || output.hasSuffix(".safetensors") else {
            throw ValidationError("-o names a .npz or .safetensors file, got '\(output)'")
        }
        if shard != nil && !output.hasSuffix(".safetensors") {
            throw ValidationError("--shard K/N writes shard K of a set of safetensors files: name it with -o NAME.safetensors")
        }
    }

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        try AtomicFile.checkWritable(URL(fileURLWithPath: output))
        progressOptions.apply()
        let network = try modelOptions.load(model).network
        let hooked = HookedNetwork(network)
        let url = URL(fileURLWithPath: output)
        var sources = try inputOptions.sources(for: network)
        var settings = Capture.Settings(layers: capture.filter, reduction: capture.reduction, batchSize: inputOptions.batchSize)
        var set: (index: Int, rows: [Int])?
        if let shard {
            let total = sources.values.first?.count ?? 0
            let slice = try shard.slice(sources, batchSize: inputOptions.batchSize)
            (sources, settings.sampleIDs) = (slice.sources, Array(slice.samples))
            set = (shard.index, try Shard.sampleCounts(shard.count, of: total, batchSize: inputOptions.batchSize))
        }
        let shards = output.hasSuffix(".safetensors") ? SafetensorsActivationWriter(url, maxShardBytes: maxShardSize.bytes, shard: set) : nil
        let sink: ActivationSink = try shards ?? NPZActivationWriter(url)
        let layers = try Capture.run(hooked, inputs: sources, settings: settings, into: sink, progress: Diagnostics.progressBar("capture"))
        let files = shards?.files ?? []
        let shardNote = shard.map { " (shard \($0): \(files.first?.lastPathComponent ?? "") and the index)" }
            ?? (files.count > 1 ? " (\(files.count - 1) shards and \(files.last?.lastPathComponent ?? ""))" : "")
        Diagnostics.note("wrote \(layers.count) layers (\(capture.reduction)) to \(output)\(shardNote)")
    }
}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a model as a repprobe checkpoint: one safetensors file with the architecture in its metadata."
    )

    @Argument(help: "Model: .onnx, repprobe checkpoint, or a PyTorch/safetensors state dict with --graph.")
    var model: String

    @Argument(help: "Output checkpoint (.ckpt or .safetensors).")
    var output: String

    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        try AtomicFile.checkWritable(URL(fileURLWithPath: output))
        let loaded = try modelOptions.load(model)
        try NativeCheckpoint.write(loaded.graph, to: URL(fileURLWithPath: output))
        Diagnostics.note("wrote \(output): \(loaded.graph.nodes.count) nodes, \(loaded.graph.initializers.count) weight tensors")
    }
}

struct OperatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operators",
        abstract: "List the ONNX operators the runtime implements."
    )

    func run() {
        print(Network.supportedOperators.joined(separator: "\n"))
    }
}
