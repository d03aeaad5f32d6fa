import Foundation
import LinearAlgebra
import Testing
@testable import Analysis

/// Gabor fits recover the parameters of synthetic filters with noise, and refuse noise.
@Suite struct GaborFitTests {
    static func noisy(_ gabor: Gabor, size: Int, noise: Double, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return gabor.image(height: size, width: size).map { $0 + noise * generator.nextGaussian() }
    }

    static func degrees(_ radians: Double) -> Double { radians * 180 / .pi }

    /// Orientation difference on the 180° circle.
    static func orientationError(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 180)
        return min(d, 180 - d)
    }

    @Test(arguments: [
        // θ°, f (c/px), σx, σy, φ°, size
        (30.0, 0.15, 2.0, 3.0, 60.0, 11),
        (100.0, 0.2, 1.8, 2.5, 200.0, 11),
        (165.0, 0.12, 2.5, 2.0, 0.0, 15),
        (0.0, 0.25, 1.5, 2.0, 90.0, 9),
    ])
    func recoversKnownParametersThroughNoise(_ c: (theta: Double, frequency: Double, sigmaX: Double, sigmaY: Double, phase: Double, size: Int)) throws {
        let truth = Gabor(amplitude: 1, x0: 0.4, y0: -0.3, sigmaX: c.sigmaX, sigmaY: c.sigmaY, theta: c.theta * .pi / 180,
                          frequency: c.frequency, phase: c.phase * .pi / 180, offset: 0.1)
        let values = Self.noisy(truth, size: c.size, noise: 0.03, seed: 7)
        let result = try GaborFit.fit(values, height: c.size, width: c.size)
        let g = result.gabor
        #expect(result.r2 > 0.95 && result.wellFit, "R² \(result.r2)")
        #expect(Self.orientationError(Self.degrees(g.theta), c.theta) < 3, "θ \(Self.degrees(g.theta)) for \(c.theta)")
        #expect(abs(g.frequency - c.frequency) / c.frequency < 0.05, "f \(g.frequency) for \(c.frequency)")
        #expect(abs(g.sigmaX - c.sigmaX) / c.sigmaX < 0.08, "σx \(g.sigmaX) for \(c.sigmaX)")
        #expect(abs(g.sigmaY - c.sigmaY) / c.sigmaY < 0.08, "σy \(g.sigmaY) for \(c.sigmaY)")
        #expect(g.theta >= 0 && g.theta < .pi && g.phase >= 0 && g.phase < 2 * .pi && g.amplitude > 0)
    }

    @Test func noiseFreeFiltersOnTheAxesDoNotAlias() throws {
        // On a pixel grid f and f + 1 give the same samples along an axis; the fit must
        // stay below Nyquist.
        for degrees in [0.0, 45, 90, 135] {
            let truth = Gabor(amplitude: 1, x0: 0, y0: 0, sigmaX: 2, sigmaY: 2.45, theta: degrees * .pi / 180,
                              frequency: 0.2, phase: 0, offset: 0)
            let result = try GaborFit.fit(truth.image(height: 9, width: 9), height: 9, width: 9)
            #expect(abs(result.gabor.frequency - 0.2) < 1e-6, "θ \(degrees)°: f \(result.gabor.frequency)")
            #expect(Self.orientationError(Self.degrees(result.gabor.theta), degrees) < 1e-4)
            #expect(result.r2 > 0.999999)
        }
    }

    @Test func evenAndRectangularKernelsAreFitted() throws {
        // The centre of an even kernel falls between pixels; rectangles have two centres.
        for (h, w) in [(8, 8), (6, 10), (12, 7)] {
            let truth = Gabor(amplitude: 1, x0: 0.3, y0: -0.2, sigmaX: 1.6, sigmaY: 2.2, theta: 70 * .pi / 180,
                              frequency: 0.22, phase: 0.8, offset: 0.05)
            let result = try GaborFit.fit(truth.image(height: h, width: w), height: h, width: w)
            #expect(abs(result.gabor.frequency - 0.22) < 1e-4, "\(h)×\(w): f \(result.gabor.frequency)")
            #expect(Self.orientationError(Self.degrees(result.gabor.theta), 70) < 0.05, "\(h)×\(w)")
            #expect(result.r2 > 0.9999, "\(h)×\(w): R² \(result.r2)")
        }
    }

    @Test func noiseIsNotAGabor() throws {
        for seed in UInt64(1)...5 {
            var generator = SeededGenerator(seed: seed)
            let values = (0..<121).map { _ in generator.nextGaussian() }
            let result = try GaborFit.fit(values, height: 11, width: 11)
            #expect(!result.wellFit && result.r2 < 0.5, "noise seed \(seed): R² \(result.r2)")
        }
    }

    @Test func canonicalFormDescribesTheSameFunction() {
        let g = Gabor(amplitude: -0.8, x0: 0.5, y0: 1, sigmaX: 2, sigmaY: 3, theta: 4.1, frequency: 0.2, phase: -1.3, offset: 0.2)
        let c = g.canonical
        #expect(c.theta >= 0 && c.theta < .pi && c.phase >= 0 && c.phase < 2 * .pi && c.amplitude > 0)
        for (a, b) in zip(g.image(height: 9, width: 9), c.image(height: 9, width: 9)) { #expect(abs(a - b) < 1e-12) }
    }

    @Test func constantAndMalformedFilters() throws {
        #expect(try GaborFit.fit(Array(repeating: 0.5, count: 25), height: 5, width: 5).r2 == 0)
        #expect(throws: AnalysisError.self) { try GaborFit.fit([1, 2, 3], height: 2, width: 2) }
        #expect(throws: AnalysisError.self) { try GaborFit.fit([1, 2, .nan, 4], height: 2, width: 2) }
    }

    @Test func fittingManyOnEveryCoreGivesTheFitsOneByOne() throws {
        let filters = (0..<12).map { k in
            Self.noisy(Gabor(amplitude: 1, x0: 0, y0: 0, sigmaX: 2, sigmaY: 2.5, theta: Double(k) * 0.5, frequency: 0.18, phase: Double(k),
                             offset: 0), size: 9, noise: 0.2, seed: UInt64(k))
        }
        let together = try GaborFit.fit(all: filters, height: 9, width: 9)
        #expect(together == (try filters.map { try GaborFit.fit($0, height: 9, width: 9) }))
        #expect(throws: AnalysisError.self) { try GaborFit.fit(all: filters + [[Double](repeating: .nan, count: 81)], height: 9, width: 9) }
    }

    /// The nine-unknown solver of the normal equations agrees with LAPACK's Cholesky, and
    /// reports a matrix that is not positive definite instead of returning garbage.
    @Test func normalEquationsAreSolvedAsLAPACKSolvesThem() throws {
        var generator = SeededGenerator(seed: 5)
        let n = 9
        let g = Matrix<Double>(rows: n, columns: n, rowMajor: (0..<(n * n)).map { _ in generator.nextGaussian() })
        var spd = g.transposedTimes(g)
        for i in 0..<n { spd[i, i] += 0.1 }
        let b = (0..<n).map { _ in generator.nextGaussian() }
        let expected = try spd.solvingPositiveDefinite(Matrix(rows: n, columns: 1, columnMajor: b))
        var a = (0..<n).flatMap { i in (0..<n).map { spd[i, $0] } }, x = b
        #expect(GaborFit.solvePositiveDefinite(&a, &x, count: n))
        for i in 0..<n { #expect(abs(x[i] - expected[i, 0]) < 1e-9 * max(1, abs(expected[i, 0]))) }
        var indefinite = [1.0, 2, 2, 1], y = [1.0, 1]
        #expect(!GaborFit.solvePositiveDefinite(&indefinite, &y, count: 2))
    }
}
