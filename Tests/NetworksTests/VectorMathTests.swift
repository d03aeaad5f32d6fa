import CVectorMath
import Foundation
import Testing
@testable import Networks

#if canImport(Glibc)
import Glibc
#endif

/// Double-precision libm, the reference for the float32 vector functions.
func libmExp(_ x: Double) -> Double { exp(x) }
func libmErf(_ x: Double) -> Double { erf(x) }

/// The sixteen-lane `exp` and `erf` (in the instruction set this CPU selects) against
/// double-precision libm over dense grids, and at the special values; every count, so that
/// partial vectors are covered.
@Suite struct VectorMathTests {
    /// |value − exact| in units of the float32 spacing at the exact value (the spacing of the
    /// smallest normal below it, so subnormal results are measured against 2⁻¹⁴⁹).
    static func ulps(_ value: Float, _ exact: Double) -> Double {
        let spacing = Double(max(Float(exact).magnitude, .leastNormalMagnitude).ulp)
        return abs(Double(value) - exact) / spacing
    }

    static func apply(_ f: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void, _ x: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { out in f(out.baseAddress!, x.baseAddress!, x.count) }
        }
        return out
    }

    static func grid(_ lower: Float, _ upper: Float, _ count: Int) -> [Float] {
        (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) }
    }

    /// ReLU's backward pass keeps a gradient where the activation is positive and gives +0
    /// elsewhere (zero, −0, negative or NaN activations), whole vectors and partial ones.
    @Test(arguments: [1, 15, 16, 17, 100])
    func reluGradientKeepsPositiveActivationsOnly(count: Int) {
        let specials: [Float] = [0, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, -1, 2]
        let x = (0..<count).map { specials[$0 % specials.count] }
        let gradient = (0..<count).map { Float($0) - 7.5 }
        let out = VectorMath.reluGradient(x, gradient)
        let expected = zip(x, gradient).map { $0 > 0 ? $1 : Float(0) }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func expIsWithinOneUlp() {
        let x = Self.grid(-103.9, 88.7, 400_001)
        let y = Self.apply(VectorMath.exp, x)
        let worst = zip(y, x).map { Self.ulps($0, libmExp(Double($1))) }.max() ?? .infinity
        #expect(worst <= 1)
    }

    @Test func expAtSpecialValues() {
        let x: [Float] = [0, -0.0, 1, -1, .nan, .infinity, -.infinity, 89, 88.72, -87.3, -100, -104, -200, 1e-30]
        let y = Self.apply(VectorMath.exp, x)
        #expect(y[0] == 1 && y[1] == 1)
        #expect(Self.ulps(y[2], M_E) <= 1 && Self.ulps(y[3], 1 / M_E) <= 1)
        #expect(y[4].isNaN)
        #expect(y[5] == .infinity && y[6] == 0)
        #expect(y[7] == .infinity)
        #expect(Self.ulps(y[8], libmExp(Double(x[8]))) <= 1)
        // Subnormal results underflow gradually: exp(−100) ≈ 3.7·10⁻⁴⁴.
        #expect(Self.ulps(y[9], libmExp(Double(x[9]))) <= 1)
        #expect(y[10] > 0 && Self.ulps(y[10], libmExp(-100)) <= 1)
        #expect(y[11] == 0 && y[12] == 0)
        #expect(y[13] == 1)
    }

    @Test func erfIsWithinSixUlps() {
        var x = Self.grid(-5, 5, 400_001)
        x += (0..<2_000).map { Float(pow(10, -30 + 30 * Double($0) / 1_999)) }
        let y = Self.apply(VectorMath.erf, x)
        let worst = zip(y, x).map { Self.ulps($0, libmErf(Double($1))) }.max() ?? .infinity
        #expect(worst <= 6)
    }

    @Test func erfAtSpecialValues() {
        let x: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 4, 10, -10, .leastNonzeroMagnitude]
        let y = Self.apply(VectorMath.erf, x)
        #expect(y[0] == 0 && y[0].sign == .plus)
        #expect(y[1] == 0 && y[1].sign == .minus)
        #expect(y[2].isNaN)
        #expect(y[3] == 1 && y[4] == -1)
        #expect(y[5] == 1 && y[6] == 1 && y[7] == -1)
        #expect(y[8] >= 0 && y[8] <= Float.leastNonzeroMagnitude * 2)
    }

    @Test func softmaxMaximumAndSumCoverPartialVectors() {
        for count in [1, 7, 8, 9, 15, 16, 17, 197] {
            let x = (0..<count).map { Float(($0 * 37) % 23) - 11 }
            var out = [Float](repeating: 0, count: count)
            let largest = x.withUnsafeBufferPointer { VectorMath.maximum($0.baseAddress!, count) }
            let sum = x.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { out in
                    VectorMath.shiftedExponentials(out.baseAddress!, x.baseAddress!, count, minus: largest)
                }
            }
            #expect(largest == (x.max() ?? -.infinity))
            let expected = x.map { libmExp(Double($0 - largest)) }
            #expect(zip(out, expected).allSatisfy { Self.ulps($0, $1) <= 1 })
            #expect(abs(Double(sum) - expected.reduce(0, +)) <= 1e-6 * max(1, expected.reduce(0, +)))
        }
    }

    /// The version this CPU runs (AVX-512 or AVX2) gives the bits of the baseline x86-64
    /// one, whose fused multiply-adds are libm's `fmaf`: exp, erf and GELU over their whole
    /// working range, special values included, and softmax rows.
    @Test func everyInstructionSetGivesTheSameBits() {
        let x = Self.grid(-110, 100, 200_003) + Self.grid(-5, 5, 100_001)
            + [0, -0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 1e-30, -1e-30]
        let pairs: [(String, (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void,
                     (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void)] = [
            ("exp", { repprobe_exp($0, $1, $2) }, { repprobe_exp_baseline($0, $1, $2) }),
            ("erf", { repprobe_erf($0, $1, $2) }, { repprobe_erf_baseline($0, $1, $2) }),
            ("gelu", { repprobe_gelu($0, $1, $2) }, { repprobe_gelu_baseline($0, $1, $2) }),
            ("softmax", { repprobe_softmax($0, $1, $2, 0.125) }, { repprobe_softmax_baseline($0, $1, $2, 0.125) }),
        ]
        for (name, own, baseline) in pairs {
            for count in [197, x.count] {
                let values = Array(x.suffix(count))
                let (fast, slow) = (Self.apply(own, values), Self.apply(baseline, values))
                #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern), "\(name), \(count) values")
            }
        }
    }

    /// A whole softmax row, scaled and in place, has the bits of its steps taken one by one
    /// (the rounded products, their largest, the shifted exponentials, their sum in sixteen
    /// lanes added pairwise, each times 1/Σ), and is within float32 rounding of the exact
    /// softmax (the sum's rounding dominates); a scale of 1 leaves the products as they are;
    /// a negative scale, whose largest product is not the largest x's, too.
    @Test(arguments: [Float(0.125), 1, -0.3])
    func softmaxRowIsItsStepsInOnePass(scale: Float) {
        for count in [1, 7, 15, 16, 17, 100, 197] {
            let x = (0..<count).map { Float(($0 * 53) % 31) * 0.7 - 9 }
            let products = x.map { $0 * scale }
            let largest = products.max()!
            var steps = [Float](repeating: 0, count: count)
            _ = products.withUnsafeBufferPointer { p in
                steps.withUnsafeMutableBufferPointer { VectorMath.shiftedExponentials($0.baseAddress!, p.baseAddress!, count, minus: largest) }
            }
            var lanes = [Float](repeating: 0, count: 16)
            for (i, e) in steps.enumerated() { lanes[i % 16] += e }
            for width in [8, 4, 2, 1] { for i in 0..<width { lanes[i] += lanes[i + width] } }
            let inverse = 1 / lanes[0]
            steps = steps.map { $0 * inverse }
            var row = x
            row.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, $0.baseAddress!, count, scale: scale) }
            #expect(row == steps, "\(count) values")
            let exact = x.map { libmExp(Double($0 * scale) - Double(largest)) }
            let total = exact.reduce(0, +)
            #expect(zip(row, exact).allSatisfy { abs(Double($0) - $1 / total) <= 4e-6 * $1 / total }, "\(count) values")
        }
    }

    @Test func activationsBuiltOnThemMatchTheirFormulas() throws {
        let x = ParallelKernelTests.values(1_003, seed: 9).map { $0 * 12 }
        let tensor = Tensor(shape: [x.count], elements: x)
        let sigmoid = try #require(try ShapeOperatorTests.run("Sigmoid", [tensor])[0].floats)
        let gelu = try #require(try ShapeOperatorTests.run("Gelu", [tensor], opset: 20)[0].floats)
        for (i, v) in x.enumerated() {
            let s = 1 / (1 + libmExp(-Double(v)))
            let g = 0.5 * Double(v) * (1 + libmErf(Double(v) / 2.0.squareRoot()))
            #expect(abs(Double(sigmoid[i]) - s) <= 4e-7 * s)
            #expect(abs(Double(gelu[i]) - g) <= 1e-6 * max(1, abs(g)))
        }
    }
}
