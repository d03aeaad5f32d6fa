// The C math functions the kernels use, in one place: `Float` calls the `f`-suffixed
// single-precision functions, so float32 networks never round-trip through `Double`.
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// A floating-point element type with the libm functions the operators need.
protocol FloatingKernel: NumericElement, BinaryFloatingPoint {
    static func exp(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func tan(_ x: Self) -> Self
    static func asin(_ x: Self) -> Self
    static func acos(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    static func sinh(_ x: Self) -> Self
    static func cosh(_ x: Self) -> Self
    static func asinh(_ x: Self) -> Self
    static func acosh(_ x: Self) -> Self
    static func atanh(_ x: Self) -> Self
}

extension FloatingKernel {
    static var one: Self { 1 }
    static var lowest: Self { -.infinity }
    static var highest: Self { .infinity }

    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a + b }
    @inline(__always) static func subtract(_ a: Self, _ b: Self) -> Self { a - b }
    @inline(__always) static func multiply(_ a: Self, _ b: Self) -> Self { a * b }
    @inline(__always) static func divide(_ a: Self, _ b: Self) -> Self { a / b }

    @inline(__always) static func truncatingRemainder(_ a: Self, _ b: Self) -> Self {
        a.truncatingRemainder(dividingBy: b)
    }

    /// NumPy's `mod`: a zero result takes the divisor's sign.
    @inline(__always) static func modulo(_ a: Self, _ b: Self) -> Self {
        let r = a.truncatingRemainder(dividingBy: b)
        if r == 0 { return Self(signOf: b, magnitudeOf: 0) }
        return (r < 0) != (b < 0) ? r + b : r
    }

    @inline(__always) static func power(_ a: Self, _ b: Self) -> Self { pow(a, b) }
    @inline(__always) static func maximum(_ a: Self, _ b: Self) -> Self { a.isNaN || a > b ? a : b }
    @inline(__always) static func minimum(_ a: Self, _ b: Self) -> Self { a.isNaN || a < b ? a : b }
    @inline(__always) static func negate(_ a: Self) -> Self { -a }
    @inline(__always) static func absolute(_ a: Self) -> Self { Swift.abs(a) }

    @inline(__always) init(castingFloat value: Double) { self.init(value) }
    @inline(__always) init(castingInteger value: Int64) { self.init(value) }
    @inline(__always) init(castingBool value: Bool) { self = value ? 1 : 0 }
}

extension Float: FloatingKernel {
    var doubleValue: Double { Double(self) }
    @inline(__always) func cast<U: CastableElement>(to type: U.Type) -> U { U(castingFloat: Double(self)) }

