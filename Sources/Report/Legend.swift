/// A column of legend entries (a line or dot in the entry's colour, then its name) drawn
/// beside a plot, outside the data.
struct Legend: Sendable {
    struct Entry: Sendable {
        enum Symbol: Sendable {
            /// A short line, dashed or not, optionally with a marker dot.
            case line(dashed: Bool, marker: Bool)
            /// A dot, as for scatter-plot classes.
            case dot
        }

        var label: String
        var color: RGBColor
        var symbol: Symbol
    }

    var title: String?
    var entries: [Entry]
    static let fontSize = 11.0
    static let rowHeight = 18.0
    static let maxLabelCharacters = 32

    /// Draws the legend with its top-left corner at `(x, y)`, in as many columns as it
    /// takes to stay within `maxHeight`.
    func draw(into svg: inout SVGWriter, x: Double, y: Double, maxHeight: Double = .infinity) {
        guard !entries.isEmpty else { return }
        var top = y
        if let title {
            svg.text(title, x: x, y: top + 0.8 * 12, size: 12, className: "legend-title")
            top += 20
        }
        let labels = TextMetrics.shortened(entries.map(\.label), maxCharacters: Self.maxLabelCharacters)
        let perColumn = max(1, min(entries.count, Int((maxHeight - (top - y)) / Self.rowHeight)))
        var left = x
        for start in stride(from: 0, to: entries.count, by: perColumn) {
            let range = start..<min(start + perColumn, entries.count)
            for k in range {
                drawEntry(entries[k], label: labels[k], into: &svg, x: left, centre: top + (Double(k - start) + 0.5) * Self.rowHeight)
            }
            left += 34 + TextMetrics.maximumWidth(Array(labels[range]), fontSize: Self.fontSize) + 16
        }
    }

    private func drawEntry(_ entry: Entry, label: String, into svg: inout SVGWriter, x: Double, centre: Double) {
        let color = entry.color.hex
        switch entry.symbol {
        case .line(let dashed, let marker):
            svg.line(x1: x, y1: centre, x2: x + 26, y2: centre, stroke: color, width: 2, dash: dashed ? "6 3" : nil)
            if marker { svg.circle(cx: x + 13, cy: centre, r: 3, fill: color) }
        case .dot:
            svg.circle(cx: x + 13, cy: centre, r: 4.5, fill: color)
        }
        svg.text(
            label, x: x + 34, y: centre + 0.35 * Self.fontSize, size: Self.fontSize, className: "legend-label",
            tooltip: label == entry.label ? nil : entry.label)
    }
}
