// Element protocols for the element-wise and reduction kernels.
//
// Design note: a kernel is written once as a generic function over these protocols and
// called from one `switch` over the storage, so the optimiser specialises it per element
// type and inlines the operations: no per-element dispatch. Integer and floating-point
// semantics that ONNX defines differently (division, remainder, overflow, NaN) live here,
// once per kind, instead of in every operator.

/// An element that ONNX's `Cast` can convert to and from: every ``TensorElement``.
///
/// Conversions go through `Double` from floats, through `Int64` from integers and through
/// `Bool` from booleans, so none is rounded twice.
protocol CastableElement: TensorElement, BitwiseCopyable {
    /// A float converted to this type: integers truncate toward zero (NaN gives 0, values
    /// outside the range saturate); `bool` is `value != 0`.
    init(castingFloat value: Double)
    /// An integer converted to this type: integers wrap as C's conversions do.
    init(castingInteger value: Int64)
    /// `false` → 0, `true` → 1.
    init(castingBool value: Bool)
    /// This element converted to `U`.
    func cast<U: CastableElement>(to type: U.Type) -> U
}

/// An element with arithmetic: every ``TensorElement`` but `Bool`.
///
/// Integer arithmetic wraps on overflow, and division or remainder by zero gives 0 rather
/// than trapping (ONNX leaves both undefined). Floating-point `maximum` and `minimum`
/// propagate NaN, as NumPy's do.
protocol NumericElement: CastableElement, Comparable {
    static var one: Self { get }
    /// The identity of `maximum`: −∞ for floats, the smallest value for integers.
    static var lowest: Self { get }
    /// The identity of `minimum`: +∞ for floats, the largest value for integers.
    static var highest: Self { get }
    static func add(_ a: Self, _ b: Self) -> Self
    static func subtract(_ a: Self, _ b: Self) -> Self
    static func multiply(_ a: Self, _ b: Self) -> Self
    /// `a / b`; integers truncate toward zero, as in C.
    static func divide(_ a: Self, _ b: Self) -> Self
    /// The remainder with the sign of the divisor (Python's `%`, NumPy's `mod`).
    static func modulo(_ a: Self, _ b: Self) -> Self
    /// The remainder with the sign of the dividend (C's `fmod` and `%`).
    static func truncatingRemainder(_ a: Self, _ b: Self) -> Self
    /// `a` to the power `b`; integer powers are exact (wrapping), negative integer
    /// exponents give `1 / a^|b|` truncated.
    static func power(_ a: Self, _ b: Self) -> Self
    static func maximum(_ a: Self, _ b: Self) -> Self
    static func minimum(_ a: Self, _ b: Self) -> Self
    static func negate(_ a: Self) -> Self
    static func absolute(_ a: Self) -> Self
    /// The value as a `Double` (for mixed-type `Pow`).
    var doubleValue: Double { get }
}

// MARK: - Integers

/// The integer element types.
protocol IntegerElement: NumericElement, FixedWidthInteger {}

extension IntegerElement {
    static var one: Self { 1 }
    static var lowest: Self { .min }
    static var highest: Self { .max }

    @inline(__always) static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    @inline(__always) static func subtract(_ a: Self, _ b: Self) -> Self { a &- b }
    @inline(__always) static func multiply(_ a: Self, _ b: Self) -> Self { a &* b }

    @inline(__always) static func divide(_ a: Self, _ b: Self) -> Self {
        b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue
    }

    @inline(__always) static func truncatingRemainder(_ a: Self, _ b: Self) -> Self {
        b == 0 ? 0 : a.remainderReportingOverflow(dividingBy: b).partialValue
    }

    @inline(__always) static func modulo(_ a: Self, _ b: Self) -> Self {
        let r = truncatingRemainder(a, b)
        return r != 0 && (r < 0) != (b < 0) ? r &+ b : r
    }

    static func power(_ a: Self, _ b: Self) -> Self {
        if b < 0 {
            // Only ±1 have integer reciprocals.
            if a == 1 { return 1 }
            if Self.isSigned && a == 0 &- 1 { return b & 1 == 0 ? 1 : a }
            return 0
        }
        var result: Self = 1
        var base = a
        var exponent = b
        while exponent > 0 {
            if exponent & 1 == 1 { result = result &* base }
            base = base &* base
            exponent >>= 1
        }
        return result
    }

    @inline(__always) static func maximum(_ a: Self, _ b: Self) -> Self { a > b ? a : b }
    @inline(__always) static func minimum(_ a: Self, _ b: Self) -> Self { a < b ? a : b }
    @inline(__always) static func negate(_ a: Self) -> Self { 0 &- a }
    @inline(__always) static func absolute(_ a: Self) -> Self { a < 0 ? 0 &- a : a }

    var doubleValue: Double { Double(self) }

    @inline(__always) init(castingFloat value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= Double(Self.max) {
            self = .max
        } else if value <= Double(Self.min) {
            self = .min
        } else {
            self = Self(value)
        }
    }

    @inline(__always) init(castingInteger value: Int64) { self.init(truncatingIfNeeded: value) }
    @inline(__always) init(castingBool value: Bool) { self = value ? 1 : 0 }
    @inline(__always) func cast<U: CastableElement>(to type: U.Type) -> U { U(castingInteger: Int64(self)) }
}

extension Int64: IntegerElement {}
extension Int32: IntegerElement {}
extension Int8: IntegerElement {}
extension UInt8: IntegerElement {}

// MARK: - Booleans

extension Bool: CastableElement {
    @inline(__always) init(castingFloat value: Double) { self = value != 0 }
    @inline(__always) init(castingInteger value: Int64) { self = value != 0 }
    @inline(__always) init(castingBool value: Bool) { self = value }
    @inline(__always) func cast<U: CastableElement>(to type: U.Type) -> U { U(castingBool: self) }
}
