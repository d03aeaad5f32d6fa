/// A continuous colour scale: evenly spaced control colours joined by straight lines in RGB.
public struct ColorMap: Sendable {
    /// Colours at 0, 1/(n-1), …, 1.
    public let controlPoints: [RGBColor]

    /// At least two control colours; a single colour is repeated.
    public init(controlPoints: [RGBColor]) {
        switch controlPoints.count {
        case 0: self.controlPoints = [.black, .white]
        case 1: self.controlPoints = [controlPoints[0], controlPoints[0]]
        default: self.controlPoints = controlPoints
        }
    }

    /// The colour at `t` in 0…1 (clamped; NaN gives the first colour).
    public func color(at t: Double) -> RGBColor {
        let clamped = t.isNaN ? 0 : min(max(t, 0), 1)
        let position = clamped * Double(controlPoints.count - 1)
        let index = min(Int(position), controlPoints.count - 2)
        return controlPoints[index].mixed(with: controlPoints[index + 1], position - Double(index))
    }

    /// The colour of `value` on a scale running from `range.lowerBound` to `range.upperBound`.
    public func color(for value: Double, in range: ClosedRange<Double>) -> RGBColor {
        let span = range.upperBound - range.lowerBound
        return color(at: span > 0 ? (value - range.lowerBound) / span : 0.5)
    }

    /// Perceptually uniform dark purple → blue → green → yellow, readable in grey and by
    /// most colour-blind readers: eleven samples of the viridis scale.
    public static let viridis = ColorMap(controlPoints: [
        0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
        0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
    ].map { RGBColor(hex: $0) })

    /// White to black, for single-channel images.
    public static let greys = ColorMap(controlPoints: [.white, .black])
}
