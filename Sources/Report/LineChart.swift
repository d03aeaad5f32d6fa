/// Several series of values over ordered categories (layer names) or numbers, e.g. probe
/// accuracy per layer with a shuffled-labels control, or PCA spectra on a log axis.
public struct LineChart: Sendable {
    /// One line.
    public struct Series: Sendable {
        public var name: String
        /// One value per category, or per entry of `x`; NaN leaves a gap.
        public var values: [Double]
        /// Positions on a numeric x axis; `nil` places values at 1, 2, 3, ….
        public var x: [Double]?
        /// `nil` takes the next colour of `Palette`.
        public var color: RGBColor?
        /// Dashed, for controls and baselines.
        public var dashed: Bool
        /// A dot at each value.
        public var showsMarkers: Bool

        public init(
            name: String, values: [Double], x: [Double]? = nil, color: RGBColor? = nil, dashed: Bool = false,
            showsMarkers: Bool = true
        ) {
            self.name = name
            self.values = values
            self.x = x
            self.color = color
            self.dashed = dashed
            self.showsMarkers = showsMarkers
        }
    }

    /// A horizontal line across the plot, such as chance level, listed in the legend.
    public struct ReferenceLine: Sendable {
        public var value: Double
        public var label: String

        public init(value: Double, label: String) {
            self.value = value
            self.label = label
        }
    }

    public enum YScale: Sendable {
        case linear
        /// log10, with a tick at every decade; values ≤ 0 are left out.
        case logarithmic
    }

    public var title: String?
    /// Names along the x axis, in order; `nil` makes the x axis numeric.
    public var categories: [String]?
    public var series: [Series]
    public var xTitle: String?
    public var yTitle: String?
    /// Fixed y range (e.g. 0…1 for accuracy); `nil` fits the data. Ignored on a log axis.
    public var yRange: ClosedRange<Double>?
    /// Fixed x range of a numeric axis (`nil` fits the values).
    public var xRange: ClosedRange<Double>?
    public var yScale: YScale
    public var referenceLine: ReferenceLine?
    /// Size of the plot area; `nil` width grows with the number of categories.
    public var plotWidth: Double?
    public var plotHeight: Double

    public init(
        title: String? = nil, categories: [String]? = nil, series: [Series], xTitle: String? = nil, yTitle: String? = nil,
        yRange: ClosedRange<Double>? = nil, yScale: YScale = .linear, referenceLine: ReferenceLine? = nil,
        plotWidth: Double? = nil, plotHeight: Double = 300
    ) {
        self.title = title
        self.categories = categories
        self.series = series
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.yRange = yRange
        self.yScale = yScale
        self.referenceLine = referenceLine
        self.plotWidth = plotWidth
        self.plotHeight = plotHeight
    }

    public func svg() -> String {
        let frame = makeFrame()
        return SVGWriter.fitted(padding: 12) { svg in
            frame.draw(into: &svg)
            frame.clipped(&svg) { drawData(into: &$0, frame: frame) }
        }.document(title: title)
    }

    // MARK: - Layout

    /// X positions of the values of series `index`.
    func xValues(of series: Series) -> [Double] {
        if categories != nil { return series.values.indices.map(Double.init) }
        return series.x ?? series.values.indices.map { Double($0 + 1) }
    }

    func color(of index: Int) -> RGBColor {
        series[index].color ?? Palette.color(index)
    }

    private func makeFrame() -> PlotFrame {
        let xAxis: PlotAxis
        if let categories {
            xAxis = .categorical(title: xTitle, labels: categories)
        } else {
            xAxis = .linear(title: xTitle, values: series.flatMap { xValues(of: $0) }, fixed: xRange)
        }
        let allValues = series.flatMap(\.values) + (referenceLine.map { [$0.value] } ?? [])
        let yAxis: PlotAxis = yScale == .logarithmic
            ? .logarithmic(title: yTitle, values: allValues)
            : .linear(title: yTitle, values: allValues, fixed: yRange)
        let width = plotWidth ?? categories.map { min(max(Double($0.count) * 28, 360), 900) } ?? 480

        var entries = series.enumerated().map { k, s in
            Legend.Entry(label: s.name, color: color(of: k), symbol: .line(dashed: s.dashed, marker: s.showsMarkers))
        }
        if let referenceLine {
            entries.append(Legend.Entry(label: referenceLine.label, color: Self.referenceColor, symbol: .line(dashed: true, marker: false)))
        }
        return PlotFrame(x: xAxis, y: yAxis, width: width, height: plotHeight, title: title, legend: Legend(title: nil, entries: entries))
    }

    // MARK: - Data

    private func drawData(into svg: inout SVGWriter, frame: PlotFrame) {
        if let referenceLine, let y = frame.y.fraction(of: referenceLine.value) {
            let py = (1 - y) * frame.height
            svg.line(x1: 0, y1: py, x2: frame.width, y2: py, stroke: Self.referenceColor.hex, width: 1.5, dash: "3 3")
        }
        for (k, s) in series.enumerated() {
            let color = color(of: k).hex
            let xs = xValues(of: s)
            // Points that cannot be drawn (NaN, ≤ 0 on a log axis) split the line.
            var runs: [[(x: Double, y: Double)]] = [[]]
            for (x, y) in zip(xs, s.values) {
                if let point = frame.position(x: x, y: y) {
                    runs[runs.count - 1].append(point)
                } else if !(runs.last?.isEmpty ?? true) {
                    runs.append([])
                }
            }
            svg.open("g", [("class", "series")])
            for run in runs {
                svg.polyline(run, stroke: color, width: 2, dash: s.dashed ? "6 3" : nil)
            }
            if s.showsMarkers {
                for point in runs.joined() {
                    svg.circle(cx: point.x, cy: point.y, r: 3, fill: color, extra: [("class", "marker")])
                }
            }
            svg.close()
        }
    }

    static let referenceColor = RGBColor(hex: 0x777777)
}
