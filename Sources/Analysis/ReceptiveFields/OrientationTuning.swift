import Foundation
import LinearAlgebra

/// Grating tuning of units, the electrophysiologist's measurements on a network: each unit's
/// responses to sinusoidal gratings over orientation × spatial frequency × phase become an
/// orientation tuning curve and the usual summaries (Ringach et al. 2002).
///
/// Definitions, for one unit:
/// - responses are first shifted so that the unit's lowest response to any grating is 0
///   (network units, unlike firing rates, can be negative);
/// - at each orientation and frequency, over the phases: `F0(θ, f)` is the mean response and
///   `F1(θ, f) = 2 |Σ r(φ) e^{iφ}| / n` the amplitude of its first harmonic (defined from 3
///   phases up);
/// - the peak `(θ_peak, f*)` is where `max(F0, F1)` is largest; the unit is phase-sensitive
///   (simple-cell-like) when `F1 > F0` there, and its response measure `R` is then `F1`,
///   else `F0` — the convention of V1 physiology (Skottun et al. 1991), which keeps linear
///   units, whose mean over phase does not depend on orientation at all, measurable;
/// - the tuning curve is `T(θ) = R(θ, f*)`, and `f*` is the preferred frequency;
/// - circular variance `CV = 1 − |Σ T(θ) e^{2iθ}| / Σ T(θ)` (0: responds to one orientation,
///   1: to all alike); the preferred orientation is the direction of `Σ T(θ) e^{2iθ}`, halved;
/// - orientation selectivity `OSI = (T(θ_peak) − T(θ_peak + 90°)) / (T(θ_peak) + T(θ_peak + 90°))`;
/// - bandwidth: the half-width of the curve at half its peak height, interpolated linearly
///   between orientations (90° when it never falls to half);
/// - `F1/F0` at the peak: above 1 marks a simple cell (phase-sensitive), below 1 a complex
///   cell.
public enum OrientationTuning {
    public struct Unit: Sendable, Equatable, Codable {
        /// Degrees in [0, 180).
        public var preferredOrientation: Double
        /// Cycles per pixel.
        public var preferredFrequency: Double
        public var circularVariance: Double
        public var orientationSelectivity: Double
        /// Degrees.
        public var bandwidth: Double
        public var f1f0: Double
        /// `T(θ)` at the grid's orientations, in the shifted units above (F1 for a
        /// phase-sensitive unit, else F0).
        public var tuningCurve: [Double]

        enum CodingKeys: String, CodingKey {
            case preferredOrientation = "preferred_orientation_deg", preferredFrequency = "preferred_frequency"
            case circularVariance = "circular_variance", orientationSelectivity = "osi", bandwidth = "bandwidth_deg"
            case f1f0 = "f1_f0", tuningCurve = "tuning_curve"
        }

        public init(preferredOrientation: Double, preferredFrequency: Double, circularVariance: Double, orientationSelectivity: Double,
                    bandwidth: Double, f1f0: Double, tuningCurve: [Double]) {
            self.preferredOrientation = preferredOrientation
            self.preferredFrequency = preferredFrequency
            self.circularVariance = circularVariance
            self.orientationSelectivity = orientationSelectivity
            self.bandwidth = bandwidth
            self.f1f0 = f1f0
            self.tuningCurve = tuningCurve
        }

