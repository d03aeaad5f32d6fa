import Report
import Testing

@Suite struct SVGWriterTests {
    @Test func numbersHaveNoExponentAndNoTrailingZeros() {
        #expect(SVGWriter.number(1e-5) == "0")
        #expect(SVGWriter.number(12.5) == "12.5")
        #expect(SVGWriter.number(3) == "3")
        #expect(SVGWriter.number(-0.001) == "0")
        #expect(SVGWriter.number(1234567.891) == "1234567.89")
        #expect(SVGWriter.number(.nan) == "0")
    }

    @Test func textIsEscaped() {
        #expect(SVGWriter.escape("a<b & c>\"d\" 'e'") == "a&lt;b &amp; c&gt;&quot;d&quot; &apos;e&apos;")
        var svg = SVGWriter(width: 10, height: 10)
        svg.text("<&>", x: 1, y: 2, size: 3, tooltip: "\"'")
        svg.element("g", [("data-name", "x\"y")])
        let document = svg.document(title: "a & b")
        #expect(document.contains(">&lt;&amp;&gt;</text>"))
        #expect(document.contains("<title>&quot;&apos;</title>"))
        #expect(document.contains("data-name=\"x&quot;y\""))
        #expect(SVGDocument(document) != nil)
    }

    @Test func fittedWritersHoldEverythingDrawn() throws {
        let svg = SVGWriter.fitted(padding: 5) { svg in
            svg.rect(x: -40, y: -10, width: 20, height: 20, fill: "#000000")
            svg.text("a long label", x: 100, y: 50, size: 10, anchor: .end, rotation: -90)
        }
        let document = try #require(SVGDocument(svg.document()))
        let rect = try #require(document.all("rect").last)
        #expect(rect.number("x") == 5 && rect.number("y") == 5)
        let label = try #require(document.all("text").first)
        #expect(TextBox(label).isInside(width: document.width, height: document.height))
        // From the rect's left edge at -40 to the turned glyphs' feet at 100 + 0.25 × 10, plus padding.
        #expect(document.width == (5 + 40 + 102.5 + 5).rounded(.up))
    }

    @Test func labelsShortenInTheMiddle() {
        #expect(TextMetrics.shortened("layer3.1.conv2", maxCharacters: 28) == "layer3.1.conv2")
        let short = TextMetrics.shortened("/blocks/blocks.11/attn/Softmax_output_0", maxCharacters: 20)
        #expect(short.count == 20)
        #expect(short.hasPrefix("/blocks") && short.hasSuffix("output_0") && short.contains("…"))
    }
}
