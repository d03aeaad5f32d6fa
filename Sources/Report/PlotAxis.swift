import Foundation

/// One axis of a line chart or scatter plot: how data values map onto it, where its ticks
/// go and what they say.
struct PlotAxis: Sendable {
    enum Scale: Sendable {
        case linear
        /// Positions are log10 of the values; values ≤ 0 have no position.
        case logarithmic
        /// Positions are category indices.
        case categorical
    }

    var title: String?
    var scale: Scale
    /// Ends of the axis in axis units (values, their log10, or indices ± 0.5).
    var lower: Double
    var upper: Double
    /// Labelled ticks, positions in axis units.
    var ticks: [(position: Double, label: String)]
    /// Unlabelled ticks between the labelled ones (log axes: 2…9 × each decade).
    var minorTicks: [Double] = []

    /// Where `value` falls along the axis, 0 at `lower` and 1 at `upper`; `nil` for values
    /// that cannot be drawn (NaN, or ≤ 0 on a logarithmic axis).
    func fraction(of value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let position: Double
        switch scale {
        case .linear, .categorical: position = value
        case .logarithmic:
            guard value > 0 else { return nil }
            position = log10(value)
        }
        return upper > lower ? (position - lower) / (upper - lower) : 0.5
    }

    /// Fraction of a tick position, which is already in axis units.
    func fraction(ofPosition position: Double) -> Double {
        upper > lower ? (position - lower) / (upper - lower) : 0.5
    }

    /// A linear axis over `fixed`, or over the finite `values`: widened to the nearest nice
    /// ticks when `snapsToTicks`, else by 4% of their span on each side (scatter plots,
    /// where snapping could leave a quarter of the area empty).
    static func linear(title: String?, values: [Double], fixed: ClosedRange<Double>? = nil, snapsToTicks: Bool = true) -> PlotAxis {
        let range: ClosedRange<Double>
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        if let fixed, fixed.upperBound > fixed.lowerBound {
            range = fixed
        } else if snapsToTicks || high <= low {
            range = NiceTicks.domain(lower: low, upper: high)
        } else {
            let pad = 0.04 * (high - low)
            range = (low - pad)...(high + pad)
        }
        let ticks = NiceTicks.linear(lower: range.lowerBound, upper: range.upperBound)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let decimals = NiceTicks.decimals(forStep: step)
        return PlotAxis(
            title: title, scale: .linear, lower: range.lowerBound, upper: range.upperBound,
            ticks: ticks.map { ($0, NumberFormat.fixed($0, decimals: decimals)) })
    }

    /// A log10 axis over whole decades covering the positive finite `values` (others are
    /// ignored), labelled 10ⁿ; long ranges label every second or third decade.
    static func logarithmic(title: String?, values: [Double]) -> PlotAxis {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        let decades = NiceTicks.decades(lower: positive.min() ?? 1, upper: positive.max() ?? 10)
        let every = max(1, Int((Double(decades.count) / 8).rounded(.up)))
        let labelled = decades.filter { ($0 - decades.lowerBound) % every == 0 }
        var minor: [Double] = []
        if decades.count <= 7 {
            for exponent in decades.dropLast() {
                for m in 2...9 { minor.append(Double(exponent) + log10(Double(m))) }
            }
        }
        return PlotAxis(
            title: title, scale: .logarithmic, lower: Double(decades.lowerBound), upper: Double(decades.upperBound),
            ticks: labelled.map { (Double($0), NiceTicks.powerOfTenLabel($0)) }, minorTicks: minor)
    }

    /// One tick per category, half a step of room at both ends.
    static func categorical(title: String?, labels: [String]) -> PlotAxis {
        PlotAxis(
            title: title, scale: .categorical, lower: -0.5, upper: Double(labels.count) - 0.5,
            ticks: labels.enumerated().map { (Double($0.offset), $0.element) })
    }
}
