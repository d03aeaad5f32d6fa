import Analysis
import Foundation
import Results

/// The written form of a receptive-field analysis: `report.md`, its SVG figures and
/// `results.json`; or, inside a comparison report, its sections and figures under a prefix.
public struct ReceptiveFieldReport: WrittenReport {
    public var results: ReceptiveFieldResults
    public var includeTiming: Bool

    public init(_ results: ReceptiveFieldResults, includeTiming: Bool = true) {
        self.results = results
        self.includeTiming = includeTiming
    }

    public var writtenResults: ReceptiveFieldResults { results.keepingRunTime(includeTiming) }

    public func markdown() -> String {
        var md = Lines()
        md.add("# Receptive fields of \(results.model)")
        md.add("")
        md.add("How much the units of `\(results.model)` behave like cells of the primary visual cortex: Gabor fits of the "
               + "first-layer filters, an orientation-tuning experiment with gratings on every layer, and CKA with a model of V1.")
        md.add("")
        md.add(summaryLines().map { "- " + $0 }.joined(separator: "\n"))
        md.add("")
        md.add(sections(level: 2, prefix: ""))
        md.add("## Provenance")
        md.add("")
        for file in results.provenance.files {
            md.add("- \(file.role): `\(file.name)` (\(file.format)), SHA-256 `\(file.sha256)`")
        }
        md.add("- repprobe \(results.provenance.repprobeVersion)"
               + (includeTiming ? ", \(Markdown.number(results.provenance.seconds, decimals: 1)) s" : ""))
        return md.text
    }

    /// The headline numbers, one per line.
    public func summaryLines() -> [String] {
        var lines: [String] = []
        if let fits = results.filters {
            if let fraction = fits.wellFitFraction {
                let summary = fits.summaryFits
                lines.append("\(summary.filter(\.wellFit).count) of \(summary.count) first-layer filters (`\(fits.layer)`) are well fit "
                             + "by a Gabor function (R² ≥ \(Markdown.number(fits.threshold, decimals: 2)); \(percent(fraction))).")
            } else if let note = fits.note {
                lines.append("First-layer filters (`\(fits.layer)`): \(note).")
            }
        }
        if let tuning = results.tuning, let best = tuning.layers.filter({ $0.tunedFraction != nil }).max(by: { $0.tunedFraction! < $1.tunedFraction! }) {
            lines.append("The most orientation-tuned layer is \(Markdown.code(best.layer)): \(percent(best.tunedFraction ?? 0)) of its "
                         + "responsive units have circular variance below 0.5.")
        }
        if let v1 = results.v1, let best = mostV1Like(v1) {
            lines.append("The most V1-like layer is \(Markdown.code(best.layer)) (CKA \(Markdown.number(best.cka)) with V1 \(best.cells) cells).")
        }
        return lines
    }

    func mostV1Like(_ v1: ReceptiveFieldResults.V1Similarity) -> (layer: String, cka: Double, cells: String)? {
        var best: (String, Double, String)?
        for (k, layer) in v1.layers.enumerated() {
            for (cells, value) in [("simple", v1.simple[k]), ("complex", v1.complex[k])] {
                if let value, best == nil || value > best!.1 { best = (layer, value, cells) }
            }
        }
        return best
    }

    // MARK: - Sections

    /// The Markdown sections at heading `level`, linking figures named with `prefix`.
    public func sections(level: Int, prefix: String) -> String {
        let h = String(repeating: "#", count: level)
        var md = Lines()
        if let fits = results.filters {
            md.add("\(h) First-layer filters against Gabor functions")
            md.add("")
            md.add(filterSection(fits, prefix: prefix))
        }
        if let tuning = results.tuning {
            md.add("\(h) Orientation tuning with gratings")
            md.add("")
            md.add(tuningSection(tuning, prefix: prefix))
        }
        if let v1 = results.v1 {
            md.add("\(h) Similarity to a model of V1")
            md.add("")
            md.add(v1Section(v1, prefix: prefix))
        }
        return md.text
    }

