import Activations
import Analysis
import Foundation
import Formats
import LinearAlgebra
import Networks
import Probe
import Results

/// The receptive-field analysis of one model, as a neurophysiologist would run it: fit Gabor
/// functions to the first-layer filters, show every layer's units gratings and measure their
/// tuning, and compare each layer with a model of V1.
public struct ReceptiveFieldAnalysis {
    public struct Settings: Sendable {
        /// R² from which a Gabor fit counts as good.
        public var threshold = GaborFit.defaultThreshold
        /// Layers whose units are tuned and compared with V1 (default: every module output).
        public var layers: LayerFilter?
        public var v1 = V1Model.Settings()
        /// How a unit is read from a feature map for the tuning experiment: `.center` (each
        /// channel at the central position, a unit with one receptive field) or `.mean` (each
        /// channel averaged over positions, a population).
        public var units: Reduction = .center
        public var cka = CKAOptions()
        public var toolVersion = "unknown"

        public init() {}
    }

    public var settings: Settings
    public var progress: ((String) -> Void)?

    public init(settings: Settings = Settings(), progress: ((String) -> Void)? = nil) {
        self.settings = settings
        self.progress = progress
    }

    /// Everything for one model: fits of its first convolution's filters, tuning on
    /// `gratings` (a probe set of gratings, whose per-stimulus factors give orientation,
    /// frequency and phase), and the V1 comparison on `inputs` (default: the gratings).
    public func run(_ model: ComparedModel, gratings: ProbeSet, inputs: ProbeSet? = nil) throws -> ReceptiveFieldResults {
        let clock = ContinuousClock.now
        let fits = try filterFits(model)
        let tuning: ReceptiveFieldResults.Tuning, v1: ReceptiveFieldResults.V1Similarity
        if let layers = sharedLayers(gratings: gratings, inputs: inputs ?? gratings) {
            // The V1 comparison runs on the gratings with the same layers: one pass over them
            // gives both the tuning's units and the comparison's reduction.
            let factors = try gratingFactors(gratings)
            let v1Inputs = inputs ?? gratings
            let v1Layers = try self.v1Layers(v1Inputs)
            let captured = try ModelCapture.captures(model, probeSet: gratings, layers: layers,
                                                     reductions: [settings.units, v1Inputs.reduction], label: "gratings",
                                                     progress: progress)
            tuning = try self.tuning(captured[0].layers, gratings: gratings, factors: factors)
            v1 = try v1Similarity(captured[1].layers, v1: v1Layers, inputs: v1Inputs)
        } else {
            tuning = try self.tuning(model, gratings: gratings)
            v1 = try v1Similarity(model, inputs: inputs ?? gratings)
        }
        typealias File = ComparisonResults.Provenance.File
        var files = try File.records(of: model, role: "model") + File.records(of: gratings)
        if let inputs, inputs.files != gratings.files { files += try File.records(of: inputs) }
        return ReceptiveFieldResults(
            model: model.name, filters: fits, tuning: tuning, v1: v1,
            provenance: .init(files: files, repprobeVersion: settings.toolVersion,
                              seconds: ComparisonResults.Provenance.seconds(since: clock)))
    }

    // MARK: - Gabor fits

    /// The weights of the first convolution (in execution order) whose weight is a 4-D
    /// initializer or the output of a `Constant` node (as some exporters write weights):
    /// `[out, in, kh, kw]`.
    public static func firstLayerFilters(of model: ComparedModel) -> ComparisonResults.Filters? {
        let graph = model.loaded.graph, catalog = LayerCatalog(model.network)
        var constants: [String: Tensor] = [:]
        for node in graph.nodes where node.opType == "Constant" && node.outputs.count == 1 {
            if case let .tensor(value)? = node.attributes["value"] { constants[node.outputs[0]] = value }
        }
        for node in graph.nodes where node.opType == "Conv" && node.inputs.count >= 2 {
            guard let weight = graph.initializers[node.inputs[1]] ?? constants[node.inputs[1]], weight.rank == 4,
                  let values = weight.floats else { continue }
            let layer = node.outputs.first.map { catalog.displayName(of: $0) } ?? node.displayName
            return .init(layer: layer, shape: weight.shape, values: values)
        }
        return nil
    }


    /// Fits of the model's first convolution, if it has one.
    func filterFits(_ model: ComparedModel) throws -> ReceptiveFieldResults.FilterFits? {
        try Self.firstLayerFilters(of: model).map { try Self.fitFilters($0, threshold: settings.threshold) }
    }

    /// The filters in a 4-D weight array `[out, in, kh, kw]` (`.npy`), named after the file.
    ///
    /// - Throws: ``FormatError`` for a file that is not a readable `.npy`,
    ///   ``AnalysisError/invalidArgument(_:)`` for an array of another rank.
    public static func filters(array url: URL) throws -> ComparisonResults.Filters {
        let array = try NPY.read(url)
        guard array.shape.count == 4 else {
            throw AnalysisError.invalidArgument("\(url.path): filters must be out_channels × in_channels × kh × kw, not \(array.shape)")
        }
        return .init(layer: url.lastPathComponent, shape: array.shape, values: array.doubles().map(Float.init))
    }

