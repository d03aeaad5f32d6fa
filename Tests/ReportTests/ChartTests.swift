import Foundation
import Report
import Testing

@Suite struct ChartTests {
    static let layers = ["conv1", "layer1", "layer2", "layer3", "layer4", "fc"]

    static var probeChart: LineChart {
        LineChart(
            title: "Linear probe accuracy", categories: layers,
            series: [
                .init(name: "model A", values: [0.31, 0.45, 0.62, 0.78, 0.88, 0.93]),
                .init(name: "model B", values: [0.28, 0.41, .nan, 0.70, 0.81, 0.86]),
                .init(name: "shuffled <labels>", values: [0.1, 0.11, 0.1, 0.09, 0.1, 0.1], dashed: true),
            ],
            xTitle: "layer", yTitle: "accuracy", yRange: 0...1, referenceLine: .init(value: 0.1, label: "chance & level"))
    }

    @Test func lineChartIsWellFormedDeterministicAndEscaped() throws {
        let svg = Self.probeChart.svg()
        #expect(svg == Self.probeChart.svg())
        #expect(svg.contains("shuffled &lt;labels&gt;") && svg.contains("chance &amp; level"))
        let document = try #require(SVGDocument(svg))
        #expect(document.all("text", class: "tick-label").map(\.text).prefix(6) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        // The NaN splits model B into two lines and has no marker.
        #expect(document.all("polyline").count == 4)
        #expect(document.all("circle", class: "marker").count == 17)
        #expect(document.all("line").contains { $0.attributes["stroke-dasharray"] == "6 3" })
        for text in document.all("text") {
            #expect(TextBox(text).isInside(width: document.width, height: document.height), "\(text.text) is clipped")
        }
    }

    @Test func logAxisSkipsValuesThatAreNotPositive() throws {
        let chart = LineChart(
            series: [.init(name: "spectrum", values: [0.5, 0.2, 0, 0.01, -1, 0.001])], xTitle: "component",
            yTitle: "explained variance", yScale: .logarithmic)
        let document = try #require(SVGDocument(chart.svg()))
        #expect(document.all("circle", class: "marker").count == 4)
        let labels = document.all("text", class: "tick-label").map(\.text)
        #expect(labels.contains("10⁻³") && labels.contains("10⁰") && !labels.contains("10⁻⁴"))
    }

    @Test func scatterPlotDrawsEveryPointWithAClassLegend() throws {
        var generator = SplitMix(seed: 7)
        let n = 2000
        let labels = (0..<n).map { $0 % 10 }
        let x = labels.map { Double($0) + generator.normal() }
        let y = labels.map { Double($0 % 3) + generator.normal() }
        let names = (0..<10).map { "digit \($0)" }
        let plot = ScatterPlot(title: "PC1 × PC2", x: x, y: y, labels: labels, classNames: names, xTitle: "PC 1", yTitle: "PC 2")
        let svg = plot.svg()
        #expect(svg == plot.svg())
        let document = try #require(SVGDocument(svg))
        #expect(document.elements.filter { $0.name == "circle" && $0.ancestorClasses.first == "points" }.count == n)
        #expect(document.all("text", class: "legend-label").map(\.text) == names)
        #expect(Set(document.all("circle").compactMap { $0.attributes["fill"] }).count == 10)
    }

    @Test func longLegendsWrapIntoColumns() throws {
        let series = (0..<40).map { LineChart.Series(name: "layer \($0)", values: [1, 0.5, 0.25], showsMarkers: false) }
        let document = try #require(SVGDocument(LineChart(series: series, yScale: .logarithmic, plotHeight: 200).svg()))
        let labels = document.all("text", class: "legend-label")
        #expect(labels.count == 40)
        #expect(Set(labels.map { $0.number("x") }).count == 4)
        #expect(labels.allSatisfy { TextBox($0).isInside(width: document.width, height: document.height) })
    }

    @Test func emptyChartsStillDraw() throws {
        #expect(SVGDocument(LineChart(title: "none", series: []).svg()) != nil)
        #expect(SVGDocument(ScatterPlot(x: [], y: [], labels: []).svg()) != nil)
        #expect(SVGDocument(ImageGrid(images: []).svg()) != nil)
    }

    @Test(arguments: [6, 60, 200])
    func categoryLabelsNeverOverlap(count: Int) throws {
        let names = (0..<count).map { "encoder.layers.\($0).self_attn.out_proj" }
        let chart = LineChart(categories: names, series: [.init(name: "accuracy", values: names.indices.map { Double($0) })])
        let document = try #require(SVGDocument(chart.svg()))
        let labels = document.all("text", class: "tick-label").filter { $0.attributes["transform"] != nil }.map(TextBox.init)
        #expect(labels.count >= min(count, 50))
        for i in labels.indices {
            for j in labels.indices where j > i {
                #expect(!labels[i].overlaps(labels[j]))
            }
            #expect(labels[i].isInside(width: document.width, height: document.height))
        }
    }

    @Test func numericXUsesTheGivenPositions() throws {
        let chart = LineChart(series: [.init(name: "loss", values: [3, 2, 1], x: [0.5, 1, 2.5])], xTitle: "epoch")
        let document = try #require(SVGDocument(chart.svg()))
        let markers = document.all("circle", class: "marker").map { $0.number("cx") }
        // 0.5, 1 and 2.5 on an axis from 0 to 2.5: the gaps are in the ratio 0.5 : 1.5.
        #expect(abs((markers[2] - markers[1]) / (markers[1] - markers[0]) - 3) < 0.05)
        #expect(document.all("text", class: "tick-label").map(\.text).contains("2.5"))
    }
}
