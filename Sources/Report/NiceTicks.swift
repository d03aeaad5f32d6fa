import Foundation

/// Axis tick positions that people can read: multiples of 1, 2 or 5 times a power of ten
/// on linear axes, and whole decades on logarithmic ones.
public enum NiceTicks {
    /// The 1-2-5 step closest above `span / targetCount`.
    public static func step(span: Double, targetCount: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(targetCount, 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for factor in [1.0, 2, 5] where raw <= factor * magnitude * (1 + 1e-9) {
            return factor * magnitude
        }
        return 10 * magnitude
    }

    /// Ticks inside `lower…upper` at the nice step for about `targetCount` intervals.
    ///
    /// Ticks are integer multiples of the step (no accumulated rounding), so 0…1 gives
    /// 0, 0.2, 0.4, 0.6, 0.8, 1.
    public static func linear(lower: Double, upper: Double, targetCount: Int = 5) -> [Double] {
        guard lower.isFinite, upper.isFinite else { return [] }
        guard upper > lower else { return [lower] }
        let step = step(span: upper - lower, targetCount: targetCount)
        let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            let value = k * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
    }

    /// `lower…upper` widened outwards to the nearest ticks, for axes that fit their data.
    /// An empty or degenerate range is widened around its value.
    public static func domain(lower: Double, upper: Double, targetCount: Int = 5) -> ClosedRange<Double> {
        guard lower.isFinite, upper.isFinite else { return 0...1 }
        if upper <= lower {
            let pad = lower == 0 ? 1 : abs(lower) * 0.1
            return domain(lower: lower - pad, upper: lower + pad, targetCount: targetCount)
        }
        let step = step(span: upper - lower, targetCount: targetCount)
        // The tolerance keeps values that are already on a tick from being widened a step.
        return (lower / step + 1e-9).rounded(.down) * step...(upper / step - 1e-9).rounded(.up) * step
    }

    /// Number of decimals that shows every tick at `step` exactly (0 for steps ≥ 1).
    public static func decimals(forStep step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        return max(0, Int((-log10(step) - 1e-9).rounded(.up)))
    }

    /// Exponents of the decades covering `lower…upper` (both positive): the bounds are
    /// widened to whole powers of ten.
    public static func decades(lower: Double, upper: Double) -> ClosedRange<Int> {
        guard lower > 0, upper > 0, lower.isFinite, upper.isFinite else { return 0...1 }
        let low = Int((log10(lower) + 1e-9).rounded(.down))
        let high = Int((log10(upper) - 1e-9).rounded(.up))
        return low...max(high, low + 1)
    }

    /// "10" followed by `exponent` in superscript digits, e.g. 10⁻³.
    public static func powerOfTenLabel(_ exponent: Int) -> String {
        let superscripts: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let digits = String(abs(exponent)).compactMap { $0.wholeNumberValue.map { superscripts[$0] } }
        return "10" + (exponent < 0 ? "⁻" : "") + String(digits)
    }
}
