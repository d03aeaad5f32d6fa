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

    @inline(__always) static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func expm1(_ x: Float) -> Float { expm1f(x) }
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inline(__always) static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) static func erf(_ x: Float) -> Float { erff(x) }
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

