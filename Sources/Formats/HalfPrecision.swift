/// Conversions between `Float` and the 16-bit float formats, by bit manipulation.
///
/// - IEEE 754 binary16 (`float16`, NumPy `<f2`, safetensors `F16`): 1 sign bit,
///   5 exponent bits (bias 15), 10 fraction bits; subnormals below 2⁻¹⁴.
/// - bfloat16 (safetensors `BF16`): the upper half of a `Float`, 8 exponent bits and
///   7 fraction bits.
///
/// Widening is exact. Narrowing rounds to nearest, ties to even; values beyond the largest
/// finite number become infinities, values too small become (signed) zeros or subnormals,
/// and NaNs stay NaN (quiet, sign and leading payload bits kept).
///
/// Written out rather than using Swift's `Float16`, which is missing on some platforms
/// (macOS on Intel); the tests compare against `Float16` where it exists.
public enum HalfPrecision {
    /// The `Float` with the value of the binary16 number whose bits are `bits`.
    public static func float(fromFloat16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        var fraction = UInt32(bits & 0x03FF)
        switch exponent {
        case 0:
            if fraction == 0 { return Float(bitPattern: sign) }
            // Subnormal: shift the fraction up until its leading one becomes the implicit bit.
            var unbiased: Int32 = -14
            while fraction & 0x0400 == 0 {
                fraction <<= 1
                unbiased -= 1
            }
            fraction &= 0x03FF
            return Float(bitPattern: sign | UInt32(unbiased + 127) << 23 | fraction << 13)
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
        default:
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | fraction << 13)
        }
    }

    /// The bits of the binary16 number nearest to `value` (ties to even).
    public static func float16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
        let exponent = Int((bits >> 23) & 0xFF)
        let fraction = bits & 0x007F_FFFF
        if exponent == 0xFF {
            if fraction == 0 { return sign | 0x7C00 }
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: fraction >> 13)
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent >= 1 {
            // Normal: drop 13 fraction bits; a carry out of the fraction correctly bumps the
            // exponent, and past the largest finite value it lands exactly on infinity.
            var half = UInt32(halfExponent) << 10 | fraction >> 13
            let dropped = fraction & 0x1FFF
            if dropped > 0x1000 || (dropped == 0x1000 && half & 1 == 1) { half += 1 }
            return sign | UInt16(truncatingIfNeeded: half)
        }
        // Subnormal or zero: the result counts units of 2⁻²⁴.
        let shift = 14 - halfExponent  // ≥ 14
        if shift > 24 { return sign }
        let significand = fraction | 0x0080_0000
        var half = significand >> UInt32(shift)
        let dropped = significand & ((1 << UInt32(shift)) - 1)
        let halfway: UInt32 = 1 << UInt32(shift - 1)
        if dropped > halfway || (dropped == halfway && half & 1 == 1) { half += 1 }
        return sign | UInt16(truncatingIfNeeded: half)
    }

    /// The `Float` with the value of the bfloat16 number whose bits are `bits`.
    public static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The bits of the bfloat16 number nearest to `value` (ties to even).
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }
}
