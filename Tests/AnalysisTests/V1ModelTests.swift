import Foundation
import LinearAlgebra
import Testing
@testable import Analysis

/// The V1 model's cells behave like the cells they stand for: DC-free, tuned to their own
/// orientation and frequency, simple cells phase-sensitive, complex cells not.
@Suite struct V1ModelTests {
    /// A full-contrast grating (y up, θ the wave vector's direction), as the stimuli.
    static func grating(orientation: Double, frequency: Double, phase: Double, height: Int, width: Int) -> [Float] {
        let theta = orientation * .pi / 180, phi = phase * .pi / 180
        return (0..<height).flatMap { r in
            (0..<width).map { c in
                let x = Double(c) - Double(width - 1) / 2, y = Double(height - 1) / 2 - Double(r)
                return Float(0.5 + 0.5 * cos(2 * .pi * frequency * (x * cos(theta) + y * sin(theta)) + phi))
            }
        }
    }

    @Test func envelopeWidthGivesTheAskedBandwidth() throws {
        // One octave: σ = 0.5622 λ, the classical figure.
        #expect(abs(V1Model.sigma(frequency: 0.1, bandwidth: 1) - 5.622) < 1e-3)
        // The complex cell's response falls to half at the band edges f ± Δ.
        var settings = V1Model.Settings()
        settings.orientations = 1
        settings.frequencies = [0.125]
        settings.positions = 1
        let model = try V1Model(settings: settings, height: 96, width: 96)
        let ratio = pow(2.0, settings.bandwidth), delta = 0.125 * (ratio - 1) / (ratio + 1)
        func energy(_ f: Double) throws -> Double {
            let image = Self.grating(orientation: 0, frequency: f, phase: 0, height: 96, width: 96)
            return try model.responses(image, count: 1, channels: 1).complex[0, 0]
        }
        let peak = try energy(0.125)
        let (low, high) = (try energy(0.125 - delta) / peak, try energy(0.125 + delta) / peak)
        #expect(abs(low - 0.5) < 0.03, "\(low)")
        #expect(abs(high - 0.5) < 0.03, "\(high)")
    }

    @Test func uniformImagesGiveNoResponseAndColourIsAveraged() throws {
        let model = try V1Model(height: 12, width: 10)
        #expect(model.pairs.count == 8 * 3 * 16)
        let grey = [Float](repeating: 0.7, count: 2 * 3 * 12 * 10)
        let (simple, complex) = try model.responses(grey, count: 2, channels: 3)
        #expect(simple.columns == 4 * model.pairs.count && complex.columns == model.pairs.count)
        #expect(simple.storage.allSatisfy { abs($0) < 1e-12 } && complex.storage.allSatisfy { abs($0) < 1e-12 })
        // Three identical channels give the single channel's responses.
        let plane = Self.grating(orientation: 30, frequency: 0.125, phase: 10, height: 12, width: 10)
        let one = try model.responses(plane, count: 1, channels: 1).complex
        let three = try model.responses(plane + plane + plane, count: 1, channels: 3).complex
        #expect(zip(one.storage, three.storage).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func cellsPreferTheirOwnOrientationAndComplexCellsIgnorePhase() throws {
        var settings = V1Model.Settings()
        settings.positions = 1
        settings.frequencies = [0.125]
        let size = 48
        let model = try V1Model(settings: settings, height: size, width: size)
        let orientations = (0..<16).map { Double($0) * 11.25 }, phases = [0.0, 90, 180, 270]
        var stimuli: [Float] = [], o: [Double] = [], f: [Double] = [], p: [Double] = []
        for orientation in orientations {
            for phase in phases {
                stimuli += Self.grating(orientation: orientation, frequency: 0.125, phase: phase, height: size, width: size)
                o.append(orientation)
                f.append(0.125)
                p.append(phase)
            }
        }
        let (simple, complex) = try model.responses(stimuli, count: o.count, channels: 1)
        let complexTuning = try OrientationTuning.measure(complex, orientation: o, frequency: f, phase: p).units
        let simpleTuning = try OrientationTuning.measure(simple, orientation: o, frequency: f, phase: p).units
        for (k, pair) in model.pairs.enumerated() {
            let unit = complexTuning[k]
            var error = abs(unit.preferredOrientation - pair.orientation)
            error = min(error, 180 - error)
            #expect(error < 1, "pair \(k): prefers \(unit.preferredOrientation)°, built for \(pair.orientation)°")
            #expect(unit.f1f0 < 0.05, "complex cell \(k) F1/F0 \(unit.f1f0)")
            #expect(unit.orientationSelectivity > 0.9)
            // The even⁺ simple cell of the same pair: same orientation, phase-sensitive.
            let even = simpleTuning[4 * k]
            error = abs(even.preferredOrientation - pair.orientation)
            #expect(min(error, 180 - error) < 1)
            #expect(even.f1f0 > 1, "simple cell \(4 * k) F1/F0 \(even.f1f0)")
        }
    }

    @Test func badSettingsAndInputsAreRefused() throws {
        var settings = V1Model.Settings()
        settings.frequencies = [0.7]
        #expect(throws: AnalysisError.self) { try V1Model(settings: settings, height: 8, width: 8) }
        let model = try V1Model(height: 8, width: 8)
        #expect(throws: AnalysisError.self) { try model.responses([Float](repeating: 0, count: 63), count: 1, channels: 1) }
        var bad = [Float](repeating: 0, count: 64)
        bad[3] = .nan
        #expect(throws: AnalysisError.self) { try model.responses(bad, count: 1, channels: 1) }
    }

    @Test func tinyImagesStillWork() throws {
        // 1 × 1 and 2 × 3 inputs: filters reduce to a pixel or two; nothing crashes.
        for (h, w) in [(1, 1), (2, 3)] {
            let model = try V1Model(height: h, width: w)
            let out = try model.responses((0..<(h * w)).map { Float($0) }, count: 1, channels: 1)
            #expect(out.complex.storage.allSatisfy { $0.isFinite })
        }
    }
}
