/// A small builder for standalone SVG documents.
///
/// Elements are written in the order they are added, attributes in the order given, every
/// number through `number(_:)` and every piece of text through `escape(_:)`, so the same
/// figure always gives the same bytes and user-provided names cannot break the XML.
public struct SVGWriter: Sendable {
    /// Fonts with wide Unicode coverage that GitHub, browsers and `rsvg-convert` all find.
    public static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"

    /// Horizontal alignment of text relative to its anchor point.
    public enum TextAnchor: String, Sendable {
        case start, middle, end
    }

    public var width: Double
    public var height: Double
    /// Added to every coordinate given to the shape and text methods (not to `element`),
    /// so a figure can be drawn in its own coordinates and then moved into the margins.
    public var offsetX = 0.0
    public var offsetY = 0.0
    /// Estimated extent of everything drawn by the shape and text methods, in document
    /// coordinates; `nil` before anything is drawn.
    public private(set) var bounds: Bounds?
    /// When false, drawing does not grow `bounds`: for data clipped to a plot area, which
    /// must not make the figure larger.
    public var measuresExtent = true
    private var body: [String] = []
    private var openElements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// A writer whose size fits what `draw` draws plus `padding` on every side: `draw` runs
    /// once to measure and once more, shifted into place, to write.
    public static func fitted(padding: Double, _ draw: (inout SVGWriter) -> Void) -> SVGWriter {
        var measure = SVGWriter(width: 0, height: 0)
        draw(&measure)
        let extent = measure.bounds ?? Bounds(minX: 0, minY: 0, maxX: 0, maxY: 0)
        // Whole-pixel offsets keep pixel-aligned drawings (image grids) on the pixel grid.
        let dx = (padding - extent.minX).rounded(.up), dy = (padding - extent.minY).rounded(.up)
        var writer = SVGWriter(width: (extent.maxX + dx + padding).rounded(.up), height: (extent.maxY + dy + padding).rounded(.up))
        writer.offsetX = dx
        writer.offsetY = dy
        draw(&writer)
        return writer
    }

    // MARK: - Formatting

    /// A coordinate or size as text: at most two decimals, trailing zeros dropped, no exponent.
    ///
    /// Non-finite values become "0" so a bad data point cannot make the document invalid.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = NumberFormat.fixed(value, decimals: 2)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// `text` with the five XML special characters replaced by entities.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    // MARK: - Generic elements

    /// Appends `<name attributes…>` with optional text content and an optional `<title>`
    /// child (shown as a tooltip by browsers).
    public mutating func element(_ name: String, _ attributes: [(String, String)], text: String? = nil, tooltip: String? = nil) {
        let start = "<\(name)" + Self.attributeText(attributes)
        if text == nil && tooltip == nil {
            append(start + "/>")
            return
        }
        let title = tooltip.map { "<title>\(Self.escape($0))</title>" } ?? ""
        append(start + ">" + title + Self.escape(text ?? "") + "</\(name)>")
    }

    /// Opens a container element such as `<g>`; close it with `close()`.
    public mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        append("<\(name)" + Self.attributeText(attributes) + ">")
        openElements.append(name)
    }

    /// Closes the innermost element opened with `open(_:_:)`.
    public mutating func close() {
        guard let name = openElements.popLast() else { return }
        append("</\(name)>")
    }

    // MARK: - Shapes and text

    public mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String,
        stroke: String? = nil, strokeWidth: Double = 1, extra: [(String, String)] = [], tooltip: String? = nil
    ) {
        let x = x + offsetX, y = y + offsetY
        include(Bounds(minX: x, minY: y, maxX: x + width, maxY: y + height))
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)), ("height", Self.number(height)), ("fill", fill)]
        if let stroke { attributes += [("stroke", stroke), ("stroke-width", Self.number(strokeWidth))] }
        element("rect", attributes + extra, tooltip: tooltip)
    }

    public mutating func line(
        x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil
    ) {
        let x1 = x1 + offsetX, x2 = x2 + offsetX, y1 = y1 + offsetY, y2 = y2 + offsetY
        include(Bounds.enclosing([(x1, y1), (x2, y2)]))
        var attributes = [
            ("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)), ("y2", Self.number(y2)),
            ("stroke", stroke), ("stroke-width", Self.number(width)),
        ]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        element("line", attributes)
    }

    /// An open polyline through `points`; nothing is written for fewer than two points.
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        guard points.count > 1 else { return }
        let points = points.map { (x: $0.x + offsetX, y: $0.y + offsetY) }
        include(Bounds.enclosing(points))
        let list = points.map { Self.number($0.x) + "," + Self.number($0.y) }.joined(separator: " ")
        var attributes = [("points", list), ("fill", "none"), ("stroke", stroke), ("stroke-width", Self.number(width)), ("stroke-linejoin", "round")]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        element("polyline", attributes)
    }

    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, extra: [(String, String)] = []) {
        let cx = cx + offsetX, cy = cy + offsetY
        include(Bounds(minX: cx - r, minY: cy - r, maxX: cx + r, maxY: cy + r))
        element("circle", [("cx", Self.number(cx)), ("cy", Self.number(cy)), ("r", Self.number(r)), ("fill", fill)] + extra)
    }

    /// Text whose baseline starts (or ends, or is centred) at `(x, y)`, turned by `rotation`
    /// degrees clockwise around that point.
    public mutating func text(
        _ content: String, x: Double, y: Double, size: Double, anchor: TextAnchor = .start, rotation: Double = 0,
        bold: Bool = false, fill: String? = nil, className: String? = nil, tooltip: String? = nil
    ) {
        let x = x + offsetX, y = y + offsetY
        include(Bounds.text(content, x: x, y: y, size: size, anchor: anchor, rotation: rotation))
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("font-size", Self.number(size))]
        if anchor != .start { attributes.append(("text-anchor", anchor.rawValue)) }
        if rotation != 0 {
            attributes.append(("transform", "rotate(\(Self.number(rotation)) \(Self.number(x)) \(Self.number(y)))"))
        }
        if bold { attributes.append(("font-weight", "bold")) }
        if let fill { attributes.append(("fill", fill)) }
        if let className { attributes.append(("class", className)) }
        element("text", attributes, text: content, tooltip: tooltip)
    }

    // MARK: - Output

    /// The complete document: XML declaration, root element with size, view box and font,
    /// an optional document title, a white background, then the elements in order.
    public func document(title: String? = nil) -> String {
        let w = Self.number(width), h = Self.number(height)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\""
        out += " font-family=\"\(Self.escape(Self.fontFamily))\" fill=\"#222222\">\n"
        if let title { out += "  <title>\(Self.escape(title))</title>\n" }
        out += "  <rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"#ffffff\"/>\n"
        for line in body { out += line + "\n" }
        for name in openElements.reversed() { out += "</\(name)>\n" }
        out += "</svg>\n"
        return out
    }

    private mutating func include(_ extent: Bounds) {
        guard measuresExtent else { return }
        bounds = bounds.map { $0.union(extent) } ?? extent
    }

    /// Adds one line, indented by the depth of open containers.
    private mutating func append(_ line: String) {
        body.append(String(repeating: "  ", count: openElements.count + 1) + line)
    }

    private static func attributeText(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }
}
