import Analysis
import Foundation
import Results

/// The written form of a comparison: `report.md`, its SVG figures and `results.json`.
///
/// Everything is a function of the results, so the same results give the same bytes; the
/// only value that changes between runs of the same inputs is the run time, which
/// `includeTiming: false` leaves out (of the Markdown and of the JSON).
public struct ComparisonReport: WrittenReport {
    public var results: ComparisonResults
    public var includeTiming: Bool

    public init(_ results: ComparisonResults, includeTiming: Bool = true) {
        self.results = results
        self.includeTiming = includeTiming
    }

    public var writtenResults: ComparisonResults { results.keepingRunTime(includeTiming) }

    // MARK: - Markdown

    public func markdown() -> String {
        let r = results
        var md = Lines()
        md.add("# \(r.modelA) vs \(r.modelB)")
        md.add("")
        let p = r.provenance
        // Statistics of activation files (`repprobe cka --shard`) name the files, not models.
        let fromFiles = p.files.contains { $0.role == "activations_a" }
        md.add((fromFiles ? "The activations **A** are `\(r.modelA)`, **B** are `\(r.modelB)`, both of the same \(p.samples) samples"
                          : "Model **A** is `\(r.modelA)`, model **B** is `\(r.modelB)`. Both saw the probe set **\(p.probeSet)** (\(p.samples) samples)")
               + "; each layer's activation was reduced by `\(p.reduction)` and compared with "
               + "\(p.kernel) CKA (\(p.estimator) HSIC estimator). Rows are layers of A, columns layers of B.")
        md.add("")
        if let v1 = r.v1Model {
            md.add("Model B is a model of the primary visual cortex: quadrature pairs of Gabor filters at \(v1.orientations) orientations, "
                   + "spatial frequencies \(v1.frequencies.map { NumberFormat.fixed($0, decimals: 4) }.joined(separator: ", ")) cycles per pixel "
                   + "(\(NumberFormat.fixed(v1.bandwidth, decimals: 1)) octaves) and \(v1.positions) × \(v1.positions) positions; its layer "
                   + "`\(V1Model.layerNames[0])` holds the half-wave rectified filter responses (simple cells), "
                   + "`\(V1Model.layerNames[1])` the energy of each pair (complex cells).")
            md.add("")
        }
        md.add(summaryLines().map { "- " + $0 }.joined(separator: "\n"))
        md.add("")
        if let shards = p.joinedShards {
            md.add("These results come from statistics streamed from \(fromFiles ? "the activation files" : "the forward pass")"
                   + (shards == 1 ? "" : ", joined from \(shards) shards of the \(fromFiles ? "samples" : "inputs")")
                   + " (means and co-moments of every layer's features, exact for any split). They hold what those statistics determine: "
                   + "the CKA tables, the best matches and the spectra. Bootstrap intervals, the random-weights baseline, linear probes, "
                   + "projections, filters, receptive fields and the samples CKA leans on need the models and every activation in memory "
                   + "at once: `repprobe compare -o` with a memory budget (`--memory`) that holds them gives them.")
            md.add("")
        }

        md.add("## Which layers correspond")
        md.add("")
        md.add("![CKA between every layer of A (rows) and of B (columns); the best match of each row is outlined](cka_a_b.svg)")
        md.add("")
        let confidence = Markdown.percent(p.confidence ?? 0.95)
        // Columns no layer has a value for (no bootstrap, no baseline) are left out.
        let intervals = r.correspondences.contains { $0.lower != nil }, baselines = r.correspondences.contains { $0.randomBaseline != nil }
        var header = ["layer of A", "best match in B", "CKA"], alignment = ["---", "---", "---:"]
        if intervals { (header, alignment) = (header + ["\(confidence) interval"], alignment + ["---:"]) }
        (header, alignment) = (header + ["runner-up", "CKA"], alignment + ["---", "---:"])
        if baselines { (header, alignment) = (header + ["random B"], alignment + ["---:"]) }
        var table = ["| " + header.joined(separator: " | ") + " |", "|" + alignment.joined(separator: "|") + "|"]
        for c in r.correspondences {
            var cells = [cell(c.layer), cell(c.bestMatch), f(c.cka)]
            if intervals { cells.append(c.lower.flatMap { lower in c.upper.map { "\(f(lower))–\(f($0))" } } ?? "—") }
            cells += [c.runnerUp.map(cell) ?? "—", c.runnerUpCKA.map { f($0) } ?? "—"]
            if baselines { cells.append(c.randomBaseline.map { f($0) } ?? "—") }
            table.append("| " + cells.joined(separator: " | ") + " |")
        }
        md.add(table.joined(separator: "\n"))
        md.add("")
        var notes: [String] = []
        if p.bootstrapResamples >= 2 {
            notes.append("The interval is a bootstrap percentile interval over the probe samples (\(p.bootstrapResamples) resamples).")
        }
        if r.ckaRandomB != nil {
            notes.append("*Random B* is the best CKA of the layer with any layer of B's architecture with freshly drawn weights: "
                         + "what architecture and inputs give without training.")
        }
        if !notes.isEmpty {
            md.add(notes.joined(separator: " "))
            md.add("")
        }

        if r.ckaAA != nil || r.ckaBB != nil {
            md.add("## Each model against itself")
            md.add("")
            var images: [String] = []
            if r.ckaAA != nil { images.append("![CKA between the layers of A](cka_a_a.svg)") }
            if r.ckaBB != nil { images.append("![CKA between the layers of B](cka_b_b.svg)") }
            md.add(images.joined(separator: " "))
            md.add("")
        }

        if r.chance != nil {
            md.add("## Where classes become linearly decodable")
            md.add("")
            md.add("![Linear-probe accuracy per layer, with the shuffled-label control and chance](probe_accuracy.svg)")
            md.add("")
            md.add("Cross-validated accuracy of a ridge classifier on each layer (\(p.probeFolds ?? 5) stratified folds; the regularisation "
                   + "strength with the best mean is shown), and of the same classifier on shuffled labels. "
                   + "Chance (the most frequent class) is \(f(r.chance ?? 0)).")
            md.add("")
            md.add(probeTable(r.layersA, model: "A"))
            md.add("")
            md.add(probeTable(r.layersB, model: "B"))
            md.add("")
        }

        md.add("## How many dimensions each layer uses")
        md.add("")
        md.add("![Explained-variance spectra of A's layers](pca_spectrum_a.svg) ![Explained-variance spectra of B's layers](pca_spectrum_b.svg)")
        md.add("")
        md.add("Participation ratio (Σλ)²/Σλ² of the covariance eigenvalues, and the number of principal components that "
               + "explain 90 % of the variance:")
        md.add("")
        md.add(dimensionTable(r.layersA, model: "A"))
        md.add("")
        md.add(dimensionTable(r.layersB, model: "B"))
        md.add("")
        if !r.projections.isEmpty {
            let names = r.projections.map { "`\($0.layer)` of \($0.model)" }.joined(separator: " and ")
            md.add("The first two principal components of \(names)" + (r.projectionLabels == nil ? ":" : ", coloured by class:"))
            md.add("")
            md.add(r.projections.map { "![2-D PCA projection of \($0.layer) of \($0.model)](projection_\($0.model.lowercased()).svg)" }
                .joined(separator: " "))
            md.add("")
        }

        if r.filtersA != nil || r.filtersB != nil {
            md.add("## First-layer filters")
            md.add("")
            var images: [String] = []
            if let filters = r.filtersA { images.append("![Filters of \(filters.layer) of A](filters_a.svg)") }
            if let filters = r.filtersB { images.append("![Filters of \(filters.layer) of B](filters_b.svg)") }
            md.add(images.joined(separator: " "))
            md.add("")
            md.add("Each filter is drawn on its own scale, symmetric about zero (mid grey).")
            md.add("")
        }

        for (model, rf) in [("A", r.receptiveFieldsA), ("B", r.receptiveFieldsB)] {
            guard let rf else { continue }
            md.add("## Receptive fields of \(model)")
            md.add("")
            let section = ReceptiveFieldReport(rf)
            md.add(section.summaryLines().map { "- " + $0 }.joined(separator: "\n"))
            md.add("")
            md.add(section.sections(level: 3, prefix: "rf_\(model.lowercased())_"))
        }

        if !r.influentialSamples.isEmpty {
            md.add("## Samples that move CKA the most")
            md.add("")
            md.add("A single sample can change CKA a lot (Davari et al. 2022). For each layer of A and its best match, "
                   + "every sample was left out in turn; these are the samples with the largest effect on any pair.")
            md.add("")
            var rows = ["| sample | label | layer of A | layer of B | CKA | without the sample | change |", "|---:|---|---|---|---:|---:|---:|"]
            for s in r.influentialSamples {
                let label = s.label.map { r.classNames?[safe: $0] ?? String($0) } ?? "—"
                rows.append("| \(s.sample) | \(cell(label)) | \(cell(s.layerA)) | \(cell(s.layerB)) | \(f(s.cka)) | \(f(s.ckaWithout)) | "
                            + "\(signed(s.ckaWithout - s.cka)) |")
            }
            md.add(rows.joined(separator: "\n"))
            md.add("")
        }

        md.add("## Provenance")
        md.add("")
        var rows = ["| role | file | format | SHA-256 |", "|---|---|---|---|"]
        for file in p.files { rows.append("| \(file.role) | \(cell(file.name)) | \(file.format) | `\(file.sha256)` |") }
        md.add(rows.joined(separator: "\n"))
        md.add("")
        md.add("Seed \(p.seed); \(p.dtype); repprobe \(p.repprobeVersion). Every number is in `results.json`.")
        if includeTiming {
            md.add("")
            md.add("\((p.joinedShards ?? 1) > 1 ? "Join" : "Run") time: \(NumberFormat.fixed(p.seconds, decimals: 1)) s.")
        }
        return md.text
    }

