import Foundation
import Results

/// A Markdown report of a monitored training run: the curves of every watched layer over
/// training (CKA to the reference, linear-probe accuracy, participation ratio), the loss,
/// and a table of the last record.
public struct TrainingReport: WrittenReport {
    public let log: TrainingLog

    public init(log: TrainingLog) {
        self.log = log
    }

    public var writtenResults: TrainingLog { log }
    /// The log's notes carry the run time; a training report has no other timing to leave out.
    public var includeTiming: Bool { true }
    public static var resultsFileName: String { "log.json" }
    var notes: [String] { log.notes ?? [] }

    var steps: [Double] { log.records.map { Double($0.step) } }

    /// One line per layer, coloured from light (first layer) to dark (last).
    func layerSeries(_ value: (TrainingLog.LayerRecord) -> Double) -> [LineChart.Series] {
        log.layers.enumerated().map { index, name in
            let t = log.layers.count > 1 ? Double(index) / Double(log.layers.count - 1) : 0
            return LineChart.Series(name: name, values: log.records.map { $0.layers.indices.contains(index) ? value($0.layers[index]) : .nan },
                                    x: steps, color: ColorMap.viridis.color(at: 0.9 * (1 - t)), showsMarkers: false)
        }
    }

    public func figures() -> [(name: String, svg: String)] {
        guard !log.records.isEmpty else { return [] }
        var figures: [(String, String)] = []
        figures.append(("cka_to_reference.svg", LineChart(
            title: "CKA of each layer with \(log.reference)", series: layerSeries(\.ckaToReference),
            xTitle: "training step", yTitle: "linear CKA", yRange: 0...1).svg()))
        var probe = layerSeries(\.probeAccuracy)
        probe.append(.init(name: "model (its own predictions)", values: log.records.map(\.probeSetAccuracy), x: steps,
                           color: .black, dashed: true, showsMarkers: false))
        figures.append(("probe_accuracy.svg", LineChart(
            title: "Linear-probe accuracy on \(log.probeSet) (ridge, \(log.probeFolds ?? 5)-fold)", series: probe,
            xTitle: "training step", yTitle: "accuracy", yRange: 0...1).svg()))
        figures.append(("participation_ratio.svg", LineChart(
            title: "Participation ratio of each layer", series: layerSeries(\.participationRatio),
            xTitle: "training step", yTitle: "(Σλ)² / Σλ²").svg()))
        let withLoss = log.records.filter { $0.loss != nil }
        if !withLoss.isEmpty {
            figures.append(("loss.svg", LineChart(
                title: "Training loss (mean over the steps since the previous record)",
                series: [.init(name: "cross-entropy", values: withLoss.compactMap(\.loss), x: withLoss.map { Double($0.step) },
                               showsMarkers: false)],
                xTitle: "training step", yTitle: "loss").svg()))
        }
        return figures
    }

    public func markdown() -> String {
        var lines = ["# Training: \(log.recipe)", ""]
        lines.append("- Architecture: \(log.architecture), \(log.parameters) parameters, seed \(log.seed).")
        lines.append("- Watched on probe set `\(log.probeSet)` (\(log.samples) samples), compared with \(log.reference).")
        lines.append(contentsOf: notes.map { "- \($0)" })
        guard let first = log.records.first, let last = log.records.last else {
            return (lines + ["", "Nothing was recorded."]).joined(separator: "\n") + "\n"
        }
        lines.append("- \(log.records.count) records from step \(first.step) to step \(last.step) (epoch \(NumberFormat.fixed(last.epoch, decimals: 2))).")
        lines.append("")
        lines.append("## At the last record (step \(last.step))")
        lines.append("")
        lines.append("The model classifies \(NumberFormat.fixed(100 * last.probeSetAccuracy, decimals: 1)) % of the probe set "
                     + "correctly (\(NumberFormat.fixed(100 * first.probeSetAccuracy, decimals: 1)) % at step \(first.step)).")
        lines.append("")
        if let perClass = last.classAccuracy, !perClass.isEmpty {
            let before = Dictionary(uniqueKeysWithValues: (first.classAccuracy ?? []).map { ($0.label, $0.accuracy) })
            lines.append("| class | samples | accuracy | at step \(first.step) |")
            lines.append("| ---: | ---: | ---: | ---: |")
            for entry in perClass {
                let earlier = before[entry.label].map { NumberFormat.fixed($0, decimals: 3) } ?? "–"
                lines.append("| \(entry.label) | \(entry.samples) | \(NumberFormat.fixed(entry.accuracy, decimals: 3)) | \(earlier) |")
            }
            lines.append("")
        }
        lines.append("| layer | CKA with reference | probe accuracy | probe accuracy at step \(first.step) | participation ratio |")
        lines.append("| --- | ---: | ---: | ---: | ---: |")
        for (index, layer) in last.layers.enumerated() {
            let before = first.layers.indices.contains(index) ? NumberFormat.fixed(first.layers[index].probeAccuracy, decimals: 3) : "–"
            let cells = [layer.name, NumberFormat.fixed(layer.ckaToReference, decimals: 3),
                         NumberFormat.fixed(layer.probeAccuracy, decimals: 3), before,
                         NumberFormat.fixed(layer.participationRatio, decimals: 1)]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += [
            "", "## Over training", "",
            "How far each layer has moved from the reference (1: the same representation up to rotation and scale):",
            "", "![CKA to the reference](cka_to_reference.svg)", "",
            "How well a linear classifier reads the classes out of each layer, with the model's own accuracy dashed:",
            "", "![Linear-probe accuracy](probe_accuracy.svg)", "",
            "How many dimensions each layer's activity effectively spans:",
            "", "![Participation ratio](participation_ratio.svg)", "",
        ]
        if log.records.contains(where: { $0.loss != nil }) { lines += ["![Training loss](loss.svg)", ""] }
        lines.append("Every number is in `log.json`.")
        return lines.joined(separator: "\n") + "\n"
    }
}
