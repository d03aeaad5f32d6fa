import Foundation

/// A heat map of a labelled matrix (typically CKA between the layers of two models), with a
/// colour bar, axis titles, row and column labels, and optional markers and cell values.
///
/// Cell and font sizes follow the number of layers, so 3 and 60 layers are both legible;
/// column labels turn 45° or 90° when they would not fit side by side, and labels that are
/// too long are cut in the middle with the full text kept as a tooltip.
public struct Heatmap: Sendable {
    /// One cell, by row and column index.
    public struct Cell: Hashable, Sendable {
        public var row: Int
        public var column: Int

        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }
    }

    /// How marked cells are drawn.
    public enum MarkerStyle: Sendable {
        /// A square outline just inside the cell.
        case outline
        /// A small filled dot.
        case dot
    }

    public var matrix: LabelledMatrix
    public var title: String?
    /// Title of the colour bar.
    public var legendTitle: String
    /// Values mapped to the ends of the colour map; `nil` uses the finite minimum and maximum.
    public var valueRange: ClosedRange<Double>?
    public var colorMap: ColorMap
    /// Title beside the row labels (the model whose layers are the rows).
    public var rowAxisTitle: String?
    /// Title under the column labels.
    public var columnAxisTitle: String?
    /// Cells to mark, e.g. `Heatmap.rowMaxima(of:)` for each row's best match.
    public var markedCells: [Cell]
    public var markerStyle: MarkerStyle
    /// What the marker means, shown under the colour bar when cells are marked.
    public var markerLabel: String?
    /// Whether values are written in the cells; `nil` writes them for matrices up to 12 × 12.
    public var showsValues: Bool?
    public var valueDecimals: Int
    /// Labels longer than this are shortened in the middle.
    public var maxLabelCharacters: Int
    /// Whether each cell carries a tooltip with its labels and value; `nil` adds them up to 625 cells.
    public var cellTooltips: Bool?

    public init(
        matrix: LabelledMatrix, title: String? = nil, legendTitle: String = "CKA", valueRange: ClosedRange<Double>? = 0...1,
        colorMap: ColorMap = .viridis, rowAxisTitle: String? = "model A", columnAxisTitle: String? = "model B",
        markedCells: [Cell] = [], markerStyle: MarkerStyle = .outline, markerLabel: String? = "best match in row",
        showsValues: Bool? = nil, valueDecimals: Int = 2, maxLabelCharacters: Int = 28, cellTooltips: Bool? = nil
    ) {
        self.matrix = matrix
        self.title = title
        self.legendTitle = legendTitle
        self.valueRange = valueRange
        self.colorMap = colorMap
        self.rowAxisTitle = rowAxisTitle
        self.columnAxisTitle = columnAxisTitle
        self.markedCells = markedCells
        self.markerStyle = markerStyle
        self.markerLabel = markerLabel
        self.showsValues = showsValues
        self.valueDecimals = valueDecimals
        self.maxLabelCharacters = maxLabelCharacters
        self.cellTooltips = cellTooltips
    }

    /// The cell with the largest value in each row (first one on ties; rows of NaN have none).
    public static func rowMaxima(of matrix: LabelledMatrix) -> [Cell] {
        matrix.values.enumerated().compactMap { i, row in
            let finite = row.indices.filter { row[$0].isFinite }
            return finite.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }.map { Cell(row: i, column: $0) }
        }
    }

    // MARK: - Sizes

    /// Side of one cell: large for a few layers, down to 10 px so 60 layers fit in 600 px.
    var cellSize: Double {
        let n = max(matrix.rowLabels.count, matrix.columnLabels.count, 1)
        return min(max((600 / Double(n)).rounded(.down), 10), 48)
    }

    /// Font size of row and column labels: at most 80% of a cell, so neighbours never touch.
    var labelSize: Double { min(12, cellSize * 0.8) }

    /// The colour-map range actually used.
    var resolvedRange: ClosedRange<Double> {
        if let valueRange, valueRange.upperBound > valueRange.lowerBound { return valueRange }
        let finite = matrix.values.joined().filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        return high > low ? low...high : (low - 0.5)...(high + 0.5)
    }

    /// Rotation of the column labels in degrees (0, -45 or -90).
    func columnLabelRotation(_ labels: [String]) -> Double {
        if TextMetrics.maximumWidth(labels, fontSize: labelSize) <= cellSize - 4 { return 0 }
        // Parallel labels at 45° are cellSize·sin 45° apart; they need a little more than one font size.
        return labelSize <= 0.65 * cellSize ? -45 : -90
    }

    // MARK: - Drawing

    public func svg() -> String {
        SVGWriter.fitted(padding: 12) { draw(into: &$0) }.document(title: title)
    }

    /// Draws with the top-left corner of the grid at (0, 0); labels and legend lie around it.
    private func draw(into svg: inout SVGWriter) {
        let rows = matrix.rowLabels.count, columns = matrix.columnLabels.count
        let cell = cellSize, font = labelSize
        let gridWidth = Double(columns) * cell, gridHeight = Double(rows) * cell
        let range = resolvedRange

        drawCells(into: &svg)

        // Row labels, right-aligned against the grid.
        let rowLabels = TextMetrics.shortened(matrix.rowLabels, maxCharacters: maxLabelCharacters)
        for (i, label) in rowLabels.enumerated() {
            let full = matrix.rowLabels[i]
            svg.text(
                label, x: -6, y: (Double(i) + 0.5) * cell + 0.35 * font, size: font, anchor: .end,
                className: "row-label", tooltip: label == full ? nil : full)
        }

        // Column labels under the grid, turned when they would not fit side by side.
        let columnLabels = TextMetrics.shortened(matrix.columnLabels, maxCharacters: maxLabelCharacters)
        let rotation = columnLabelRotation(columnLabels)
        let angle = rotation * Double.pi / 180
        var labelsBottom = gridHeight
        for (j, label) in columnLabels.enumerated() {
            let full = matrix.columnLabels[j]
            let centre = (Double(j) + 0.5) * cell
            // Shift the baseline so the glyphs, not the baseline, are centred on the column.
            let x = rotation == 0 ? centre : centre - 0.35 * font * sin(angle)
            let y = rotation == 0 ? gridHeight + 4 + 0.8 * font : gridHeight + 6 + 0.35 * font * cos(angle)
            let anchor: SVGWriter.TextAnchor = rotation == 0 ? .middle : .end
            svg.text(
                label, x: x, y: y, size: font, anchor: anchor, rotation: rotation,
                className: "column-label", tooltip: label == full ? nil : full)
            labelsBottom = max(labelsBottom, Bounds.text(label, x: x, y: y, size: font, anchor: anchor, rotation: rotation).maxY)
        }

        // Axis titles.
        if let columnAxisTitle {
            svg.text(columnAxisTitle, x: gridWidth / 2, y: labelsBottom + 8 + 0.8 * 12, size: 12, anchor: .middle, className: "axis-title")
        }
        if let rowAxisTitle {
            let labelsWidth = TextMetrics.maximumWidth(rowLabels, fontSize: font)
            svg.text(
                rowAxisTitle, x: -(6 + labelsWidth + 10), y: gridHeight / 2, size: 12, anchor: .middle, rotation: -90,
                className: "axis-title")
        }

        drawLegend(into: &svg, left: gridWidth + 20, range: range)

        if let title {
            svg.text(title, x: gridWidth / 2, y: -30, size: 15, anchor: .middle, bold: true, className: "title")
        }
    }

    private func drawCells(into svg: inout SVGWriter) {
        let cell = cellSize, range = resolvedRange
        let rows = matrix.rowLabels.count, columns = matrix.columnLabels.count
        let marked = Set(markedCells)
        let valuesShown = showsValues ?? (rows <= 12 && columns <= 12)
        let valueSize = valueFontSize()

        // Tooltips on every cell would make large maps several hundred kilobytes.
        let tooltips = cellTooltips ?? (rows * columns <= 625)
        svg.open("g", [("class", "cells"), ("shape-rendering", "crispEdges")])
        for (i, row) in matrix.values.enumerated() {
            for (j, value) in row.enumerated() {
                let fill = value.isNaN ? Self.missingColor.hex : colorMap.color(for: value, in: range).hex
                let rowLabel = matrix.rowLabels.indices.contains(i) ? matrix.rowLabels[i] : ""
                let columnLabel = matrix.columnLabels.indices.contains(j) ? matrix.columnLabels[j] : ""
                let tip = tooltips ? "\(rowLabel) × \(columnLabel): \(NumberFormat.fixed(value, decimals: 4))" : nil
                svg.rect(x: Double(j) * cell, y: Double(i) * cell, width: cell, height: cell, fill: fill, tooltip: tip)
            }
        }
        svg.close()

        for (i, row) in matrix.values.enumerated() {
            for (j, value) in row.enumerated() {
                let x = Double(j) * cell, y = Double(i) * cell
                let ink = value.isNaN ? RGBColor.black : colorMap.color(for: value, in: range).contrastingText
                if valuesShown, let valueSize, value.isFinite {
                    svg.text(
                        NumberFormat.fixed(value, decimals: valueDecimals), x: x + cell / 2, y: y + cell / 2 + 0.35 * valueSize,
                        size: valueSize, anchor: .middle, fill: ink.hex, className: "value")
                }
                if marked.contains(Cell(row: i, column: j)) {
                    drawMarker(into: &svg, x: x, y: y, size: cell, ink: ink, besideText: valuesShown && valueSize != nil)
                }
            }
        }
    }

    /// Font size for values in cells, or `nil` when cells are too small for them.
    private func valueFontSize() -> Double? {
        let longest = matrix.values.joined().filter(\.isFinite).map { NumberFormat.fixed($0, decimals: valueDecimals).count }.max() ?? 1
        let size = min(12, (cellSize - 6) / (TextMetrics.characterWidth * Double(longest)))
        return size >= 7 ? size : nil
    }

    private func drawMarker(into svg: inout SVGWriter, x: Double, y: Double, size: Double, ink: RGBColor, besideText: Bool) {
        switch markerStyle {
        case .outline:
            let inset = max(1.5, size * 0.1), width = max(1, size * 0.04)
            svg.rect(
                x: x + inset, y: y + inset, width: size - 2 * inset, height: size - 2 * inset, fill: "none",
                stroke: ink.hex, strokeWidth: width, extra: [("class", "marker")])
        case .dot:
            let r = max(1.5, size * (besideText ? 0.08 : 0.16))
            let cx = besideText ? x + size - r - 3 : x + size / 2, cy = besideText ? y + r + 3 : y + size / 2
            svg.circle(cx: cx, cy: cy, r: r, fill: ink.hex, extra: [("class", "marker")])
        }
    }

    /// Colour bar with ticks and title, then notes for missing values and markers.
    private func drawLegend(into svg: inout SVGWriter, left: Double, range: ClosedRange<Double>) {
        let gridHeight = Double(matrix.rowLabels.count) * cellSize
        let barWidth = 16.0, barHeight = min(max(gridHeight, 150), 400)
        svg.text(legendTitle, x: left, y: -8, size: 12, className: "legend-title")

        svg.open("defs")
        svg.open("linearGradient", [("id", "heatmap-colour-bar"), ("x1", "0"), ("y1", "1"), ("x2", "0"), ("y2", "0")])
        let stops = colorMap.controlPoints
        for (k, color) in stops.enumerated() {
            let offset = Double(k) / Double(stops.count - 1)
            svg.element("stop", [("offset", SVGWriter.number(offset)), ("stop-color", color.hex)])
        }
        svg.close()
        svg.close()
        svg.rect(x: left, y: 0, width: barWidth, height: barHeight, fill: "url(#heatmap-colour-bar)", stroke: "#888888", strokeWidth: 0.5)

        let ticks = NiceTicks.linear(lower: range.lowerBound, upper: range.upperBound, targetCount: 5)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let decimals = NiceTicks.decimals(forStep: step)
        let span = range.upperBound - range.lowerBound
        for value in ticks {
            let y = barHeight * (1 - (value - range.lowerBound) / span)
            svg.line(x1: left + barWidth, y1: y, x2: left + barWidth + 4, y2: y, stroke: "#444444")
            svg.text(NumberFormat.fixed(value, decimals: decimals), x: left + barWidth + 7, y: y + 0.35 * 11, size: 11, className: "tick-label")
        }

        var noteY = barHeight + 18
        if matrix.values.joined().contains(where: \.isNaN) {
            svg.rect(x: left, y: noteY - 10, width: 12, height: 12, fill: Self.missingColor.hex, stroke: "#888888", strokeWidth: 0.5)
            svg.text("no value (NaN)", x: left + 18, y: noteY, size: 11, className: "legend-note")
            noteY += 18
        }
        if !markedCells.isEmpty, let markerLabel {
            let sample = 12.0
            svg.rect(x: left, y: noteY - 10, width: sample, height: sample, fill: "#ffffff", stroke: "#888888", strokeWidth: 0.5)
            drawMarkerSample(into: &svg, x: left, y: noteY - 10, size: sample)
            svg.text(markerLabel, x: left + 18, y: noteY, size: 11, className: "legend-note")
        }
    }

    private func drawMarkerSample(into svg: inout SVGWriter, x: Double, y: Double, size: Double) {
        switch markerStyle {
        case .outline:
            svg.rect(x: x + 2, y: y + 2, width: size - 4, height: size - 4, fill: "none", stroke: "#000000", strokeWidth: 1)
        case .dot:
            svg.circle(cx: x + size / 2, cy: y + size / 2, r: size * 0.2, fill: "#000000")
        }
    }

    /// Fill of cells without a value.
    static let missingColor = RGBColor(hex: 0xd9d9d9)
}
