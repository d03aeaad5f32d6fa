import Foundation

/// An axis-aligned rectangle that grows to hold everything drawn, used to size a figure
/// so that no label is clipped.
public struct Bounds: Sendable, Equatable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    public var width: Double { maxX - minX }
    public var height: Double { maxY - minY }

    /// The smallest rectangle holding both.
    public func union(_ other: Bounds) -> Bounds {
        Bounds(minX: min(minX, other.minX), minY: min(minY, other.minY), maxX: max(maxX, other.maxX), maxY: max(maxY, other.maxY))
    }

    /// The rectangle around the points, which must not be empty.
    static func enclosing(_ points: [(x: Double, y: Double)]) -> Bounds {
        let xs = points.map(\.x), ys = points.map(\.y)
        return Bounds(minX: xs.min() ?? 0, minY: ys.min() ?? 0, maxX: xs.max() ?? 0, maxY: ys.max() ?? 0)
    }

    /// Estimated extent of a line of text whose baseline passes through `(x, y)`, aligned
    /// there by `anchor` and turned by `rotation` degrees (clockwise, as in SVG).
    ///
    /// Glyphs are taken to rise 0.8 × `size` above the baseline and drop 0.25 × `size`
    /// below it, and to be `TextMetrics.width` long.
    public static func text(
        _ text: String, x: Double, y: Double, size: Double, anchor: SVGWriter.TextAnchor, rotation: Double
    ) -> Bounds {
        let length = TextMetrics.width(text, fontSize: size)
        let along: (Double, Double)
        switch anchor {
        case .start: along = (0, length)
        case .middle: along = (-length / 2, length / 2)
        case .end: along = (-length, 0)
        }
        let angle = rotation * Double.pi / 180
        let u = (x: cos(angle), y: sin(angle))  // reading direction
        let down = (x: -sin(angle), y: cos(angle))  // from the glyphs' tops towards their feet
        var corners: [(x: Double, y: Double)] = []
        for a in [along.0, along.1] {
            for b in [-0.8 * size, 0.25 * size] {
                corners.append((x + a * u.x + b * down.x, y + a * u.y + b * down.y))
            }
        }
        return enclosing(corners)
    }
}