    /// Kernels with fewer values than this (twice a Gabor function's 9 parameters) are not
    /// fitted: a 3 × 3 kernel is matched exactly by almost any Gabor function, so R² would
    /// say nothing.
    public static let minimumKernelValues = 18

    /// Fits every input channel of every filter of a `[out, in, kh, kw]` weight, and for
    /// several input channels their mean (the luminance filter). Kernels with fewer than
    /// ``minimumKernelValues`` values give no fits, with a note.
    public static func fitFilters(_ filters: ComparisonResults.Filters, threshold: Double = GaborFit.defaultThreshold) throws
        -> ReceptiveFieldResults.FilterFits
    {
        let shape = filters.shape
        guard shape.count == 4, shape.allSatisfy({ $0 >= 1 }), filters.values.count == shape.reduce(1, *) else {
            throw AnalysisError.invalidArgument("\(filters.layer): filters must be out_channels × in_channels × kh × kw, got \(shape) with \(filters.values.count) values")
        }
        let (outs, h, w) = (shape[0], shape[2], shape[3])
        var result = ReceptiveFieldResults.FilterFits(layer: filters.layer, shape: shape, values: filters.values, threshold: threshold, fits: [])
        guard h >= 2, w >= 2, h * w >= minimumKernelValues else {
            result.note = "the kernels are \(h) × \(w): too small for a Gabor function (its 9 parameters would fit "
                + "any \(h * w) values; at least \(minimumKernelValues) are needed)"
            return result
        }
        if let bad = filters.values.firstIndex(where: { !$0.isFinite }) {
            let (o, channel) = (bad / (shape[1] * h * w), bad / (h * w) % shape[1])
            throw AnalysisError.nonFinite(context: "\(filters.layer): filter \(o), channel \(channel) has non-finite weights")
        }
        let planes = (0..<outs).flatMap { o in result.planes(ofFilter: o).map { (filter: o, channel: $0.channel, values: $0.values) } }
        let fitted = try GaborFit.fit(all: planes.map(\.values), height: h, width: w, threshold: threshold)
        for (plane, fit) in zip(planes, fitted) {
            let g = fit.gabor
            result.fits.append(.init(
                filter: plane.filter, channel: plane.channel, thetaDeg: g.theta * 180 / .pi, frequency: g.frequency,
                sigmaX: g.sigmaX, sigmaY: g.sigmaY, phaseDeg: g.phase * 180 / .pi, x0: g.x0, y0: g.y0,
                amplitude: g.amplitude, offset: g.offset, r2: fit.r2, wellFit: fit.wellFit, nx: g.sigmaX * g.frequency, ny: g.sigmaY * g.frequency))
        }
        return result
    }

    // MARK: - Grating tuning

    /// Tunes the units of every layer: by default each channel at the central position of its
    /// feature map (the unit whose receptive field the gratings cover symmetrically), every
    /// feature of a vector.
    public func tuning(_ model: ComparedModel, gratings: ProbeSet) throws -> ReceptiveFieldResults.Tuning {
        let factors = try gratingFactors(gratings)
        var centered = gratings
        centered.reduction = settings.units
        let captured = try ModelCapture(model, probeSet: centered, layers: settings.layers ?? .all, label: "gratings", progress: progress)
        return try tuning(captured.layers, gratings: gratings, factors: factors)
    }

    typealias GratingFactors = (orientation: [Double], frequency: [Double], phase: [Double])

    /// The orientation, frequency and phase of each grating.
    func gratingFactors(_ gratings: ProbeSet) throws -> GratingFactors {
        guard let orientation = gratings.factors["orientation_deg"], let frequency = gratings.factors["frequency"],
              let phase = gratings.factors["phase_deg"] else {
            throw ProbeError.invalidInput(file: gratings.name, problem: "grating tuning needs a probe set of gratings (stimuli kind: gratings)")
        }
        return (orientation, frequency, phase)
    }

    /// The layers the tuning and the V1 comparison would both capture, when the comparison's
    /// inputs are the gratings themselves; `nil` when the two need separate runs.
    func sharedLayers(gratings: ProbeSet, inputs: ProbeSet) -> LayerFilter? {
        guard inputs.name == gratings.name, inputs.files == gratings.files, inputs.seed == gratings.seed,
              inputs.inputs.shape == gratings.inputs.shape else { return nil }
        if let layers = settings.layers { return layers }
        if case .all = inputs.layers { return .all }
        return nil
    }