    /// The bullet points under the title: the headline answers and the sanity checks.
    func summaryLines() -> [String] {
        let r = results
        var lines: [String] = []
        let matched = r.correspondences.filter { $0.cka.isFinite }
        if !matched.isEmpty {
            let mean = matched.map(\.cka).reduce(0, +) / Double(matched.count)
            lines.append("Every layer of A has a best match in B with CKA \(f(matched.map(\.cka).min() ?? .nan)) to "
                         + "\(f(matched.map(\.cka).max() ?? .nan)) (mean \(f(mean))); \(r.correspondences.count) layers of A, "
                         + "\(r.cka.layersB.count) of B.")
        }
        if let baseline = r.checks.randomBaselineMean {
            lines.append("Against a randomly initialised copy of B's architecture the same layers of A reach CKA "
                         + "\(f(baseline)) on average: the part of the similarity that needs no training.")
        } else if let note = r.checks.randomBaselineNote {
            lines.append("No random-weights baseline: \(note).")
        }
        if let bestA = r.layersA.filter({ $0.probeAccuracy != nil }).max(by: { ($0.probeAccuracy ?? 0) < ($1.probeAccuracy ?? 0) }),
           let bestB = r.layersB.filter({ $0.probeAccuracy != nil }).max(by: { ($0.probeAccuracy ?? 0) < ($1.probeAccuracy ?? 0) }) {
            lines.append("Linear probes read the labels best from `\(bestA.layer)` of A (\(f(bestA.probeAccuracy ?? .nan))) "
                         + "and `\(bestB.layer)` of B (\(f(bestB.probeAccuracy ?? .nan))); chance is \(f(r.chance ?? .nan)).")
        }
        for (model, constant) in [("A", r.checks.constantLayersA), ("B", r.checks.constantLayersB)] {
            guard let constant, !constant.isEmpty else { continue }
            lines.append("Left out of \(model), identical on every input of the probe set (their similarity is undefined): "
                         + constant.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        if let deviation = r.checks.selfSimilarityMaxDeviation {
            lines.append("Sanity: every layer's CKA with itself is 1 " + (deviation < 1e-9
                ? "(largest deviation \(scientific(deviation)))."
                : "— **not so here: largest deviation \(scientific(deviation))**."))
        }
        return lines
    }

    func probeTable(_ layers: [ComparisonResults.LayerSummary], model: String) -> String {
        var rows = ["| layer of \(model) | accuracy | ± s.d. | shuffled labels |", "|---|---:|---:|---:|"]
        for l in layers {
            rows.append("| \(cell(l.layer)) | \(l.probeAccuracy.map { f($0) } ?? "—") | \(l.probeAccuracySD.map { f($0) } ?? "—") | "
                        + "\(l.shuffledLabelAccuracy.map { f($0) } ?? "—") |")
        }
        return rows.joined(separator: "\n")
    }

    func dimensionTable(_ layers: [ComparisonResults.LayerSummary], model: String) -> String {
        var rows = ["| layer of \(model) | width | participation ratio | components for 90 % |", "|---|---:|---:|---:|"]
        for l in layers {
            rows.append("| \(cell(l.layer)) | \(l.width) | \(l.participationRatio.map { NumberFormat.fixed($0, decimals: 1) } ?? "—") | "
                        + "\(l.components90.map(String.init) ?? "—") |")
        }
        return rows.joined(separator: "\n")
    }

    private func f(_ value: Double) -> String { Markdown.number(value) }
    private func signed(_ value: Double) -> String { (value >= 0 ? "+" : "") + NumberFormat.fixed(value, decimals: 3) }
    private func scientific(_ value: Double) -> String {
        guard value > 0, value.isFinite else { return value == 0 ? "0" : "\(value)" }
        let exponent = Int(log10(value).rounded(.down))
        return NumberFormat.fixed(value / pow(10, Double(exponent)), decimals: 1) + "e\(exponent)"
    }
    private func cell(_ text: String) -> String { Markdown.code(text) }

    /// A few lines for the terminal: each layer of A with its best match.
    public func consoleSummary() -> String {
        let r = results
        let width = max(10, r.correspondences.map(\.layer.count).max() ?? 0)
        var lines = ["\(r.provenance.kernel) CKA, \(r.modelA) (A) against \(r.modelB) (B), \(r.provenance.samples) samples of \(r.provenance.probeSet)"]
        for c in r.correspondences {
            let interval = c.lower.flatMap { l in c.upper.map { " [\(f(l)), \(f($0))]" } } ?? ""
            let random = c.randomBaseline.map { "  random B \(f($0))" } ?? ""
            lines.append(c.layer.padding(toLength: width, withPad: " ", startingAt: 0) + " → \(c.bestMatch)  \(f(c.cka))\(interval)\(random)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Figures

    /// The SVG figures, by file name.
    public func figures() -> [(name: String, svg: String)] {
        let r = results
        var figures: [(String, String)] = []
        func heatmap(_ m: ComparisonResults.LayerMatrix, title: String, rows: String, columns: String, marks: Bool) -> String {
            let table = LabelledMatrix(rowLabels: m.layersA, columnLabels: m.layersB, values: m.values)
            return Heatmap(matrix: table, title: title, rowAxisTitle: rows, columnAxisTitle: columns,
                           markedCells: marks ? Heatmap.rowMaxima(of: table) : [],
                           markerLabel: marks ? "best match in row" : nil).svg()
        }
        figures.append(("cka_a_b.svg", heatmap(r.cka, title: "CKA: \(r.modelA) (A) against \(r.modelB) (B)",
                                               rows: "layers of A", columns: "layers of B", marks: true)))
        if let aa = r.ckaAA {
            figures.append(("cka_a_a.svg", heatmap(aa, title: "CKA: A against itself", rows: "layers of A", columns: "layers of A", marks: false)))
        }
        if let bb = r.ckaBB {
            figures.append(("cka_b_b.svg", heatmap(bb, title: "CKA: B against itself", rows: "layers of B", columns: "layers of B", marks: false)))
        }

        if let chance = r.chance {
            // Both models on one axis: A's layers in order, B's values at the position of
            // their own layers when the two name their layers alike, else side by side.
            let sameLayers = r.layersA.map(\.layer) == r.layersB.map(\.layer)
            let categories = sameLayers ? r.layersA.map(\.layer) : r.layersA.map { "A: \($0.layer)" } + r.layersB.map { "B: \($0.layer)" }
            func padded(_ values: [Double], before: Int, after: Int) -> [Double] {
                sameLayers ? values : Array(repeating: .nan, count: before) + values + Array(repeating: .nan, count: after)
            }
            let (na, nb) = (r.layersA.count, r.layersB.count)
            let series = [
                LineChart.Series(name: "A", values: padded(r.layersA.map { $0.probeAccuracy ?? .nan }, before: 0, after: nb),
                                 color: Palette.color(0)),
                LineChart.Series(name: "B", values: padded(r.layersB.map { $0.probeAccuracy ?? .nan }, before: na, after: 0),
                                 color: Palette.color(1)),
                LineChart.Series(name: "A, shuffled labels", values: padded(r.layersA.map { $0.shuffledLabelAccuracy ?? .nan }, before: 0, after: nb),
                                 color: Palette.color(0), dashed: true, showsMarkers: false),
                LineChart.Series(name: "B, shuffled labels", values: padded(r.layersB.map { $0.shuffledLabelAccuracy ?? .nan }, before: na, after: 0),
                                 color: Palette.color(1), dashed: true, showsMarkers: false),
            ]
            figures.append(("probe_accuracy.svg", LineChart(
                title: "Linear-probe accuracy through depth", categories: categories, series: series,
                xTitle: "layer", yTitle: "accuracy (\(r.provenance.probeFolds ?? 5)-fold)", yRange: 0...1,
                referenceLine: .init(value: chance, label: "chance")).svg()))
        }

        for (name, model, layers) in [("pca_spectrum_a.svg", "A", r.layersA), ("pca_spectrum_b.svg", "B", r.layersB)] {
            let series = layers.map { LineChart.Series(name: $0.layer, values: $0.explainedVarianceRatio, showsMarkers: false) }
            figures.append((name, LineChart(
                title: "Explained variance by principal component, layers of \(model)", series: series,
                xTitle: "component", yTitle: "fraction of variance", yScale: .logarithmic).svg()))
        }

        for projection in r.projections where !projection.points.isEmpty {
            let labels = r.projectionLabels ?? Array(repeating: 0, count: projection.points.count)
            let explained = projection.explained.map { NumberFormat.fixed(100 * $0, decimals: 1) + " %" }
            figures.append(("projection_\(projection.model.lowercased()).svg", ScatterPlot(
                title: "\(projection.layer) of \(projection.model): first two principal components",
                x: projection.points.map { $0[0] }, y: projection.points.map { $0.count > 1 ? $0[1] : 0 },
                labels: labels, classNames: r.projectionLabels == nil ? [] : (r.classNames ?? []),
                xTitle: "PC 1" + (explained.first.map { " (\($0))" } ?? ""),
                yTitle: "PC 2" + (explained.count > 1 ? " (\(explained[1]))" : "")).svg()))
        }

        for (name, model, filters) in [("filters_a.svg", "A", r.filtersA), ("filters_b.svg", "B", r.filtersB)] {
            guard let filters, filters.shape.count == 4 else { continue }
            var grid = ImageGrid.filters(
                weights: filters.values.map(Double.init), outChannels: filters.shape[0], inChannels: filters.shape[1],
                height: filters.shape[2], width: filters.shape[3],
                title: "\(filters.layer) of \(model): \(filters.shape[0]) filters, \(filters.shape[1]) × \(filters.shape[2]) × \(filters.shape[3])")
            // Small kernels get larger pixels, so that a 3×3 or 5×5 filter is still legible.
            grid.pixelSize = max(4, min(12, 60 / max(1, filters.shape[2], filters.shape[3])))
            figures.append((name, grid.svg()))
        }
        for (model, rf) in [("a", r.receptiveFieldsA), ("b", r.receptiveFieldsB)] {
            guard let rf else { continue }
            figures += ReceptiveFieldReport(rf).figures(prefix: "rf_\(model)_")
        }
        return figures
    }
}

/// Markdown assembled line by line.
struct Lines {
    private var lines: [String] = []
    mutating func add(_ line: String) { lines.append(line) }
    var text: String { lines.joined(separator: "\n") + "\n" }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
