import Foundation
import LinearAlgebra

/// Grating tuning of units, the electrophysiologist's measurements on a network: each unit's
/// responses to sinusoidal gratings over orientation × spatial frequency × phase become an
/// orientation tuning curve and the usual summaries (Ringach et al. 2002).
///
/// Definitions, for one unit:
/// - responses are first shifted so that the unit's lowest response to any grating is 0
///   (network units, unlike firing rates, can be negative);
/// - `R(θ, f)` is the mean over phases; the preferred frequency `f*` is where `R` peaks;
///   the tuning curve is `T(θ) = R(θ, f*)`;
/// - circular variance `CV = 1 − |Σ T(θ) e^{2iθ}| / Σ T(θ)` (0: responds to one orientation,
///   1: to all alike); the preferred orientation is the direction of `Σ T(θ) e^{2iθ}`, halved;
/// - orientation selectivity `OSI = (T(θ_peak) − T(θ_peak + 90°)) / (T(θ_peak) + T(θ_peak + 90°))`;
/// - bandwidth: the half-width of the curve at half its peak height, interpolated linearly
///   between orientations (90° when it never falls to half);
/// - `F1/F0` at the peak orientation and frequency: the amplitude of the response's first
///   harmonic over phase against its mean; above 1 marks a simple cell (phase-sensitive),
///   below 1 a complex cell.
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
        /// `T(θ)` at the grid's orientations, in the shifted units above.
        public var tuningCurve: [Double]

        enum CodingKeys: String, CodingKey {
            case preferredOrientation = "preferred_orientation_deg", preferredFrequency = "preferred_frequency"
            case circularVariance = "circular_variance", orientationSelectivity = "osi", bandwidth = "bandwidth_deg"
            case f1f0 = "f1_f0", tuningCurve = "tuning_curve"
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
            let r = (0..<no).map { o in (0..<nf).map { f in (0..<np).reduce(0) { $0 + at(o, f, $1) } / Double(np) } }
            var (bestO, bestF) = (0, 0)
            for o in 0..<no { for f in 0..<nf where r[o][f] > r[bestO][bestF] { (bestO, bestF) = (o, f) } }
            let curve = (0..<no).map { r[$0][bestF] }
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
            // F1/F0 over phase at the peak.
            var f0 = 0.0, c1 = 0.0, s1 = 0.0
            for p in 0..<np {
                let value = at(bestO, bestF, p), angle = phases[p] * .pi / 180
                f0 += value / Double(np)
                c1 += value * cos(angle)
                s1 += value * sin(angle)
            }
            let f1 = np >= 3 ? 2 * (c1 * c1 + s1 * s1).squareRoot() / Double(np) : .nan
            units.append(Unit(
                preferredOrientation: preferred, preferredFrequency: frequencies[bestF], circularVariance: cv,
                orientationSelectivity: osi, bandwidth: halfWidth(curve, orientations, peak: bestO),
                f1f0: f0 > 0 ? f1 / f0 : .nan, tuningCurve: curve))
        }
        return (units, orientations)
    }

    static func nearest(_ orientations: [Double], to target: Double) -> Int {
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
