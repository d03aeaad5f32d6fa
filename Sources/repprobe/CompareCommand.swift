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
        if output == nil && modelA != nil && (projectionLayer != nil || noTiming) {
            throw ValidationError("--projection-layer and --no-timing apply to the report: add -o FOLDER")
        }
    }

    func run() throws {
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
        let a = try loadModel(pathA, graph: graphA)
        let b = try pathB.map { try loadModel($0, graph: graphB) }

        if let folder {
            try writeReport(a: (pathA, a), b: against == nil ? (pathB ?? pathA, b ?? a) : nil, probeName: probeName, folder: folder)
        } else {
            try printTable(a: a, b: b, probeName: probeName)
        }
    }

    // MARK: - Report

    private func writeReport(a: (path: String, model: ModelLoader.Loaded), b: (path: String, model: ModelLoader.Loaded)?,
                             probeName: String?, folder: String) throws {
        let probeSet = try self.probeSet(for: a.model.network, named: probeName)
        var settings = ModelComparison.Settings()
        settings.cka = cka.options
        settings.bootstrapResamples = resamples
        settings.confidence = confidence
        settings.randomBaseline = !noRandomBaseline
        settings.projectionLayer = projectionLayer
        settings.seed = seed
        settings.toolVersion = RepProbeVersion.current
        if let layers { settings.layers = LayerFilter(parsing: layers) }
        if let layersB { settings.layersB = LayerFilter(parsing: layersB) }
        settings.v1 = try v1.settings
        if !noReceptiveFields {
            let shapeA = try? imageInputShape(of: a.model.network, otherwise: "")
            let shapeB = b == nil ? shapeA : try? imageInputShape(of: b!.model.network, otherwise: "")
            if let shapeA, shapeA == shapeB {
                settings.gratings = try ProbeSet.load(gratings, inputShape: shapeA)
            } else {
                Diagnostics.step("no receptive-field sections: the models do not share one image input")
            }
        }
        let comparison = ModelComparison(settings: settings, progress: Diagnostics.step)
        let modelA = ModelComparison.Model(name: URL(fileURLWithPath: a.path).lastPathComponent, loaded: a.model, files: files(a.path, graphA))
        let side: ModelComparison.Side = b.map {
            .network(.init(name: URL(fileURLWithPath: $0.path).lastPathComponent, loaded: $0.model, files: files($0.path, modelB == nil ? graphA : graphB)))
        } ?? .v1
        let results = try comparison.run(modelA, against: side, probeSet: probeSet)
        let report = ComparisonReport(results, includeTiming: !noTiming)
        try report.write(to: URL(fileURLWithPath: folder))
        print(report.consoleSummary(), terminator: "")
        print("wrote \(folder)/report.md, results.json and \(report.figures().count) figures")
    }

    private func files(_ model: String, _ graph: String?) -> [URL] {
        [URL(fileURLWithPath: model)] + (graph.map { [URL(fileURLWithPath: $0)] } ?? [])
    }

    /// The probe set named, or one made of --input/--labels, with the command-line overrides.
    private func probeSet(for network: Network, named name: String?) throws -> ProbeSet {
        var set: ProbeSet
        if let name {
            set = try ProbeSet.load(name, inputShape: try imageInputShape(of: network, otherwise: "give --input x.npy instead of a probe set"))
        } else {
            guard inputs.count == 1, let path = inputs.first, !path.contains("=") || FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("the report takes one --input FILE.npy (models with one input)")
            }
            let url = URL(fileURLWithPath: path)
            let tensor = Tensor(try NPY.read(url))
            var labelValues: [Int]?
            var files = [url]
            if let labels {
                let labelURL = URL(fileURLWithPath: labels)
                labelValues = try Labels.load(labelURL)
                files.append(labelURL)
                guard labelValues?.count == tensor.shape.first else {
                    throw ValidationError("\(labels) has \(labelValues?.count ?? 0) labels for \(tensor.shape.first ?? 0) inputs in \(path)")
                }
            }
            set = ProbeSet(name: url.deletingPathExtension().lastPathComponent, inputs: tensor, labels: labelValues, files: files,
                           reduction: .mean)
        }
        if let reduce { set.reduction = reduce.seeded(seed) }
        if let batchSize { set.batchSize = batchSize }
        return set
    }

    // MARK: - Table

    private func printTable(a: ModelLoader.Loaded, b: ModelLoader.Loaded?, probeName: String?) throws {
        let probeSet = try probeName.map { try self.probeSet(for: a.network, named: $0) }
        let reduction = reduce?.seeded(seed) ?? probeSet?.reduction ?? .mean
        let filterA = layers.map { LayerFilter(parsing: $0) } ?? probeSet?.layers ?? .all
        let setA = try activations(a, layers: filterA, reduction: reduction, probeSet: probeSet, label: "A")
        var setB: ActivationSet?
        if against != nil {
            let set = try probeSet ?? self.probeSet(for: a.network, named: probeName)
            var settings = ReceptiveFieldAnalysis.Settings()
            settings.v1 = try v1.settings
            setB = try ActivationSet(layers: try ReceptiveFieldAnalysis(settings: settings).v1Layers(set), source: ModelComparison.v1Name)
        } else if let b {
            let filterB = (layersB ?? layers).map { LayerFilter(parsing: $0) } ?? probeSet?.layers ?? .all
            setB = try activations(b, layers: filterB, reduction: reduction, probeSet: probeSet, label: "B")
        }
        let table = try cka.table(setA, setB)
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(cka.label), \(setA.sampleCount) samples, reduction \(reduction)")
            print(table.text(), terminator: "")
        }
    }

    private func activations(_ loaded: ModelLoader.Loaded, layers: LayerFilter, reduction: Reduction,
                             probeSet: ProbeSet?, label: String) throws -> ActivationSet {
        let hooked = HookedNetwork(loaded.network)
        let collector = ActivationCollector()
        let sources: [String: any InputSource]
        if let probeSet, let name = loaded.network.graph.inputs.first?.name {
            sources = [name: TensorInputs(probeSet.inputs, origin: probeSet.name)]
        } else {
            sources = try InputOptions.sources(inputs, for: loaded.network)
        }
        try Capture.run(
            hooked, inputs: sources,
            settings: Capture.Settings(layers: layers, reduction: reduction, batchSize: batchSize ?? probeSet?.batchSize ?? 64),
            into: collector, progress: Diagnostics.progressBar("model \(label)"))
        return try collector.activationSet(source: loaded.network.file)
    }
}
