/// Counts in bins along a numeric axis, drawn as adjacent bars: the distribution of one
/// quantity (preferred orientations, spatial frequencies).
public struct Histogram: Sendable {
    public var title: String?
    /// Bin edges, increasing; bin `k` is `edges[k]..<edges[k + 1]`.
    public var edges: [Double]
    /// One count per bin.
    public var counts: [Double]
    public var xTitle: String?
    public var yTitle: String?
    public var color: RGBColor
    public var plotWidth: Double
    public var plotHeight: Double

    public init(title: String? = nil, edges: [Double], counts: [Double], xTitle: String? = nil, yTitle: String? = "count",
                color: RGBColor = Palette.color(0), plotWidth: Double = 360, plotHeight: Double = 220) {
        self.title = title
        self.edges = edges
        self.counts = counts
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.color = color
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
    }

    /// Counts of `values` in `bins` equal bins over `range` (values outside are left out,
    /// the upper end counts in the last bin).
    public static func counts(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> (edges: [Double], counts: [Double]) {
        let width = (range.upperBound - range.lowerBound) / Double(max(bins, 1))
        let edges = (0...max(bins, 1)).map { range.lowerBound + Double($0) * width }
        var counts = [Double](repeating: 0, count: max(bins, 1))
        for value in values where value.isFinite && range.contains(value) && width > 0 {
            counts[min(Int((value - range.lowerBound) / width), counts.count - 1)] += 1
        }
        return (edges, counts)
    }

    public func svg() -> String {
        let bars = min(counts.count, max(edges.count - 1, 0))
        let lower = edges.first ?? 0, upper = edges.last ?? 1
        let top = counts.prefix(bars).filter(\.isFinite).max() ?? 0
        let frame = PlotFrame(
            x: .linear(title: xTitle, values: [lower, upper], fixed: upper > lower ? lower...upper : nil),
            y: .linear(title: yTitle, values: [0, max(top, 1)]),
            width: plotWidth, height: plotHeight, title: title, legend: Legend(title: nil, entries: []))
        return SVGWriter.fitted(padding: 12) { svg in
            frame.draw(into: &svg)
            frame.clipped(&svg) { svg in
                svg.open("g", [("class", "bars")])
                for k in 0..<bars where counts[k].isFinite && counts[k] > 0 {
                    guard let low = frame.position(x: edges[k], y: counts[k]), let high = frame.position(x: edges[k + 1], y: 0) else { continue }
                    svg.rect(x: low.x, y: low.y, width: max(high.x - low.x - 1, 0.5), height: high.y - low.y, fill: color.hex,
                             tooltip: "\(NumberFormat.fixed(edges[k], decimals: 3))–\(NumberFormat.fixed(edges[k + 1], decimals: 3)): \(NumberFormat.fixed(counts[k], decimals: 0))")
                }
                svg.close()
            }
        }.document(title: title)
    }
}
