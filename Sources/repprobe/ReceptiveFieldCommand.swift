import ArgumentParser
import Foundation
import RepProbeKit

struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf",
        abstract: "Receptive fields: Gabor fits of first-layer filters, grating tuning of every layer, and CKA with a model of V1.",
        discussion: """
            The filters are a weight array out_channels × in_channels × kh × kw (.npy), or the \
            first convolution of a model. Each input channel of each filter is fitted, and for \
            filters with several input channels also their mean (the luminance filter). \
            Orientation is that of the wave vector, 0–180° counter-clockwise from the x axis \
            with y up (0° = vertical stripes); frequency is in cycles per pixel; σx lies along \
            the wave vector and σy along the stripes.

            For a model, every layer's units (each channel at the central position of its \
            feature map) are also shown the gratings probe set and their orientation tuning is \
            measured, and each layer is compared by CKA with a V1 model (quadrature pairs of \
            Gabor filters; simple and complex cells). With -o FOLDER, report.md, SVG figures and \
            results.json are written; --json prints only the filter fits.
            """
    )

    @Argument(help: "Filters (.npy, 4-D) or a model (its first Conv's weights).")
    var filters: String

    @Option(help: ArgumentHelp("ONNX graph when the model is a state dict.", valueName: "model.onnx"))
    var graph: String?

    @Option(help: "R² from which a fit counts as good.")
    var threshold: Double = GaborFit.defaultThreshold

    @Flag(help: "Print one JSON object per filter and channel instead of a table.")
    var json = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report into this folder (models only).", valueName: "folder"))
    var output: String?

    @Option(help: ArgumentHelp("Probe set of gratings for the tuning experiment.", valueName: "name"))
    var gratings = "gratings"

    @Option(help: ArgumentHelp("Probe set on which layers are compared with the V1 model (default: the gratings).", valueName: "name"))
    var probe: String?

    @Option(help: ArgumentHelp("Layers to tune and compare (default: every module output): comma-separated names, or PREFIX*.", valueName: "names"))
    var layers: String?

    @Option(help: ArgumentHelp("Which unit of a feature map the tuning experiment records: center (each channel at the central position) or mean (each channel averaged over positions).", valueName: "center|mean"))
    var units = "center"

    @Option(help: ArgumentHelp("Reduction of each activation for the V1 comparison (default: the probe set's): flatten, mean, max, center, subsample:S, project:K.", valueName: "reduction"))
    var reduce: Reduction?

    @OptionGroup var v1: V1Arguments

    @Flag(help: "Leave the run time out of report.md and results.json, so that reruns give identical bytes.")
    var noTiming = false

    func validate() throws {
        guard threshold.isFinite, threshold <= 1 else { throw ValidationError("--threshold must be a number up to 1, got \(threshold)") }
        if json && output != nil { throw ValidationError("--json prints the filter fits; the report's results.json has everything") }
        guard units == "center" || units == "mean" else { throw ValidationError("--units must be center or mean, got '\(units)'") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: filters)
        if try FileFormat.detect(url) == .npy {
            guard output == nil else { throw ValidationError("a report needs a model; \(filters) is a weight array") }
            let array = try NPY.read(url)
            guard array.shape.count == 4 else {
                throw ValidationError("\(filters): filters must be out_channels × in_channels × kh × kw, not \(array.shape)")
            }
            let fits = try ReceptiveFieldAnalysis.fitFilters(
                .init(layer: url.lastPathComponent, shape: array.shape, values: array.doubles().map(Float.init)), threshold: threshold)
            try printFits(fits)
            return
        }
        let loaded = try loadModel(filters, graph: graph)
        let model = ModelComparison.Model(name: url.lastPathComponent, loaded: loaded,
                                          files: [url] + (graph.map { [URL(fileURLWithPath: $0)] } ?? []))
        if json || output == nil {
            guard let first = ModelComparison.firstLayerFilters(loaded.graph, catalog: LayerCatalog(loaded.network)) else {
                throw ValidationError("\(filters): no convolution with 4-D weights found")
            }
            try printFits(try ReceptiveFieldAnalysis.fitFilters(first, threshold: threshold))
            if json { return }
        }
        var settings = ReceptiveFieldAnalysis.Settings()
        settings.threshold = threshold
        settings.units = units == "mean" ? .mean : .center
        settings.v1 = try v1.settings
        settings.toolVersion = RepProbeVersion.current
        if let layers { settings.layers = LayerFilter(parsing: layers) }
        let analysis = ReceptiveFieldAnalysis(settings: settings, progress: Diagnostics.step)
        let shape = try imageInputShape(of: loaded.network, otherwise: "grating tuning needs a model with one image input")
        let gratingSet = try ProbeSet.load(gratings, inputShape: shape)
        var inputs = try probe.map { try ProbeSet.load($0, inputShape: shape) }
        if let reduction = reduce {
            inputs = inputs ?? gratingSet
            inputs?.reduction = reduction
        }
        if let output {
            let results = try analysis.run(model, gratings: gratingSet, inputs: inputs)
            let report = ReceptiveFieldReport(results, includeTiming: !noTiming)
            try report.write(to: URL(fileURLWithPath: output))
            print(report.consoleSummary(), terminator: "")
            print("wrote \(output)/report.md, results.json and \(report.figures().count) figures")
            return
        }
        let tuning = try analysis.tuning(model, gratings: gratingSet)
        print("")
        print("grating tuning on \(gratingSet.name) (" + (units == "mean" ? "each channel averaged over its feature map" : "each channel at the centre of its feature map") + "):")
        let tuningTable = LabelledMatrix(
            rowLabels: tuning.layers.map(\.layer),
            columnLabels: ["units", "responsive", "tuned", "median CV", "median OSI", "bandwidth°", "simple"],
            values: tuning.layers.map { layer in
                [Double(layer.units.count), Double(layer.responsive.filter { $0 }.count), layer.tunedFraction ?? .nan,
                 layer.medianCircularVariance ?? .nan, layer.medianOSI ?? .nan, layer.medianBandwidth ?? .nan, layer.simpleFraction ?? .nan]
            },
            corner: "layer")
        print(tuningTable.text(decimalsByColumn: [0, 0, 2, 2, 2, 1, 2]), terminator: "")
        print("tuned: fraction of responsive units with circular variance < 0.5; simple: fraction with F1/F0 > 1")
        let similarity = try analysis.v1Similarity(model, inputs: inputs ?? gratingSet)
        print("")
        print("CKA with the V1 model on \(similarity.probeSet) (\(similarity.samples) samples):")
        let v1Table = LabelledMatrix(
            rowLabels: similarity.layers, columnLabels: ["simple", "complex"],
            values: similarity.layers.indices.map { [similarity.simple[$0] ?? .nan, similarity.complex[$0] ?? .nan] }, corner: "layer")
        print(v1Table.text(), terminator: "")
    }

    private func printFits(_ fits: ReceptiveFieldResults.FilterFits) throws {
        if json {
            print(try Output.json(fits.fits), terminator: "")
            return
        }
        if let note = fits.note {
            print("\(fits.layer): \(note)")
            return
        }
        let table = LabelledMatrix(
            rowLabels: fits.fits.map { "\($0.filter)/\($0.channel)" },
            columnLabels: ["θ°", "f c/px", "σx", "σy", "φ°", "R²"],
            values: fits.fits.map { [$0.thetaDeg, $0.frequency, $0.sigmaX, $0.sigmaY, $0.phaseDeg, $0.r2] },
            corner: "filter/channel")
        print(table.text(decimalsByColumn: [1, 3, 2, 2, 1, 3]), terminator: "")
        let summary = fits.summaryFits
        print("well fit (R² ≥ \(NumberFormat.fixed(fits.threshold, decimals: 2))): \(summary.filter(\.wellFit).count) of \(summary.count) "
              + "\(fits.shape[1] == 1 ? "filters" : "luminance filters")")
    }
}

