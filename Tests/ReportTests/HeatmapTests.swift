import Foundation
import Report
import Testing

extension SVGDocument {
    /// The rects of a heat map's cells.
    var cells: [Element] { elements.filter { $0.name == "rect" && $0.ancestorClasses.first == "cells" } }
}

@Suite struct HeatmapTests {
    /// A square matrix of CKA-like values that fall away from the diagonal.
    static func matrix(_ n: Int, names: (Int) -> String) -> LabelledMatrix {
        let labels = (0..<n).map(names)
        let values = (0..<n).map { i in (0..<n).map { j in 1 / (1 + 0.3 * Double(abs(i - j))) } }
        return LabelledMatrix(rowLabels: labels, columnLabels: labels, values: values)
    }

    static let small = matrix(3) { "layer\($0 + 1).0.conv2" }
    static let large = matrix(60) { "/blocks/blocks.\($0)/attn/Softmax_output_0" }

    @Test(arguments: [small, large])
    func oneRectPerCellAndLabelsApartInsideTheFigure(matrix: LabelledMatrix) throws {
        let svg = Heatmap(matrix: matrix, title: "Linear CKA").svg()
        let document = try #require(SVGDocument(svg))
        let n = matrix.rowLabels.count
        #expect(document.cells.count == n * n)
        #expect(document.viewBox == [0, 0, document.width, document.height])

        let columns = document.all("text", class: "column-label").map(TextBox.init)
        let rows = document.all("text", class: "row-label").map(TextBox.init)
        #expect(columns.count == n && rows.count == n)
        for labels in [columns, rows] {
            for i in labels.indices {
                for j in labels.indices where j > i {
                    #expect(!labels[i].overlaps(labels[j]), "labels \(i) and \(j) overlap")
                }
            }
        }
        for text in document.all("text") {
            #expect(TextBox(text).isInside(width: document.width, height: document.height), "\(text.text) is clipped")
        }
    }

    @Test func longLabelsAreShortenedWithTheFullNameAsTooltip() throws {
        let document = try #require(SVGDocument(Heatmap(matrix: Self.large).svg()))
        let labels = document.all("text", class: "column-label")
        for (k, label) in labels.enumerated() {
            let full = Self.large.columnLabels[k]
            #expect(label.text.count <= full.count)
            if label.text != full {
                #expect(label.text.contains("…"))
                #expect(label.tooltip == full)
            }
        }
        // Shortened labels stay distinct.
        #expect(Set(labels.map(\.text)).count == labels.count)
    }

    @Test func smallMatricesShowValuesAndMarkers() throws {
        let heatmap = Heatmap(matrix: Self.small, markedCells: Heatmap.rowMaxima(of: Self.small))
        let document = try #require(SVGDocument(heatmap.svg()))
        #expect(document.all("text", class: "value").map(\.text).prefix(3) == ["1.00", "0.77", "0.62"])
        #expect(document.all("rect", class: "marker").count == 3)
        // No values in a 60 × 60 grid.
        let large = try #require(SVGDocument(Heatmap(matrix: Self.large).svg()))
        #expect(large.all("text", class: "value").isEmpty)
    }

    @Test func rowMaximaSkipNaN() {
        let matrix = LabelledMatrix(rowLabels: ["a", "b", "c"], columnLabels: ["x", "y"], values: [[.nan, 0.2], [0.5, 0.5], [.nan, .nan]])
        #expect(Heatmap.rowMaxima(of: matrix) == [Heatmap.Cell(row: 0, column: 1), Heatmap.Cell(row: 1, column: 0)])
    }

    @Test func missingValuesAreGreyWithANote() throws {
        let matrix = LabelledMatrix(rowLabels: ["a", "b"], columnLabels: ["x", "y"], values: [[0.9, .nan], [0.1, 0.4]])
        let document = try #require(SVGDocument(Heatmap(matrix: matrix).svg()))
        let fills = document.cells.map { $0.attributes["fill"] ?? "" }
        #expect(fills[1] == "#d9d9d9")
        #expect(fills.filter { $0 == "#d9d9d9" }.count == 1)
        #expect(document.all("text", class: "legend-note").map(\.text) == ["no value (NaN)"])
        #expect(document.all("text", class: "value").count == 3)
    }

    @Test func labelsAreEscaped() throws {
        let name = "a<&>\"'b"
        let matrix = LabelledMatrix(rowLabels: [name], columnLabels: [name], values: [[0.5]])
        let svg = Heatmap(matrix: matrix, title: name, legendTitle: name).svg()
        #expect(svg.contains("a&lt;&amp;&gt;&quot;&apos;b"))
        #expect(!svg.contains(name))
        let document = try #require(SVGDocument(svg))
        #expect(document.all("text", class: "row-label").first?.text == name)
        #expect(document.all("text", class: "title").first?.text == name)
    }

    @Test func cellsHaveTooltipsOnlyInSmallMaps() throws {
        let small = try #require(SVGDocument(Heatmap(matrix: Self.small).svg()))
        #expect(small.cells.first?.tooltip == "layer1.0.conv2 × layer1.0.conv2: 1.0000")
        let large = try #require(SVGDocument(Heatmap(matrix: Self.large).svg()))
        #expect(large.cells.allSatisfy { $0.tooltip == nil })
    }

    @Test func emptyMatrixStillDraws() throws {
        let empty = LabelledMatrix(rowLabels: [], columnLabels: [], values: [])
        let document = try #require(SVGDocument(Heatmap(matrix: empty, title: "nothing").svg()))
        #expect(document.cells.isEmpty && document.width > 0)
    }

    @Test func renderingIsDeterministic() {
        let heatmap = Heatmap(matrix: Self.large, title: "CKA", markedCells: Heatmap.rowMaxima(of: Self.large))
        #expect(heatmap.svg() == heatmap.svg())
    }

    @Test func documentHeader() {
        let svg = Heatmap(matrix: Self.small).svg()
        #expect(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""))
        #expect(svg.contains("fill=\"#ffffff\"/>"))
        // No number in exponent notation.
        #expect(svg.range(of: "[0-9]e[-+]?[0-9]", options: .regularExpression) == nil)
    }
}
