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

    @OptionGroup var probePaths: ProbePathOptions

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

    @OptionGroup var progressOptions: ProgressOptions
    @OptionGroup var reportFolder: ReportFolderOptions

    func run() throws {
        progressOptions.apply()
        if let output { try reportFolder.check(output) }
        let url = URL(fileURLWithPath: filters)
        if !HuggingFaceModel.isModelFolder(url), try FileFormat.detect(url) == .npy {
            guard output == nil else { throw ValidationError("a report needs a model; \(filters) is a weight array") }
            return try printFits(try ReceptiveFieldAnalysis.fitFilters(try ReceptiveFieldAnalysis.filters(array: url), threshold: threshold))
        }
        let model = try loadModel(filters, graph: graph)
        if json || output == nil {
            guard let first = ReceptiveFieldAnalysis.firstLayerFilters(of: model) else {
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
        let shape = try imageInputShape(of: model.network, otherwise: "grating tuning needs a model with one image input")
        let gratingSet = try ProbeSet.load(gratings, inputShape: shape)
        var inputs = try probe.map { try ProbeSet.load($0, inputShape: shape, allowing: probePaths.folders) }
        if let reduction = reduce {
            inputs = inputs ?? gratingSet
            inputs?.reduction = reduction
        }
        if let output {
            let report = ReceptiveFieldReport(try analysis.run(model, gratings: gratingSet, inputs: inputs), includeTiming: !noTiming)
            try report.write(to: URL(fileURLWithPath: output), force: reportFolder.force)
            print(report.consoleSummary(), terminator: "")
            print("wrote \(output)/report.md, results.json and \(report.figures().count) figures")
            return
        }
        print("")
        print(ReceptiveFieldReport.text(tuning: try analysis.tuning(model, gratings: gratingSet)), terminator: "")
        print("")
        print(ReceptiveFieldReport.text(v1: try analysis.v1Similarity(model, inputs: inputs ?? gratingSet)), terminator: "")
    }

    private func printFits(_ fits: ReceptiveFieldResults.FilterFits) throws {
        print(json ? try Output.json(fits.fits) : ReceptiveFieldReport.text(fits: fits), terminator: "")
    }
}
