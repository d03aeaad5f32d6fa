/// Points in two dimensions (e.g. the first two principal components of a layer), coloured
/// by an integer class label, with a legend of class names.
public struct ScatterPlot: Sendable {
    public var title: String?
    public var x: [Double]
    public var y: [Double]
    /// Class of each point; colours come from `Palette.color(_:)` by label value.
    public var labels: [Int]
    /// Name of class `k` at index `k`; missing names read "class k".
    public var classNames: [String]
    public var xTitle: String?
    public var yTitle: String?
    public var pointRadius: Double
    public var opacity: Double
    public var plotWidth: Double
    public var plotHeight: Double
    /// Fixed axis ranges; `nil` fits the points.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Draws the line y = x (dashed), e.g. for plots of one quantity against another.
    public var showsDiagonal = false

    /// `x`, `y` and `labels` are read in parallel up to the shortest of them.
    public init(
        title: String? = nil, x: [Double], y: [Double], labels: [Int], classNames: [String] = [],
        xTitle: String? = nil, yTitle: String? = nil, pointRadius: Double = 2.5, opacity: Double = 0.6,
        plotWidth: Double = 420, plotHeight: Double = 380
    ) {
        self.title = title
        self.x = x
        self.y = y
        self.labels = labels
        self.classNames = classNames
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.pointRadius = pointRadius
        self.opacity = opacity
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
    }

    /// Name shown for class `label`.
    func name(of label: Int) -> String {
        classNames.indices.contains(label) ? classNames[label] : "class \(label)"
    }

    public func svg() -> String {
        let count = min(x.count, y.count, labels.count)
        let classes = Array(Set(labels.prefix(count))).sorted()
        let legend = Legend(
            title: nil, entries: classes.map { Legend.Entry(label: name(of: $0), color: Palette.color($0), symbol: .dot) })
        let frame = PlotFrame(
            x: .linear(title: xTitle, values: Array(x.prefix(count)), fixed: xRange, snapsToTicks: false),
            y: .linear(title: yTitle, values: Array(y.prefix(count)), fixed: yRange, snapsToTicks: false),
            width: plotWidth, height: plotHeight, title: title, legend: legend)
        return SVGWriter.fitted(padding: 12) { svg in
            frame.draw(into: &svg)
            frame.clipped(&svg) { svg in
                if showsDiagonal {
                    let low = max(frame.x.lower, frame.y.lower), high = min(frame.x.upper, frame.y.upper)
                    if high > low, let a = frame.position(x: low, y: low), let b = frame.position(x: high, y: high) {
                        svg.line(x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: "#888888", width: 1, dash: "4 3")
                    }
                }
                svg.open("g", [("fill-opacity", SVGWriter.number(opacity)), ("class", "points")])
                for i in 0..<count {
                    guard let point = frame.position(x: x[i], y: y[i]) else { continue }
                    svg.circle(cx: point.x, cy: point.y, r: pointRadius, fill: Palette.color(labels[i]).hex)
                }
                svg.close()
            }
        }.document(title: title)
    }
}