        // F1/F0 is undefined (NaN) with fewer than 3 phases or no mean response: JSON null.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                preferredOrientation: try c.decode(Double.self, forKey: .preferredOrientation),
                preferredFrequency: try c.decode(Double.self, forKey: .preferredFrequency),
                circularVariance: try c.decode(Double.self, forKey: .circularVariance),
                orientationSelectivity: try c.decode(Double.self, forKey: .orientationSelectivity),
                bandwidth: try c.decode(Double.self, forKey: .bandwidth),
                f1f0: try c.decodeIfPresent(Double.self, forKey: .f1f0) ?? .nan,
                tuningCurve: try c.decode([Double].self, forKey: .tuningCurve))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(preferredOrientation, forKey: .preferredOrientation)
            try c.encode(preferredFrequency, forKey: .preferredFrequency)
            try c.encode(circularVariance, forKey: .circularVariance)
            try c.encode(orientationSelectivity, forKey: .orientationSelectivity)
            try c.encode(bandwidth, forKey: .bandwidth)
            if f1f0.isFinite { try c.encode(f1f0, forKey: .f1f0) } else { try c.encodeNil(forKey: .f1f0) }
            try c.encode(tuningCurve, forKey: .tuningCurve)
        }
    }

    /// Measures every unit.
    ///
    /// - Parameters:
    ///   - responses: stimuli × units.
    ///   - orientation: each stimulus's orientation in degrees; `frequency` and `phase`
    ///     (degrees) likewise. Every combination of the distinct values must be present
    ///     (repeats are averaged).
    /// - Returns: one ``Unit`` per column, and the grid's orientations.
    public static func measure(_ responses: Matrix<Double>, orientation: [Double], frequency: [Double], phase: [Double]) throws
        -> (units: [Unit], orientations: [Double])
    {
        let n = responses.rows
        guard orientation.count == n, frequency.count == n, phase.count == n else {
            throw AnalysisError.invalidArgument("grating tuning: \(n) responses but \(orientation.count) orientations, \(frequency.count) frequencies, \(phase.count) phases")
        }
        guard responses.storage.allSatisfy(\.isFinite) else { throw AnalysisError.nonFinite(context: "grating tuning: responses") }
        let orientations = Array(Set(orientation)).sorted(), frequencies = Array(Set(frequency)).sorted(), phases = Array(Set(phase)).sorted()
        guard orientations.count >= 4, phases.count >= 1, !frequencies.isEmpty else {
            throw AnalysisError.invalidArgument("grating tuning: needs at least 4 orientations, found \(orientations.count)")
        }
        let (no, nf, np) = (orientations.count, frequencies.count, phases.count)
        let oIndex = Dictionary(uniqueKeysWithValues: orientations.enumerated().map { ($1, $0) })
        let fIndex = Dictionary(uniqueKeysWithValues: frequencies.enumerated().map { ($1, $0) })
        let pIndex = Dictionary(uniqueKeysWithValues: phases.enumerated().map { ($1, $0) })
        var cellOf = [Int](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: no * nf * np)
        for s in 0..<n {
            let cell = (oIndex[orientation[s]]! * nf + fIndex[frequency[s]]!) * np + pIndex[phase[s]]!
            cellOf[s] = cell
            counts[cell] += 1
        }
        guard counts.allSatisfy({ $0 > 0 }) else {
            throw AnalysisError.invalidArgument("grating tuning: not every orientation × frequency × phase combination was shown")
        }

        var units: [Unit] = []
        for unit in 0..<responses.columns {
            let column = responses.column(unit)
            let low = column.min() ?? 0
            var mean = [Double](repeating: 0, count: no * nf * np)
            for s in 0..<n { mean[cellOf[s]] += (column[s] - low) / Double(counts[cellOf[s]]) }
            func at(_ o: Int, _ f: Int, _ p: Int) -> Double { mean[(o * nf + f) * np + p] }
            // F0 and F1 over phase in every (orientation, frequency) cell.
            var f0 = [Double](repeating: 0, count: no * nf), f1 = [Double](repeating: .nan, count: no * nf)
            for o in 0..<no {
                for f in 0..<nf {
                    var sum = 0.0, c1 = 0.0, s1 = 0.0
                    for p in 0..<np {
                        let value = at(o, f, p), angle = phases[p] * .pi / 180
                        sum += value
                        c1 += value * cos(angle)
                        s1 += value * sin(angle)
                    }
                    f0[o * nf + f] = sum / Double(np)
                    if np >= 3 { f1[o * nf + f] = 2 * (c1 * c1 + s1 * s1).squareRoot() / Double(np) }
                }
            }
            func strength(_ k: Int) -> Double { f1[k].isNaN ? f0[k] : max(f0[k], f1[k]) }
            var best = 0
            for k in 1..<(no * nf) where strength(k) > strength(best) { best = k }
            let (bestO, bestF) = (best / nf, best % nf)
            let modulated = !f1[best].isNaN && f1[best] > f0[best]
            let curve = (0..<no).map { modulated ? f1[$0 * nf + bestF] : f0[$0 * nf + bestF] }
            let total = curve.reduce(0, +)
            var re = 0.0, im = 0.0
            for (o, t) in curve.enumerated() {
                let angle = 2 * orientations[o] * .pi / 180
                re += t * cos(angle)
                im += t * sin(angle)
            }
            let resultant = (re * re + im * im).squareRoot()
            let cv = total > 0 ? 1 - resultant / total : 1
            var preferred = total > 0 ? atan2(im, re) * 90 / .pi : orientations[bestO]
            if preferred < 0 { preferred += 180 }
            let orthogonal = nearest(orientations, to: (orientations[bestO] + 90).truncatingRemainder(dividingBy: 180))
            let (peak, orth) = (curve[bestO], curve[orthogonal])
            let osi = peak + orth > 0 ? (peak - orth) / (peak + orth) : 0
            units.append(Unit(
                preferredOrientation: preferred, preferredFrequency: frequencies[bestF], circularVariance: cv,
                orientationSelectivity: osi, bandwidth: halfWidth(curve, orientations, peak: bestO),
                f1f0: f0[best] > 0 ? f1[best] / f0[best] : .nan, tuningCurve: curve))
        }
        return (units, orientations)
    }

    /// The index of the orientation nearest to `target` on the 180° circle.
    public static func nearest(_ orientations: [Double], to target: Double) -> Int {
        func distance(_ a: Double) -> Double { let d = abs(a - target).truncatingRemainder(dividingBy: 180); return min(d, 180 - d) }
        return orientations.indices.min { distance(orientations[$0]) < distance(orientations[$1]) } ?? 0
    }

    /// Half-width at half height of a curve over orientations evenly or unevenly spread on
    /// the 180° circle, walking out from the peak on both sides; 90° when either side stays
    /// above half for the whole 90° to the orthogonal.
    static func halfWidth(_ curve: [Double], _ orientations: [Double], peak: Int) -> Double {
        let count = curve.count, half = curve[peak] / 2
        guard curve[peak] > 0 else { return 90 }
        func side(_ step: Int) -> Double? {
            var previous = peak, travelled = 0.0
            for k in 1..<count {
                let index = ((peak + step * k) % count + count) % count
                var gap = (orientations[index] - orientations[previous]) * Double(step)
                if gap <= 0 { gap += 180 }
                if curve[index] <= half {
                    let fraction = (curve[previous] - half) / max(curve[previous] - curve[index], 1e-300)
                    // Between grid orientations the crossing can lie past 90°: this side
                    // then stays above half all the way to the orthogonal.
                    let width = travelled + fraction * gap
                    return width <= 90 ? width : nil
                }
                travelled += gap
                previous = index
                if travelled >= 90 { return nil }
            }
            return nil
        }
        guard let left = side(-1), let right = side(1) else { return 90 }
        return min(90, (left + right) / 2)
    }
}
