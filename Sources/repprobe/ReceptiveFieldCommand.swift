import ArgumentParser
import Foundation
import RepProbeKit

struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf",
        abstract: "Fit a 2-D Gabor function to every first-layer filter and report how Gabor-like the filters are.",
        discussion: """
            The filters are a weight array out_channels × in_channels × kh × kw (.npy), or the \
            first convolution of a model. Each input channel of each filter is fitted, and for \
            filters with several input channels also their mean (the luminance filter). \
            Orientation is that of the wave vector, 0–180° counter-clockwise from the x axis \
            with y up (0° = vertical stripes); frequency is in cycles per pixel; σx lies along \
            the wave vector and σy along the stripes.
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

    func validate() throws {
        guard threshold.isFinite, threshold <= 1 else { throw ValidationError("--threshold must be a number up to 1, got \(threshold)") }
    }

    struct Entry: Encodable {
        var filter: Int
        var channel: String
        var theta_deg: Double
        var frequency: Double
        var sigma_x: Double
        var sigma_y: Double
        var phase_deg: Double
        var x0: Double
        var y0: Double
        var amplitude: Double
        var r2: Double
        var well_fit: Bool
    }

    func run() throws {
        let url = URL(fileURLWithPath: filters)
        let (shape, values): ([Int], [Double])
        if try FileFormat.detect(url) == .npy {
            let array = try NPY.read(url)
            (shape, values) = (array.shape, array.doubles())
        } else {
            let loaded = try loadModel(filters, graph: graph)
            guard let first = ModelComparison.firstLayerFilters(loaded.graph, catalog: LayerCatalog(loaded.network)) else {
                throw ValidationError("\(filters): no convolution with 4-D weights found")
            }
            (shape, values) = (first.shape, first.values.map(Double.init))
        }
        guard shape.count == 4, shape.allSatisfy({ $0 >= 1 }), shape[2] >= 2, shape[3] >= 2 else {
            throw ValidationError("\(filters): filters must be out_channels × in_channels × kh × kw with kernels of at least 2 × 2, not \(shape)")
        }
        let (outs, ins, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var entries: [Entry] = []
        for o in 0..<outs {
            var planes: [(String, [Double])] = (0..<ins).map { c in
                (String(c), Array(values[((o * ins + c) * h * w)..<((o * ins + c + 1) * h * w)]))
            }
            if ins > 1 {
                let mean = (0..<(h * w)).map { p in planes.reduce(0) { $0 + $1.1[p] } / Double(ins) }
                planes.append(("mean", mean))
            }
            for (channel, plane) in planes {
                let result = try GaborFit.fit(plane, height: h, width: w, threshold: threshold)
                let g = result.gabor
                entries.append(Entry(
                    filter: o, channel: channel, theta_deg: g.theta * 180 / .pi, frequency: g.frequency,
                    sigma_x: g.sigmaX, sigma_y: g.sigmaY, phase_deg: g.phase * 180 / .pi, x0: g.x0, y0: g.y0,
                    amplitude: g.amplitude, r2: result.r2, well_fit: result.wellFit))
            }
        }
        if json {
            print(try Output.json(entries), terminator: "")
            return
        }
        func f(_ v: Double, _ d: Int) -> String { NumberFormat.fixed(v, decimals: d) }
        let table = LabelledMatrix(
            rowLabels: entries.map { "\($0.filter)/\($0.channel)" },
            columnLabels: ["θ°", "f c/px", "σx", "σy", "φ°", "R²"],
            values: entries.map { [$0.theta_deg, $0.frequency, $0.sigma_x, $0.sigma_y, $0.phase_deg, $0.r2] },
            corner: "filter/channel")
        print(table.text(decimalsByColumn: [1, 3, 2, 2, 1, 3]), terminator: "")
        let fitted = entries.filter { ins == 1 || $0.channel == "mean" }
        print("well fit (R² ≥ \(f(threshold, 2))): \(fitted.filter(\.well_fit).count) of \(fitted.count) \(ins == 1 ? "filters" : "luminance filters")")
    }
}