    private func filterSection(_ fits: ReceptiveFieldResults.FilterFits, prefix: String) -> String {
        var md = Lines()
        if let note = fits.note {
            md.add("`\(fits.layer)` has filters of shape \(fits.shape): \(note).")
            md.add("")
            return md.text
        }
        let summary = fits.summaryFits
        let well = summary.filter(\.wellFit)
        let colour = fits.shape[1] > 1
        md.add("Every filter of `\(fits.layer)` (\(fits.shape.map(String.init).joined(separator: " × "))) was fitted with a 2-D Gabor function "
               + "(Levenberg–Marquardt from several starts taken from the filter's Fourier peaks)"
               + (colour ? "; for these colour filters, the mean over input channels (the luminance filter) is shown and counted" : "")
               + ". \(well.count) of \(summary.count) reach R² ≥ \(Markdown.number(fits.threshold, decimals: 2)).")
        md.add("")
        md.add("![Each filter beside its fitted Gabor function](\(prefix)gabor_fits.svg)")
        md.add("")
        if !well.isEmpty {
            md.add("Orientation (of the wave vector; 0° = vertical stripes) and spatial frequency of the well-fit filters, and "
                   + "Ringach's (2002) envelope sizes in cycles, nx = σx·f across the stripes and ny = σy·f along them. "
                   + "Simple cells of macaque V1 mostly lie at nx < 0.5 with ny ≥ nx (one or two subfields); filters with many "
                   + "cycles under their envelope lie further out along nx.")
            md.add("")
            md.add("![Orientations of well-fit filters](\(prefix)gabor_orientation.svg) ![Spatial frequencies of well-fit filters](\(prefix)gabor_frequency.svg) "
                   + "![nx against ny of well-fit filters](\(prefix)ringach.svg)")
            md.add("")
        }
        var table = ["| filter | θ° | f (c/px) | σx | σy | nx | ny | R² | well fit |", "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
        for fit in summary.prefix(64) {
            table.append("| \(fit.filter) | \(Markdown.number(fit.thetaDeg, decimals: 1)) | \(Markdown.number(fit.frequency)) | "
                         + "\(Markdown.number(fit.sigmaX, decimals: 2)) | \(Markdown.number(fit.sigmaY, decimals: 2)) | "
                         + "\(Markdown.number(fit.nx, decimals: 2)) | \(Markdown.number(fit.ny, decimals: 2)) | "
                         + "\(Markdown.number(fit.r2)) | \(fit.wellFit ? "yes" : "no") |")
        }
        md.add(table.joined(separator: "\n"))
        if summary.count > 64 { md.add("\n(first 64 of \(summary.count) filters; all are in results.json)") }
        md.add("")
        return md.text
    }

    private func tuningSection(_ tuning: ReceptiveFieldResults.Tuning, prefix: String) -> String {
        var md = Lines()
        md.add("The probe set **\(tuning.probeSet)** shows sinusoidal gratings at \(tuning.orientations.count) orientations, "
               + "\(tuning.frequencies.count) spatial frequencies (\(tuning.frequencies.map { Markdown.number($0, decimals: 4) }.joined(separator: ", ")) c/px) "
               + "and \(tuning.phases.count) phases. A unit is one channel "
               + (tuning.reduction == "mean" ? "averaged over the positions of a feature map" : "at the central position of a feature map")
               + " (every feature of a vector). Its tuning curve is the phase-averaged response at its preferred frequency; circular "
               + "variance (CV) is 0 for a unit that answers one orientation only and 1 for one that answers all alike; OSI "
               + "compares the preferred with the orthogonal orientation; bandwidth is the half-width at half height; F1/F0 "
               + "above 1 marks a phase-sensitive, simple-cell-like unit. Units whose response never changes are left out.")
        md.add("")
        md.add("![Orientation tuning through depth](\(prefix)tuning_depth.svg)")
        md.add("")
        var table = ["| layer | units | responsive | tuned (CV < 0.5) | median CV | median OSI | median bandwidth (°) | simple (F1/F0 > 1) |",
                     "|---|---:|---:|---:|---:|---:|---:|---:|"]
        func value(_ v: Double?, _ d: Int = 2) -> String { v.map { Markdown.number($0, decimals: d) } ?? "—" }
        for layer in tuning.layers {
            table.append("| \(Markdown.code(layer.layer)) | \(layer.units.count) | \(layer.responsive.filter { $0 }.count) | "
                         + "\(layer.tunedFraction.map(percent) ?? "—") | \(value(layer.medianCircularVariance)) | \(value(layer.medianOSI)) | "
                         + "\(value(layer.medianBandwidth, 1)) | \(layer.simpleFraction.map(percent) ?? "—") |")
        }
        md.add(table.joined(separator: "\n"))
        md.add("")
        if tuningHistogramMatrix(tuning) != nil {
            md.add("Preferred orientations of the tuned units (CV < 0.5) of each layer, as a fraction of the layer's tuned units, "
                   + "and the tuning curves of the most selective units of the first layer that has tuned units:")
            md.add("")
            md.add("![Preferred orientations per layer](\(prefix)preferred_orientation.svg) ![Tuning curves](\(prefix)tuning_curves.svg)")
            md.add("")
        }
        return md.text
    }

    private func v1Section(_ v1: ReceptiveFieldResults.V1Similarity, prefix: String) -> String {
        var md = Lines()
        let m = v1.model
        md.add("The V1 model is a bank of quadrature pairs of Gabor filters: \(m.orientations) orientations × "
               + "\(m.frequencies.count) spatial frequencies (\(m.frequencies.map { Markdown.number($0, decimals: 4) }.joined(separator: ", ")) c/px, "
               + "\(Markdown.number(m.bandwidth, decimals: 1)) octaves) × \(m.positions) × \(m.positions) positions. Simple cells are "
               + "each filter's half-wave rectified response (both signs), complex cells the energy of the pair. Each layer "
               + "was compared with both on **\(v1.probeSet)** (\(v1.samples) samples, reduction `\(v1.reduction)`) by CKA.")
        md.add("")
        md.add("![CKA of each layer with V1 simple and complex cells](\(prefix)v1_cka.svg)")
        md.add("")
        var table = ["| layer | CKA with V1 simple cells | CKA with V1 complex cells |", "|---|---:|---:|"]
        for (k, layer) in v1.layers.enumerated() {
            table.append("| \(Markdown.code(layer)) | \(v1.simple[k].map { Markdown.number($0) } ?? "—") | "
                         + "\(v1.complex[k].map { Markdown.number($0) } ?? "—") |")
        }
        md.add(table.joined(separator: "\n"))
        md.add("")
        return md.text
    }

    private func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded())) %" }

    // MARK: - Figures

    public func figures() -> [(name: String, svg: String)] { figures(prefix: "") }

    /// The figures, named with `prefix`.
    public func figures(prefix: String) -> [(name: String, svg: String)] {
        var figures: [(String, String)] = []
        if let fits = results.filters, fits.note == nil {
            let (h, w) = (fits.shape[2], fits.shape[3])
            var images: [ImageGrid.Image] = []
            for fit in fits.summaryFits {
                images.append(.init(width: w, height: h, pixels: fits.plane(of: fit), caption: "\(fit.filter)"))
                images.append(.init(width: w, height: h, pixels: fit.gabor.image(height: h, width: w),
                                    caption: "R² \(Markdown.number(fit.r2, decimals: 2))"))
            }
            let pairsPerRow = fits.summaryFits.count <= 8 ? max(fits.summaryFits.count, 1) : 8
            figures.append(("\(prefix)gabor_fits.svg", ImageGrid(
                title: "\(fits.layer): each filter (left) beside its Gabor fit (right)", images: images,
                columns: 2 * pairsPerRow, pixelSize: max(3, min(12, 96 / max(h, w)))).svg()))
            let well = fits.summaryFits.filter(\.wellFit)
            if !well.isEmpty {
                let theta = Histogram.counts(well.map(\.thetaDeg), bins: 12, range: 0...180)
                figures.append(("\(prefix)gabor_orientation.svg", Histogram(
                    title: "Orientation of well-fit filters", edges: theta.edges, counts: theta.counts, xTitle: "θ (degrees)").svg()))
                let frequency = Histogram.counts(well.map(\.frequency), bins: 10, range: 0...0.5)
                figures.append(("\(prefix)gabor_frequency.svg", Histogram(
                    title: "Spatial frequency of well-fit filters", edges: frequency.edges, counts: frequency.counts,
                    xTitle: "cycles per pixel", color: Palette.color(1)).svg()))
                let top = max(1.5, (well.flatMap { [$0.nx, $0.ny] }.filter(\.isFinite).max() ?? 1) * 1.05)
                var scatter = ScatterPlot(
                    title: "Envelope size in cycles (Ringach 2002)", x: well.map(\.nx), y: well.map(\.ny),
                    labels: Array(repeating: 0, count: well.count), classNames: ["well-fit filter"],
                    xTitle: "nx = σx·f (across the stripes)", yTitle: "ny = σy·f (along the stripes)", pointRadius: 3.5,
                    opacity: 0.8, plotWidth: 300, plotHeight: 300)
                scatter.xRange = 0...top
                scatter.yRange = 0...top
                scatter.showsDiagonal = true
                figures.append(("\(prefix)ringach.svg", scatter.svg()))
            }
        }
        if let tuning = results.tuning, !tuning.layers.isEmpty {
            let names = tuning.layers.map(\.layer)
            figures.append(("\(prefix)tuning_depth.svg", LineChart(
                title: "Orientation tuning through depth", categories: names,
                series: [
                    .init(name: "tuned (CV < 0.5)", values: tuning.layers.map { $0.tunedFraction ?? .nan }),
                    .init(name: "median OSI", values: tuning.layers.map { $0.medianOSI ?? .nan }),
                    .init(name: "simple (F1/F0 > 1)", values: tuning.layers.map { $0.simpleFraction ?? .nan }),
                ],
                xTitle: "layer", yTitle: "fraction / index", yRange: 0...1).svg()))
            if let matrix = tuningHistogramMatrix(tuning) {
                figures.append(("\(prefix)preferred_orientation.svg", Heatmap(
                    matrix: matrix, title: "Preferred orientation of tuned units", legendTitle: "fraction", valueRange: nil,
                    rowAxisTitle: "layer", columnAxisTitle: "preferred orientation (°)", markerLabel: nil, showsValues: false).svg()))
            }
            if let curves = exampleCurves(tuning) {
                var chart = LineChart(
                    title: "Tuning curves of the most selective units of \(curves.layer)", series: curves.series,
                    xTitle: "grating orientation (°)", yTitle: "response / peak", yRange: 0...1)
                chart.xRange = 0...180
                figures.append(("\(prefix)tuning_curves.svg", chart.svg()))
            }
        }
        if let v1 = results.v1, !v1.layers.isEmpty {
            figures.append(("\(prefix)v1_cka.svg", LineChart(
                title: "CKA with a model of V1", categories: v1.layers,
                series: [.init(name: "V1 simple cells", values: v1.simple.map { $0 ?? .nan }),
                         .init(name: "V1 complex cells", values: v1.complex.map { $0 ?? .nan })],
                xTitle: "layer", yTitle: "CKA", yRange: 0...1).svg()))
        }
        return figures.sorted { $0.0 < $1.0 }
    }

    /// Layers × grid orientations: the fraction of each layer's tuned units that prefer each
    /// orientation (nearest grid orientation); `nil` when no layer has tuned units.
    func tuningHistogramMatrix(_ tuning: ReceptiveFieldResults.Tuning) -> LabelledMatrix? {
        let orientations = tuning.orientations
        guard !orientations.isEmpty else { return nil }
        var rows: [[Double]] = [], any = false
        for layer in tuning.layers {
            var counts = [Double](repeating: 0, count: orientations.count)
            let tuned = layer.tunedUnits
            for u in tuned {
                counts[OrientationTuning.nearest(orientations, to: layer.units[u].preferredOrientation)] += 1
            }
            any = any || !tuned.isEmpty
            rows.append(tuned.isEmpty ? counts : counts.map { $0 / Double(tuned.count) })
        }
        guard any else { return nil }
        return LabelledMatrix(rowLabels: tuning.layers.map(\.layer),
                              columnLabels: orientations.map { Markdown.number($0, decimals: $0.rounded() == $0 ? 0 : 1) },
                              values: rows)
    }

    /// Up to six curves (each scaled to its peak) of the lowest-CV units of the first layer
    /// with tuned units.
    func exampleCurves(_ tuning: ReceptiveFieldResults.Tuning) -> (layer: String, series: [LineChart.Series])? {
        for layer in tuning.layers {
            let tuned = layer.tunedUnits
                .sorted { layer.units[$0].circularVariance < layer.units[$1].circularVariance }
                .prefix(6)
            guard !tuned.isEmpty else { continue }
            let series = tuned.map { u -> LineChart.Series in
                let curve = layer.units[u].tuningCurve, peak = curve.max() ?? 1
                return .init(name: "unit \(u) (CV \(Markdown.number(layer.units[u].circularVariance, decimals: 2)))",
                             values: curve.map { peak > 0 ? $0 / peak : 0 }, x: tuning.orientations)
            }
            return (layer.layer, series)
        }
        return nil
    }

    /// A few lines for the terminal.
    public func consoleSummary() -> String {
        summaryLines().joined(separator: "\n").replacingOccurrences(of: "`", with: "") + "\n"
    }
}

