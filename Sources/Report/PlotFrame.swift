import Foundation

/// The frame shared by line charts and scatter plots: a plot area with its origin at
/// (0, 0), grid lines, axes with ticks and labels, axis titles, a title above and a legend
/// to the right. Charts draw their data inside with `position(x:y:)` and `clipped(_:)`.
struct PlotFrame: Sendable {
    var x: PlotAxis
    var y: PlotAxis
    var width: Double
    var height: Double
    var title: String?
    var legend: Legend

    static let tickFontSize = 11.0
    static let titleFontSize = 12.0
    static let maxCategoryCharacters = 24

    /// Plot-area coordinates of a data point, or `nil` when either value has no place on its axis.
    func position(x xValue: Double, y yValue: Double) -> (x: Double, y: Double)? {
        guard let fx = x.fraction(of: xValue), let fy = y.fraction(of: yValue) else { return nil }
        return (fx * width, (1 - fy) * height)
    }

    /// Runs `draw` inside a group clipped to the plot area; what it draws does not count
    /// towards the figure's size, since anything outside is cut off.
    func clipped(_ svg: inout SVGWriter, _ draw: (inout SVGWriter) -> Void) {
        svg.open("defs")
        svg.open("clipPath", [("id", "plot-area")])
        svg.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
        svg.close()
        svg.close()
        svg.open("g", [("clip-path", "url(#plot-area)")])
        svg.measuresExtent = false
        draw(&svg)
        svg.measuresExtent = true
        svg.close()
    }

    /// Everything except the data: grid, axes, ticks, labels, titles and legend.
    func draw(into svg: inout SVGWriter) {
        let font = Self.tickFontSize
        // Grid lines under the data.
        for position in y.minorTicks {
            let py = (1 - y.fraction(ofPosition: position)) * height
            svg.line(x1: 0, y1: py, x2: width, y2: py, stroke: "#f0f0f0")
        }
        for tick in y.ticks {
            let py = (1 - y.fraction(ofPosition: tick.position)) * height
            svg.line(x1: 0, y1: py, x2: width, y2: py, stroke: "#e0e0e0")
        }
        if x.scale != .categorical {
            for tick in x.ticks {
                let px = x.fraction(ofPosition: tick.position) * width
                svg.line(x1: px, y1: 0, x2: px, y2: height, stroke: "#e0e0e0")
            }
        }

        // Axis lines, ticks and tick labels.
        svg.line(x1: 0, y1: height, x2: width, y2: height, stroke: "#444444")
        svg.line(x1: 0, y1: 0, x2: 0, y2: height, stroke: "#444444")
        var yLabelsWidth = 0.0
        for tick in y.ticks {
            let py = (1 - y.fraction(ofPosition: tick.position)) * height
            svg.line(x1: -4, y1: py, x2: 0, y2: py, stroke: "#444444")
            svg.text(tick.label, x: -7, y: py + 0.35 * font, size: font, anchor: .end, className: "tick-label")
            yLabelsWidth = max(yLabelsWidth, TextMetrics.width(tick.label, fontSize: font))
        }
        for position in y.minorTicks {
            let py = (1 - y.fraction(ofPosition: position)) * height
            svg.line(x1: -2, y1: py, x2: 0, y2: py, stroke: "#444444")
        }
        let labelsBottom = drawXTicks(into: &svg)

        if let title = x.title {
            svg.text(title, x: width / 2, y: labelsBottom + 8 + 0.8 * Self.titleFontSize, size: Self.titleFontSize, anchor: .middle, className: "axis-title")
        }
        if let title = y.title {
            svg.text(title, x: -(7 + yLabelsWidth + 10), y: height / 2, size: Self.titleFontSize, anchor: .middle, rotation: -90, className: "axis-title")
        }
        if let title {
            svg.text(title, x: width / 2, y: -16, size: 15, anchor: .middle, bold: true, className: "title")
        }
        legend.draw(into: &svg, x: width + 24, y: 0, maxHeight: max(height, 200))
    }

    /// X ticks and their labels; category names turn 45° or 90°, and only every k-th is
    /// written when even that would overlap. Returns the lowest point of the labels.
    private func drawXTicks(into svg: inout SVGWriter) -> Double {
        let font = Self.tickFontSize
        var bottom = height
        guard x.scale == .categorical else {
            for tick in x.ticks {
                let px = x.fraction(ofPosition: tick.position) * width
                svg.line(x1: px, y1: height, x2: px, y2: height + 4, stroke: "#444444")
                svg.text(tick.label, x: px, y: height + 7 + 0.8 * font, size: font, anchor: .middle, className: "tick-label")
                bottom = height + 7 + font
            }
            return bottom
        }
        let full = x.ticks.map(\.label)
        let labels = TextMetrics.shortened(full, maxCharacters: Self.maxCategoryCharacters)
        let spacing = width / max(Double(labels.count), 1)
        let rotation: Double
        var every = 1
        if TextMetrics.maximumWidth(labels, fontSize: font) <= spacing - 6 {
            rotation = 0
        } else if spacing >= 1.55 * font {
            rotation = -45
        } else {
            rotation = -90
            every = max(1, Int((1.15 * font / spacing).rounded(.up)))
        }
        let angle = rotation * Double.pi / 180
        for (k, tick) in x.ticks.enumerated() {
            let px = x.fraction(ofPosition: tick.position) * width
            svg.line(x1: px, y1: height, x2: px, y2: height + 4, stroke: "#444444")
            guard k % every == 0 else { continue }
            let lx = rotation == 0 ? px : px - 0.35 * font * sin(angle)
            let ly = rotation == 0 ? height + 7 + 0.8 * font : height + 8 + 0.35 * font * cos(angle)
            let anchor: SVGWriter.TextAnchor = rotation == 0 ? .middle : .end
            svg.text(
                labels[k], x: lx, y: ly, size: font, anchor: anchor, rotation: rotation, className: "tick-label",
                tooltip: labels[k] == full[k] ? nil : full[k])
            bottom = max(bottom, Bounds.text(labels[k], x: lx, y: ly, size: font, anchor: anchor, rotation: rotation).maxY)
        }
        return bottom
    }
}