    @inline(__always) static func exp(_ x: Float) -> Float { FastFloat.exp(x) }
    @inline(__always) static func expm1(_ x: Float) -> Float { expm1f(x) }
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inline(__always) static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) static func erf(_ x: Float) -> Float { FastFloat.erf(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func sin(_ x: Float) -> Float { sinf(x) }
    @inline(__always) static func cos(_ x: Float) -> Float { cosf(x) }
    @inline(__always) static func tan(_ x: Float) -> Float { tanf(x) }
    @inline(__always) static func asin(_ x: Float) -> Float { asinf(x) }
    @inline(__always) static func acos(_ x: Float) -> Float { acosf(x) }
    @inline(__always) static func atan(_ x: Float) -> Float { atanf(x) }
    @inline(__always) static func sinh(_ x: Float) -> Float { sinhf(x) }
    @inline(__always) static func cosh(_ x: Float) -> Float { coshf(x) }
    @inline(__always) static func asinh(_ x: Float) -> Float { asinhf(x) }
    @inline(__always) static func acosh(_ x: Float) -> Float { acoshf(x) }
    @inline(__always) static func atanh(_ x: Float) -> Float { atanhf(x) }
}

extension Double: FloatingKernel {
    var doubleValue: Double { self }
    @inline(__always) func cast<U: CastableElement>(to type: U.Type) -> U { U(castingFloat: self) }

    @inline(__always) static func exp(_ x: Double) -> Double { libm_exp(x) }
    @inline(__always) static func expm1(_ x: Double) -> Double { libm_expm1(x) }
    @inline(__always) static func log(_ x: Double) -> Double { libm_log(x) }
    @inline(__always) static func log1p(_ x: Double) -> Double { libm_log1p(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { libm_pow(x, y) }
    @inline(__always) static func erf(_ x: Double) -> Double { libm_erf(x) }
    @inline(__always) static func tanh(_ x: Double) -> Double { libm_tanh(x) }
    @inline(__always) static func sin(_ x: Double) -> Double { libm_sin(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { libm_cos(x) }
    @inline(__always) static func tan(_ x: Double) -> Double { libm_tan(x) }
    @inline(__always) static func asin(_ x: Double) -> Double { libm_asin(x) }
    @inline(__always) static func acos(_ x: Double) -> Double { libm_acos(x) }
    @inline(__always) static func atan(_ x: Double) -> Double { libm_atan(x) }
    @inline(__always) static func sinh(_ x: Double) -> Double { libm_sinh(x) }
    @inline(__always) static func cosh(_ x: Double) -> Double { libm_cosh(x) }
    @inline(__always) static func asinh(_ x: Double) -> Double { libm_asinh(x) }
    @inline(__always) static func acosh(_ x: Double) -> Double { libm_acosh(x) }
    @inline(__always) static func atanh(_ x: Double) -> Double { libm_atanh(x) }
}

// Inside `extension Double` the names `exp`, `log`, … mean the members below, so the C
// functions are reached through these.
@inline(__always) private func libm_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) private func libm_expm1(_ x: Double) -> Double { expm1(x) }
@inline(__always) private func libm_log(_ x: Double) -> Double { log(x) }
@inline(__always) private func libm_log1p(_ x: Double) -> Double { log1p(x) }
@inline(__always) private func libm_erf(_ x: Double) -> Double { erf(x) }
@inline(__always) private func libm_tanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) private func libm_sin(_ x: Double) -> Double { sin(x) }
@inline(__always) private func libm_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func libm_tan(_ x: Double) -> Double { tan(x) }
@inline(__always) private func libm_asin(_ x: Double) -> Double { asin(x) }
@inline(__always) private func libm_acos(_ x: Double) -> Double { acos(x) }
@inline(__always) private func libm_atan(_ x: Double) -> Double { atan(x) }
@inline(__always) private func libm_sinh(_ x: Double) -> Double { sinh(x) }
@inline(__always) private func libm_cosh(_ x: Double) -> Double { cosh(x) }
@inline(__always) private func libm_asinh(_ x: Double) -> Double { asinh(x) }
@inline(__always) private func libm_acosh(_ x: Double) -> Double { acosh(x) }
@inline(__always) private func libm_atanh(_ x: Double) -> Double { atanh(x) }
@inline(__always) private func libm_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

/// `exp` and `erf` for float32 in plain arithmetic, so that loops over activations
/// vectorise (glibc's `expf`/`erff` are one call per element). Softmax, sigmoid, GELU and
/// the other float32 kernels go through these.
///
/// - `exp`: `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2`, `eʳ` by its Taylor polynomial of degree
///   7 (truncation error below 6e-9), `2ᵏ` put into the exponent bits; within 2 ulp of the
///   correctly rounded value. Results below `FLT_MIN` flush to 0; above `FLT_MAX`, +inf.
/// - `erf`: for `|x| < 0.8` the Maclaurin series to `x¹⁹`; otherwise Abramowitz & Stegun
///   7.1.26, `1 − (a₁t + … + a₅t⁵)·e^{−x²}` with `t = 1/(1 + p|x|)` (absolute error below
///   1.5e-7 where `erf(x) > 0.74`). Relative error below 5e-7 everywhere: the series keeps
///   it small near 0, where the A&S form would not.
enum FastFloat {
    @inline(__always) static func exp(_ x: Float) -> Float {
        let log2e: Float = 1.44269504088896341
        let ln2High: Float = 0.693145751953125
        let ln2Low: Float = 1.42860682030941723212e-6
        let clamped = Swift.min(Swift.max(x, -87.3365), 88.7228)
        // Round to the nearest integer with the 1.5·2²³ trick: adds only, so it vectorises.
        let shifter: Float = 12582912
        let shifted = clamped * log2e + shifter
        let k = shifted - shifter
        let r = (clamped - k * ln2High) - k * ln2Low
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2ᵏ as two normal factors, since k runs from −126 to 128.
        let exponent = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
        let half = exponent >> 1
        let scale1 = Float(bitPattern: UInt32(bitPattern: (half &+ 127) << 23))
        let scale2 = Float(bitPattern: UInt32(bitPattern: (exponent &- half &+ 127) << 23))
        let value = p * scale1 * scale2
        let result = x > 88.7228 ? Float.infinity : (x < -87.3365 ? 0 : value)
        return x.isNaN ? x : result
    }

    @inline(__always) static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        // Near zero: 2/√π · Σ (−1)ⁿ x²ⁿ⁺¹ / (n!(2n+1)), n ≤ 9.
        let x2 = x * x
        var s: Float = -1.0 / 6894720
        s = s * x2 + 1.0 / 685440
        s = s * x2 - 1.0 / 75600
        s = s * x2 + 1.0 / 9360
        s = s * x2 - 1.0 / 1320
        s = s * x2 + 1.0 / 216
        s = s * x2 - 1.0 / 42
        s = s * x2 + 1.0 / 10
        s = s * x2 - 1.0 / 3
        s = s * x2 + 1
        let series = 1.1283791670955126 * x * s
        // Elsewhere: Abramowitz & Stegun 7.1.26.
        let t = 1 / (1 + 0.3275911 * a)
        var q: Float = 1.061405429
        q = q * t - 1.453152027
        q = q * t + 1.421413741
        q = q * t - 0.284496736
        q = q * t + 0.254829592
        let tail = 1 - q * t * exp(-x2)
        let far = x < 0 ? -tail : tail
        let result = a < 0.8 ? series : far
        return x.isNaN ? x : result
    }
}