// MARK: - Plain text

extension ReceptiveFieldReport {
    /// The fits as an aligned table (a note instead when the kernels were too small), with
    /// how many were well fit.
    public static func text(fits: ReceptiveFieldResults.FilterFits) -> String {
        if let note = fits.note { return "\(fits.layer): \(note)\n" }
        let table = LabelledMatrix(
            rowLabels: fits.fits.map { "\($0.filter)/\($0.channel)" },
            columnLabels: ["θ°", "f c/px", "σx", "σy", "φ°", "R²"],
            values: fits.fits.map { [$0.thetaDeg, $0.frequency, $0.sigmaX, $0.sigmaY, $0.phaseDeg, $0.r2] },
            corner: "filter/channel")
        let summary = fits.summaryFits
        return table.text(decimalsByColumn: [1, 3, 2, 2, 1, 3])
            + "well fit (R² ≥ \(NumberFormat.fixed(fits.threshold, decimals: 2))): \(summary.filter(\.wellFit).count) of \(summary.count) "
            + "\(fits.shape[1] == 1 ? "filters" : "luminance filters")\n"
    }

    /// Each layer's tuning summary as an aligned table, with what the columns mean.
    public static func text(tuning: ReceptiveFieldResults.Tuning) -> String {
        let units = tuning.reduction == "mean"
            ? "each channel averaged over its feature map" : "each channel at the centre of its feature map"
        let table = LabelledMatrix(
            rowLabels: tuning.layers.map(\.layer),
            columnLabels: ["units", "responsive", "tuned", "median CV", "median OSI", "bandwidth°", "simple"],
            values: tuning.layers.map { layer in
                [Double(layer.units.count), Double(layer.responsive.filter { $0 }.count), layer.tunedFraction ?? .nan,
                 layer.medianCircularVariance ?? .nan, layer.medianOSI ?? .nan, layer.medianBandwidth ?? .nan, layer.simpleFraction ?? .nan]
            },
            corner: "layer")
        return "grating tuning on \(tuning.probeSet) (\(units)):\n" + table.text(decimalsByColumn: [0, 0, 2, 2, 2, 1, 2])
            + "tuned: fraction of responsive units with circular variance < 0.5; simple: fraction with F1/F0 > 1\n"
    }

    /// Each layer's CKA with the V1 model's simple and complex cells as an aligned table.
    public static func text(v1 similarity: ReceptiveFieldResults.V1Similarity) -> String {
        let table = LabelledMatrix(
            rowLabels: similarity.layers, columnLabels: ["simple", "complex"],
            values: similarity.layers.indices.map { [similarity.simple[$0] ?? .nan, similarity.complex[$0] ?? .nan] }, corner: "layer")
        return "CKA with the V1 model on \(similarity.probeSet) (\(similarity.samples) samples):\n" + table.text()
    }
}
