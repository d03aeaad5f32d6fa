import Foundation
import Testing
@testable import Networks

/// The vectorisable float32 `exp` and `erf` against double-precision libm.
@Suite struct FastFloatTests {
    static let samples: [Float] = (0...200_000).map { Float(-100 + Double($0) * 0.001) }
        + [0, -0.0, 1e-30, -1e-30, 1e-7, 88.7, 88.72, -87.3, -87.33, 100, -100]

    @Test func expIsWithinAFewUlpOfTheTrueValue() {
        var worst = 0.0
        for x in Self.samples {
            let truth = Foundation.exp(Double(x))
            let value = Double(FastFloat.exp(x))
            if truth > Double(Float.greatestFiniteMagnitude) { #expect(value == .infinity); continue }
            if truth < Double(Float.leastNormalMagnitude) { #expect(value < 1.2e-38); continue }
            let error = abs(value - truth) / truth
            #expect(error < 3e-7, "exp(\(x)) = \(value), true \(truth)")
            worst = max(worst, error)
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(FastFloat.exp(.nan).isNaN)
        #expect(FastFloat.exp(-.infinity) == 0 && FastFloat.exp(.infinity) == .infinity)
    }

    @Test func erfHasSmallRelativeErrorEverywhere() {
        var worst = 0.0
        for x in Self.samples where x != 0 {
            let truth = Foundation.erf(Double(x))
            let value = Double(FastFloat.erf(x))
            worst = max(worst, abs(value - truth) / abs(truth))
        }
        #expect(worst < 5e-7, "worst relative error \(worst)")
        #expect(FastFloat.erf(0) == 0 && FastFloat.erf(.nan).isNaN)
        #expect(FastFloat.erf(.infinity) == 1 && FastFloat.erf(-.infinity) == -1)
    }
}
