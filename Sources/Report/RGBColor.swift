import Foundation

/// An sRGB colour with components in 0…1, written to SVG as `#rrggbb`.
public struct RGBColor: Sendable, Equatable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from a 24-bit `0xRRGGBB` literal, for colour tables in code.
    public init(hex: UInt32) {
        self.init(
            red: Double((hex >> 16) & 0xff) / 255, green: Double((hex >> 8) & 0xff) / 255, blue: Double(hex & 0xff) / 255)
    }

    public static let white = RGBColor(hex: 0xffffff)
    public static let black = RGBColor(hex: 0x000000)

    /// Lower-case `#rrggbb`, components clamped to 0…1 and rounded to the nearest step.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        var out = "#"
        for component in [red, green, blue] {
            let byte = Int((min(max(component.isNaN ? 0 : component, 0), 1) * 255).rounded())
            out.append(digits[byte / 16])
            out.append(digits[byte % 16])
        }
        return out
    }

    /// The straight-line blend `(1 - t) · self + t · other` of the components.
    public func mixed(with other: RGBColor, _ t: Double) -> RGBColor {
        RGBColor(
            red: red + (other.red - red) * t, green: green + (other.green - green) * t, blue: blue + (other.blue - blue) * t)
    }

    /// WCAG relative luminance (0 for black, 1 for white).
    public var luminance: Double {
        func linear(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }

    /// Black or white, whichever has the higher WCAG contrast ratio on this colour; for
    /// text and markers drawn on top of it.
    public var contrastingText: RGBColor {
        let l = luminance
        let onBlack = (l + 0.05) / 0.05, onWhite = 1.05 / (l + 0.05)
        return onBlack >= onWhite ? .black : .white
    }
}
