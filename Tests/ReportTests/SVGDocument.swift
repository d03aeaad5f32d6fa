import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// An SVG document read back with `XMLParser`, flattened into its elements, for checking
/// what the charts wrote.
struct SVGDocument {
    struct Element {
        var name: String
        var attributes: [String: String]
        /// Character data directly inside the element (not inside a `<title>` child).
        var text = ""
        /// Text of a `<title>` child, if any.
        var tooltip: String?
        /// Names of the enclosing elements, outermost first.
        var ancestors: [String]
        /// Classes of the enclosing elements, innermost first.
        var ancestorClasses: [String]

        func number(_ key: String) -> Double { attributes[key].flatMap(Double.init) ?? .nan }
    }

    var elements: [Element] = []
    var width = 0.0
    var height = 0.0
    var viewBox: [Double] = []

    /// Parses `text`; records an issue and returns nil when it is not well-formed XML.
    init?(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let delegate = Collector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            Issue.record("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")", sourceLocation: sourceLocation)
            return nil
        }
        elements = delegate.finished
        guard let root = elements.first(where: { $0.name == "svg" }) else { return nil }
        width = root.number("width")
        height = root.number("height")
        viewBox = (root.attributes["viewBox"] ?? "").split(separator: " ").compactMap { Double($0) }
    }

    func all(_ name: String, class className: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (className == nil || $0.attributes["class"] == className) }
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var stack: [Element] = []
        var finished: [Element] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            let classes = stack.reversed().compactMap { $0.attributes["class"] }
            stack.append(Element(name: name, attributes: attributes, ancestors: stack.map(\.name), ancestorClasses: classes))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let element = stack.popLast() else { return }
            if element.name == "title", !stack.isEmpty {
                stack[stack.count - 1].tooltip = element.text
            }
            finished.append(element)
        }
    }
}

/// Estimated box of a text element as the charts lay it out: 0.6 × size per character,
/// glyphs from 0.8 × size above the baseline to 0.25 × size below, turned by its rotation.
struct TextBox {
    var corners: [(x: Double, y: Double)]
    /// Reading direction and the direction across the lines.
    var along: (x: Double, y: Double)
    var across: (x: Double, y: Double)
    var start: (x: Double, y: Double)
    var length: Double
    var size: Double

    init(_ element: SVGDocument.Element) {
        let x = element.number("x"), y = element.number("y")
        size = element.number("font-size")
        length = Double(element.text.count) * 0.6 * size
        var degrees = 0.0
        if let transform = element.attributes["transform"], transform.hasPrefix("rotate(") {
            degrees = Double(transform.dropFirst(7).split(separator: " ").first ?? "") ?? 0
        }
        let angle = degrees * Double.pi / 180
        along = (cos(angle), sin(angle))
        across = (-sin(angle), cos(angle))
        let shift: Double
        switch element.attributes["text-anchor"] {
        case "middle": shift = -length / 2
        case "end": shift = -length
        default: shift = 0
        }
        start = (x + shift * along.x, y + shift * along.y)
        var points: [(x: Double, y: Double)] = []
        for a in [0, length] {
            for b in [-0.8 * size, 0.25 * size] {
                points.append((start.x + a * along.x + b * across.x, start.y + a * along.y + b * across.y))
            }
        }
        corners = points
    }

    /// Whether two boxes of parallel text lines overlap: they are apart when they are a
    /// line height apart across the lines, or their spans along the lines do not meet.
    func overlaps(_ other: TextBox) -> Bool {
        let dx = other.start.x - start.x, dy = other.start.y - start.y
        let acrossGap = abs(dx * across.x + dy * across.y)
        if acrossGap >= 1.05 * max(size, other.size) { return false }
        let offset = dx * along.x + dy * along.y
        return offset < length && offset + other.length > 0
    }

    func isInside(width: Double, height: Double) -> Bool {
        corners.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x <= width && $0.y <= height }
    }
}