/// The V1 model's settings on the command line.
struct V1Arguments: ParsableArguments {
    @Option(help: "V1 model: orientations over 180°.")
    var v1Orientations = V1Model.Settings().orientations

    @Option(help: ArgumentHelp("V1 model: spatial frequencies, comma-separated (cycles per pixel).", valueName: "f,f,…"))
    var v1Frequencies = V1Model.Settings().frequencies.map { String($0) }.joined(separator: ",")

    @Option(help: "V1 model: spatial-frequency bandwidth in octaves.")
    var v1Bandwidth = V1Model.Settings().bandwidth

    @Option(help: "V1 model: receptive-field positions per image side.")
    var v1Positions = V1Model.Settings().positions

    var settings: V1Model.Settings {
        get throws {
            var s = V1Model.Settings()
            s.orientations = v1Orientations
            s.bandwidth = v1Bandwidth
            s.positions = v1Positions
            let parts = v1Frequencies.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 0.5 }) else {
                throw ValidationError("--v1-frequencies must be numbers in (0, 0.5] separated by commas, got '\(v1Frequencies)'")
            }
            s.frequencies = parts.compactMap { $0 }
            guard s.orientations >= 1, s.positions >= 1, s.bandwidth > 0 else {
                throw ValidationError("--v1-orientations and --v1-positions must be at least 1 and --v1-bandwidth positive")
            }
            return s
        }
    }
}
