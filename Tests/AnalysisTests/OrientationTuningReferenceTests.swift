import Foundation
import Formats
import LinearAlgebra
import Testing
@testable import Analysis

/// Grating tuning against an independent NumPy implementation of its documented definitions
/// (`Tests/Fixtures/analysis/make_tuning_reference.py`): Gabor simple and energy cells, a
/// broad cell, a negatively responding cell, noise and a constant unit, on even grids with 4
/// and 8 phases, a shuffled grid with repeats, uneven orientations and phases, nine
/// orientations (no orientation 90° from the peak) and two phases (F1/F0 undefined).
@Suite struct OrientationTuningReferenceTests {
    static let cases = ["even4", "even8", "repeats", "uneven", "nine", "two_phases"]

    nonisolated(unsafe) static let arrays: [String: NumericArray] = {
        let url = Fixture.root.appendingPathComponent("analysis/tuning_reference.npz")
        let entries = (try? NPZ.read(url)) ?? []
        return Dictionary(entries.map { ($0.name, $0.array) }, uniquingKeysWith: { first, _ in first })
    }()

    static func array(_ name: String) throws -> NumericArray {
        try #require(arrays[name], "tuning_reference.npz has no \(name)")
    }

    static func values(_ name: String) throws -> [Double] { try array(name).doubles() }

    /// Elementwise within `atol + rtol·|expected|`; NaN matches only NaN.
    static func expectMatches(
        _ actual: [Double], _ expected: [Double], _ what: String, rtol: Double = 1e-9, atol: Double = 1e-12,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)",
                sourceLocation: sourceLocation)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let same = e.isNaN ? a.isNaN : abs(a - e) <= atol + rtol * abs(e)
            #expect(same, "\(what)[\(i)]: \(a), NumPy \(e)", sourceLocation: sourceLocation)
        }
    }

    @Test func fixtureHoldsEveryCase() throws {
        let names = Set(Self.arrays.keys)
        #expect(!names.isEmpty, "tuning_reference.npz is missing or unreadable")
        #expect(Set(names.filter { $0.hasSuffix("_responses") }.map { String($0.dropLast("_responses".count)) }) == Set(Self.cases))
    }

    @Test(arguments: cases) func metricsMatchNumPy(_ name: String) throws {
        let responses = try Self.array("\(name)_responses")
        try #require(responses.shape.count == 2)
        let (rows, columns) = (responses.shape[0], responses.shape[1])
        let (units, orientations) = try OrientationTuning.measure(
            Matrix(rows: rows, columns: columns, rowMajor: responses.doubles()),
            orientation: Self.values("\(name)_orientation"), frequency: Self.values("\(name)_frequency"),
            phase: Self.values("\(name)_phase"))
        try #require(units.count == columns)
        #expect(orientations == (try Self.values("\(name)_orientations")))

        Self.expectMatches(units.map(\.preferredOrientation), try Self.values("\(name)_preferred_orientation"), "\(name) preferred orientation")
        #expect(units.map(\.preferredFrequency) == (try Self.values("\(name)_preferred_frequency")), "\(name) preferred frequency")
        Self.expectMatches(units.map(\.circularVariance), try Self.values("\(name)_circular_variance"), "\(name) circular variance")
        Self.expectMatches(units.map(\.orientationSelectivity), try Self.values("\(name)_osi"), "\(name) OSI")
        Self.expectMatches(units.map(\.bandwidth), try Self.values("\(name)_bandwidth"), "\(name) bandwidth")
        Self.expectMatches(units.map(\.f1f0), try Self.values("\(name)_f1_f0"), "\(name) F1/F0")
        let curves = try Self.array("\(name)_tuning_curve")
        #expect(curves.shape == [columns, orientations.count])
        Self.expectMatches(units.flatMap(\.tuningCurve), curves.doubles(), "\(name) tuning curves (unit-major)")
    }
}