    /// Tuning of captured `layers`, whose rows are the units' responses to the gratings.
    func tuning(_ captured: [ActivationSet.Layer], gratings: ProbeSet, factors: GratingFactors) throws -> ReceptiveFieldResults.Tuning {
        let (orientation, frequency, phase) = factors
        progress?("grating tuning of \(captured.count) layers")
        var layers: [ReceptiveFieldResults.LayerTuning] = []
        var orientations: [Double] = []
        for layer in captured {
            let x = layer.matrix
            let measured = try OrientationTuning.measure(x, orientation: orientation, frequency: frequency, phase: phase)
            orientations = measured.orientations
            let responsive = (0..<x.columns).map { j in
                let column = x.column(j)
                let low = column.min() ?? 0, high = column.max() ?? 0
                return high - low > 1e-6 * max(abs(high), abs(low), 1e-30)
            }
            let active = measured.units.indices.filter { responsive[$0] }.map { measured.units[$0] }
            func median(_ values: [Double]) -> Double? {
                let sorted = values.filter(\.isFinite).sorted()
                guard !sorted.isEmpty else { return nil }
                let middle = sorted.count / 2
                return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            }
            func fraction(_ test: (OrientationTuning.Unit) -> Bool) -> Double? {
                active.isEmpty ? nil : Double(active.filter(test).count) / Double(active.count)
            }
            layers.append(.init(
                layer: layer.name, responsive: responsive, units: measured.units,
                medianCircularVariance: median(active.map(\.circularVariance)), medianOSI: median(active.map(\.orientationSelectivity)),
                medianBandwidth: median(active.map(\.bandwidth)), simpleFraction: fraction { $0.f1f0 > 1 },
                tunedFraction: fraction { $0.circularVariance < ReceptiveFieldResults.LayerTuning.tunedCircularVariance }))
        }
        return .init(probeSet: gratings.name, reduction: settings.units.description, orientations: orientations,
                     frequencies: Array(Set(frequency)).sorted(), phases: Array(Set(phase)).sorted(), layers: layers)
    }

    // MARK: - V1

    /// The V1 model's simple and complex cells on `inputs` (4-D images), as two layers.
    public func v1Layers(_ inputs: ProbeSet) throws -> [ActivationSet.Layer] {
        let shape = inputs.inputs.shape
        guard shape.count == 4 else {
            throw ProbeError.invalidInput(file: inputs.name, problem: "the V1 model needs images (samples × channels × height × width), got shape \(shape)")
        }
        let model = try V1Model(settings: settings.v1, height: shape[2], width: shape[3])
        let values: [Float]
        switch inputs.inputs.storage {
        case let .float32(v): values = v
        case let .float64(v): values = v.map(Float.init)
        default: throw ProbeError.invalidInput(file: inputs.name, problem: "the V1 model needs float images, got \(inputs.inputs.dataType)")
        }
        progress?("V1 model: \(model.pairs.count) quadrature pairs on \(shape[0]) images")
        let (simple, complex) = try model.responses(values, count: shape[0], channels: shape[1])
        return [ActivationSet.Layer(name: V1Model.layerNames[0], matrix: simple),
                ActivationSet.Layer(name: V1Model.layerNames[1], matrix: complex)]
    }

    /// CKA of every layer of `model` with the V1 model's simple and complex cells on `inputs`.
    public func v1Similarity(_ model: ComparedModel, inputs: ProbeSet) throws -> ReceptiveFieldResults.V1Similarity {
        let v1 = try v1Layers(inputs)
        let captured = try ModelCapture(model, probeSet: inputs, layers: settings.layers ?? inputs.layers, label: "V1 comparison",
                                        progress: progress)
        return try v1Similarity(captured.layers, v1: v1, inputs: inputs)
    }

    /// CKA of captured `layers` with the V1 model's two layers `v1`, all on `inputs`.
    func v1Similarity(_ layers: [ActivationSet.Layer], v1: [ActivationSet.Layer], inputs: ProbeSet) throws -> ReceptiveFieldResults.V1Similarity {
        progress?("CKA of \(layers.count) layers with V1")
        // A layer identical on every input has no similarity with V1: its entries stay empty.
        let matrix = try CKAMatrix.computeUndefinedForConstant(layers.map(\.matrix), v1.map(\.matrix), namesA: layers.map(\.name),
                                                               namesB: v1.map(\.name), options: settings.cka)
        func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
        return .init(probeSet: inputs.name, samples: inputs.inputs.shape.first ?? 0, reduction: inputs.reduction.description,
                     model: settings.v1, layers: layers.map(\.name),
                     simple: (0..<matrix.rows).map { finite(matrix[$0, 0]) }, complex: (0..<matrix.rows).map { finite(matrix[$0, 1]) })
    }

    /// The analysis of a model whose layers were already captured on `inputs` (by a
    /// comparison), with the V1 model's layers on the same inputs.
    /// Its results sit inside the comparison's, whose format and provenance cover them.
    func run(_ model: ComparedModel, captured layers: [ActivationSet.Layer], v1: [ActivationSet.Layer],
             gratings: ProbeSet, inputs: ProbeSet) throws -> ReceptiveFieldResults {
        let fits = try filterFits(model)
        var results = ReceptiveFieldResults(
            model: model.name, filters: fits, tuning: try tuning(model, gratings: gratings),
            v1: try v1Similarity(layers, v1: v1, inputs: inputs),
            provenance: .init(files: [], repprobeVersion: settings.toolVersion, seconds: 0))
        results.format = nil
        return results
    }
}
