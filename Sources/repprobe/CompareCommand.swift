import ArgumentParser
import Foundation
import RepProbeKit

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare the layers of two networks on the same inputs: a Markdown report with -o, else a CKA table.",
        discussion: """
            Both models see the same inputs in the same order: a probe set (--probe NAME, a file \
            under probes/; see probes/README.md) or arrays (--input x.npy, with --labels y.npy for \
            linear probes). Every hooked layer is reduced and compared with CKA; rows are the \
            layers of A, columns those of B.

            With -o FOLDER, repprobe writes report.md (best matches with bootstrap intervals, a \
            random-weights baseline, linear probes through depth, PCA spectra, first-layer filters, \
            the samples CKA leans on) with its SVG figures, and results.json with every number and \
            its provenance. The folder is replaced as a whole, only when everything succeeded.

            Without model arguments, the two networks that ship with repprobe (one CNN trained on \
            handwritten digits from two seeds, models/) are compared on the digits probe set and \
            the report goes to reports/demo.
            """
    )

    @Argument(help: "Model A (.onnx, repprobe .ckpt/.safetensors, or a PyTorch state dict with --graph-a).")
    var modelA: String?

    @Argument(help: "Model B (default: A against itself).")
    var modelB: String?

    @Option(help: ArgumentHelp("Compare A with a model instead of B: v1 (a bank of Gabor quadrature pairs; simple and complex cells).", valueName: "v1"))
    var against: String?

    @OptionGroup var v1: V1Arguments

    @Option(help: ArgumentHelp("Probe set of gratings for the receptive-field sections of the report.", valueName: "name"))
    var gratings = "gratings"

    @Flag(help: "Leave the receptive-field sections (Gabor fits, grating tuning, CKA with V1) out of the report.")
    var noReceptiveFields = false

    @Option(help: ArgumentHelp("ONNX graph for model A when it is a state dict.", valueName: "model.onnx"))
    var graphA: String?

    @Option(help: ArgumentHelp("ONNX graph for model B when it is a state dict.", valueName: "model.onnx"))
    var graphB: String?

    @Option(help: ArgumentHelp("Probe set: a name in probes/ (digits, digits-train, gratings, noise, deadleaves) or a YAML file.", valueName: "name"))
    var probe: String?

    @OptionGroup var probePaths: ProbePathOptions

    @Option(name: .customLong("input"), help: ArgumentHelp("Input array (.npy, samples first); NAME=FILE.npy once per input for models with several inputs (table only).", valueName: "[NAME=]FILE"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Integer class labels of the inputs (.npy), for the linear probes.", valueName: "y.npy"))
    var labels: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report into this folder.", valueName: "folder"))
    var output: String?

    @Option(help: ArgumentHelp("Layers of both models (default: the probe set's, else every module output): comma-separated names, or PREFIX*.", valueName: "names"))
    var layers: String?

    @Option(help: ArgumentHelp("Layers of B, if they differ from --layers.", valueName: "names"))
    var layersB: String?

    @Option(help: ArgumentHelp("Reduction of each activation (default: the probe set's, else mean): flatten, mean, max, center, subsample:S, project:K.", valueName: "reduction"))
    var reduce: Reduction?

    @Option(help: "Samples per batch run through the networks (default: the probe set's, else 64).")
    var batchSize: Int?

    @OptionGroup var cka: CKAArguments

    @Option(help: "Bootstrap resamples for the interval of each best match (report only; 0 for none).")
    var resamples: Int = 1000

    @Option(help: "Confidence level of the bootstrap intervals (report only).")
    var confidence = 0.95

    @Option(help: ArgumentHelp("Layer of A whose 2-D PCA projection the report draws (default: the last before the output).", valueName: "name"))
    var projectionLayer: String?

    @Option(help: "Seed of the bootstrap, the label shuffle and the random-weights baseline.")
    var seed: UInt64 = 0

    @Flag(help: "Skip the baseline of A against randomly initialised B.")
    var noRandomBaseline = false

    @Flag(help: "Leave the run time out of report.md and results.json, so that reruns give identical bytes.")
    var noTiming = false

    @Option(help: ArgumentHelp("Memory the activations may take (e.g. 4G, 512M; default three quarters of RAM). Beyond it linear CKA is streamed from the forward pass (with -o and the biased estimator, the report holds what the streamed statistics give): with the biased estimator the same numbers, in memory set by the layers' widths, not by the number of inputs; with the unbiased one as minibatch CKA (Nguyen et al. 2021, batches of --batch-size).", valueName: "size"))
    var memory: MemorySize?

    @Option(help: ArgumentHelp("Run only the K-th of N equal slices of the inputs (1 ≤ K ≤ N) and write its statistics of the table (linear CKA, biased) to -o FILE.safetensors, for `repprobe merge`.", valueName: "K/N"),
            transform: { try Shard(parsing: $0) })
    var shard: Shard?

    @Flag(help: "Print {\"layers_a\": [...], \"layers_b\": [...], \"matrix\": [[...]]} instead of a table (without -o).")
    var json = false

    /// The shipped pair and probe set that run when no model is named.
    static let defaultModels = ("digits-plain-seed1.onnx", "digits-plain-seed2.onnx")
    static let defaultProbe = "digits"
    static let defaultOutput = "reports/demo"

    func validate() throws {
        if modelA == nil && (modelB != nil || graphA != nil || graphB != nil) {
            throw ValidationError("name model A before model B and the graphs")
        }
        if let against {
            guard against == "v1" else { throw ValidationError("--against takes v1, got '\(against)'") }
            guard modelA != nil, modelB == nil, graphB == nil, layersB == nil else {
                throw ValidationError("--against v1 takes the place of model B: name one model")
            }
        }
        if probe != nil && !inputs.isEmpty { throw ValidationError("give either --probe or --input, not both") }
        if labels != nil && inputs.isEmpty { throw ValidationError("--labels goes with --input") }
        if modelA != nil && probe == nil && inputs.isEmpty {
            throw ValidationError("give the inputs: --probe NAME (see probes/) or --input x.npy")
        }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard confidence > 0 && confidence < 1 else { throw ValidationError("--confidence must lie between 0 and 1, got \(confidence)") }
        if resamples < 0 || resamples == 1 { throw ValidationError("--resamples must be 0 (none) or at least 2, got \(resamples)") }
        if MPIWorld.isLaunchedByMPI {
            guard shard == nil else { throw ValidationError("under mpirun each process takes its shard by rank: leave --shard out") }
            guard modelA != nil else {
                throw ValidationError("under mpirun, compare runs each process on its shard of the inputs: name the models and inputs")
            }
        } else if shard != nil {
            guard let output, output.hasSuffix(".safetensors") else {
                throw ValidationError("--shard K/N writes the shard's statistics: name the file with -o FILE.safetensors")
            }
            guard modelA != nil else { throw ValidationError("--shard needs the models and inputs named") }
        }
        if MPIWorld.isLaunchedByMPI || shard != nil {
            let what = MPIWorld.isLaunchedByMPI ? "under mpirun, compare" : "--shard"
            guard against == nil, cka.options.kernel == .linear, cka.options.estimator == .biased else {
                throw ValidationError("\(what) streams linear CKA with the biased estimator against a network (or A itself)")
            }
        }
        if output == nil && modelA != nil && (projectionLayer != nil || noTiming) {
            throw ValidationError("--projection-layer and --no-timing apply to the report: add -o FOLDER")
        }
    }

    @OptionGroup var progressOptions: ProgressOptions
    @OptionGroup var reportFolder: ReportFolderOptions

    func run() throws {
        progressOptions.apply()
        var (pathA, pathB, probeName, folder) = (modelA, modelB, probe, output)
        if pathA == nil {
            guard let a = BundledFolders.locate(Self.defaultModels.0, in: "models"),
                  let b = BundledFolders.locate(Self.defaultModels.1, in: "models") else {
                throw ValidationError("the shipped models (models/\(Self.defaultModels.0)) are not here; run from the repository or name two models")
            }
            (pathA, pathB) = (a.path, b.path)
            probeName = probeName ?? (inputs.isEmpty ? Self.defaultProbe : nil)
            folder = folder ?? Self.defaultOutput
        }
        guard let pathA else { return }
        if let folder, shard == nil, !folder.hasSuffix(".safetensors") { try reportFolder.check(folder) }
        let a = try loadModel(pathA, graph: graphA)
        let b: ComparisonPlan.Subject = try against != nil ? .v1 : pathB.map { .network(try loadModel($0, graph: graphB)) } ?? .same
        var plan: ComparisonPlan
        if let probeName {
            plan = ComparisonPlan(a: a, b: b, probeSet: try ProbeSet.load(probeName, for: a.network, allowing: probePaths, otherwise: "give --input x.npy instead of a probe set"))
        } else if folder != nil {
            let files = try InputOptions.files(inputs)
            guard files.count == 1, let url = files[""] else { throw ValidationError("the report takes one --input FILE.npy (models with one input)") }
            plan = ComparisonPlan(a: a, b: b, probeSet: try ProbeSet(array: url, labels: labels.map { URL(fileURLWithPath: $0) }))
        } else {
            plan = ComparisonPlan(a: a, b: b, arrays: try InputOptions.files(inputs))
        }
        if let layers { plan.layersA = LayerFilter(parsing: layers) }
        if let names = layersB ?? layers { plan.layersB = LayerFilter(parsing: names) }
        if let reduce { plan.reduction = reduce.seeded(seed) }
        if let batchSize { plan.batchSize = batchSize }
        plan.cka = cka.options
        plan.v1 = try v1.settings
        plan.seed = seed
        plan.toolVersion = RepProbeVersion.current
        if let memory { plan.memoryBudget = memory.bytes }
        if MPIWorld.isLaunchedByMPI { return try runAcrossProcesses(plan) }
        if let shard, let output {
            plan.shard = shard
            let accumulator = try plan.similarityAccumulator(batches: Diagnostics.progressBar, allPairs: true, notice: Diagnostics.note)
            try accumulator.write(to: URL(fileURLWithPath: output))
            print(ShardStatistics.wrote(output, accumulator))
            return
        }
        guard let folder else { return try printTable(plan) }

        plan.bootstrapResamples = resamples
        plan.confidence = confidence
        plan.randomBaseline = !noRandomBaseline
        plan.projectionLayer = projectionLayer
        if !noReceptiveFields, let reason = try plan.includeReceptiveFields(gratings: gratings) {
            Diagnostics.step("no receptive-field sections: \(reason)")
        }
        try ReportOutput.write(try plan.results(progress: Diagnostics.step, notice: Diagnostics.note, batches: Diagnostics.progressBar),
                               to: folder, timing: !noTiming, force: reportFolder.force)
    }

    /// Each process of an `mpirun` launch runs its shard of the inputs; rank 0 joins the
    /// statistics and prints the table, or writes the statistics (-o FILE.safetensors) or the
    /// report they give (-o FOLDER).
    private func runAcrossProcesses(_ plan: ComparisonPlan) throws {
        let clock = ContinuousClock.now
        let world = try MPIWorld()
        defer { world.finalize() }
        var plan = plan
        plan.shard = try Shard(world.rank + 1, of: world.size)
        // Rank 0 alone draws progress.
        var batches: ((String) -> ((Int, Int) -> Void)?)?, notice: ((String) -> Void)?
        if world.rank == 0 { (batches, notice) = ({ Diagnostics.progressBar($0) }, { Diagnostics.note($0) }) }
        let merged: SimilarityAccumulator?
        let allPairs = output != nil
        do {
            merged = try world.merge { try plan.similarityAccumulator(batches: batches, allPairs: allPairs, notice: notice) }
        } catch ClusterError.anotherRankFailed {
            throw ExitCode.failure
        }
        guard let merged else { return }
        if let output, output.hasSuffix(".safetensors") {
            try merged.write(to: URL(fileURLWithPath: output))
            print("wrote \(output): \(world.size) processes, \(merged.statistics.samples) inputs")
        } else if let output {
            try ReportOutput.write(try merged.comparisonResults(seconds: ComparisonResults.Provenance.seconds(since: clock)), to: output,
                                   timing: !noTiming, force: reportFolder.force)
        } else {
            try SimilarityTable.print(try merged.similarity(), label: cka.label, json: json)
        }
    }

    private func printTable(_ plan: ComparisonPlan) throws {
        let similarity = try plan.similarity(notice: Diagnostics.note, batches: Diagnostics.progressBar)
        try SimilarityTable.print(similarity, label: cka.label, json: json)
    }
}

/// A comparison's report written into a folder, with a few lines for the terminal.
enum ReportOutput {
    static func write(_ results: ComparisonResults, to folder: String, timing: Bool, force: Bool) throws {
        let report = ComparisonReport(results, includeTiming: timing)
        try report.write(to: URL(fileURLWithPath: folder), force: force)
        print(report.consoleSummary(), terminator: "")
        print("wrote \(folder)/report.md, results.json and \(report.figures().count) figures")
    }
}

/// The CKA table of a comparison on stdout, as text or JSON.
enum ShardStatistics {
    /// What a shard's statistics cover, once written.
    static func wrote(_ output: String, _ accumulator: SimilarityAccumulator) -> String {
        let shards = accumulator.shards.count == 1 ? "shard \(accumulator.shards[0])/\(accumulator.provenance.shardCount)" : "shards \(accumulator.shardDescription)"
        return "wrote \(output): \(shards), "
            + "\(accumulator.statistics.samples) of \(accumulator.provenance.inputs) samples, \(accumulator.layersA.count) + \(accumulator.layersB.count) layers"
            + (accumulator.isComplete ? "" : "; join the shards with `repprobe merge`")
    }
}

enum SimilarityTable {
    static func print(_ similarity: LayerSimilarity, label: String, json: Bool) throws {
        let table = LabelledMatrix(rowLabels: similarity.layersA, columnLabels: similarity.layersB, values: similarity.values, corner: "A \\ B")
        if json {
            Swift.print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            Swift.print("\(label), \(similarity.samples) samples, reduction \(similarity.reduction)")
            Swift.print(table.text(), terminator: "")
        }
    }
}
