import Foundation
import LinearAlgebra
import Testing
@testable import Analysis

/// Grating tuning on synthetic units whose tuning is known in closed form.
@Suite struct OrientationTuningTests {
    static let orientations = (0..<16).map { Double($0) * 11.25 }
    static let frequencies = [0.0625, 0.125, 0.25]
    static let phases = (0..<8).map { Double($0) * 45 }
    static let grid: [(o: Double, f: Double, p: Double)] = orientations.flatMap { o in frequencies.flatMap { f in phases.map { (o, f, $0) } } }

    /// exp(κ(cos 2Δ − 1)): peak 1 at the preferred orientation, half height at
    /// Δ = acos(1 − ln 2/κ)/2.
    static func tuning(_ orientation: Double, preferred: Double, kappa: Double = 3) -> Double {
        exp(kappa * (cos(2 * (orientation - preferred) * .pi / 180) - 1))
    }

    static func measure(_ response: ((o: Double, f: Double, p: Double)) -> Double) throws -> OrientationTuning.Unit {
        let responses = Matrix<Double>(rows: grid.count, columns: 1, columnMajor: grid.map(response))
        return try OrientationTuning.measure(responses, orientation: grid.map(\.o), frequency: grid.map(\.f), phase: grid.map(\.p)).units[0]
    }

    @Test func linearUnitIsTunedByItsModulation() throws {
        // A linear unit (a convolution before its nonlinearity): its mean over phase is the
        // same for every orientation, so only F1 carries its tuning.
        let unit = try Self.measure { s in
            -0.3 + Self.tuning(s.o, preferred: 112.5) * (s.f == 0.25 ? 1 : 0.5) * cos((s.p - 60) * .pi / 180)
        }
        #expect(abs(unit.preferredOrientation - 112.5) < 1e-6)
        #expect(unit.preferredFrequency == 0.25)
        #expect(unit.f1f0 >= 1, "F1/F0 \(unit.f1f0)")
        #expect(unit.circularVariance < 0.7 && unit.orientationSelectivity > 0.99)
    }

    @Test func simpleCellIsPhaseSensitiveAndTuned() throws {
        let unit = try Self.measure { s in
            Self.tuning(s.o, preferred: 56.25) * (s.f == 0.125 ? 1 : 0.3) * max(0, cos((s.p - 30) * .pi / 180))
        }
        #expect(abs(unit.preferredOrientation - 56.25) < 1e-6)
        #expect(unit.preferredFrequency == 0.125)
        // Half-wave rectified cosine sampled at 8 phases: F1/F0 near π/2.
        #expect(unit.f1f0 > 1.4 && unit.f1f0 < 1.7, "F1/F0 \(unit.f1f0)")
        #expect(unit.orientationSelectivity > 0.99)
        let halfWidth = acos(1 - Foundation.log(2.0) / 3) / 2 * 180 / .pi
        #expect(abs(unit.bandwidth - halfWidth) < 2, "bandwidth \(unit.bandwidth), expected \(halfWidth)")
        // For exp(κ cos 2Δ) the resultant length is I₁(κ)/I₀(κ) (modified Bessel functions).
        func bessel(_ order: Int, _ x: Double) -> Double {
            (0..<30).reduce(0.0) { sum, k in
                sum + pow(x / 2, Double(2 * k + order)) / (tgamma(Double(k + 1)) * tgamma(Double(k + order + 1)))
            }
        }
        #expect(abs(unit.circularVariance - (1 - bessel(1, 3) / bessel(0, 3))) < 1e-3, "CV \(unit.circularVariance)")
    }

    @Test func complexCellIsPhaseInvariant() throws {
        let unit = try Self.measure { s in Self.tuning(s.o, preferred: 146.25) * (s.f == 0.25 ? 1 : 0.2) }
        #expect(abs(unit.preferredOrientation - 146.25) < 1e-6)
        #expect(unit.preferredFrequency == 0.25)
        #expect(unit.f1f0 < 1e-9)
    }

    @Test func circularVarianceFollowsTheDefinition() throws {
        // Sharper tuning, lower circular variance; a flat unit has 1.
        let sharp = try Self.measure { s in Self.tuning(s.o, preferred: 90, kappa: 8) * (s.f == 0.125 ? 1 : 0.5) }
        let broad = try Self.measure { s in Self.tuning(s.o, preferred: 90, kappa: 0.5) * (s.f == 0.125 ? 1 : 0.5) }
        #expect(sharp.circularVariance < broad.circularVariance)
        let curve = broad.tuningCurve
        var re = 0.0, im = 0.0
        for (o, t) in zip(Self.orientations, curve) { re += t * cos(2 * o * .pi / 180); im += t * sin(2 * o * .pi / 180) }
        #expect(abs(broad.circularVariance - (1 - (re * re + im * im).squareRoot() / curve.reduce(0, +))) < 1e-12)
        let flat = try Self.measure { _ in 2 }
        #expect(flat.circularVariance == 1 && flat.orientationSelectivity == 0 && flat.bandwidth == 90)
    }

    @Test func incompleteGridsAreRefused() throws {
        let partial = Array(Self.grid.dropLast())
        let responses = Matrix<Double>(rows: partial.count, columns: 1, repeating: 1)
        #expect(throws: AnalysisError.self) {
            try OrientationTuning.measure(responses, orientation: partial.map(\.o), frequency: partial.map(\.f), phase: partial.map(\.p))
        }
        #expect(throws: AnalysisError.self) {
            try OrientationTuning.measure(Matrix(rows: 3, columns: 1), orientation: [0, 45, 90], frequency: [0.1, 0.1, 0.1], phase: [0, 0, 0])
        }
    }
}
