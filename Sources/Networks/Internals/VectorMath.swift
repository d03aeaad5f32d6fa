/// `exp` and `erf` of float32 values eight at a time, without branches, for the operators
/// whose time is dominated by them (Softmax, Erf and GELU in transformers, Sigmoid).
///
/// libm's `expf` and `erff` are accurate but scalar: 6–8 ns per element, which made them a
/// third of a small ViT's forward pass. These run on `SIMD8<Float>` lanes:
///
/// - `exp`: Cody–Waite reduction `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2` (ln 2 split in a
///   part exact in float32 and a correction), a degree-7 polynomial for `eʳ`, and `2ᵏ`
///   applied as two halves so that results in the subnormal range underflow gradually
///   instead of flushing to zero. At most 1 ulp from the correctly rounded value for
///   normal results; `exp(±∞)` is ∞ and 0, and NaN stays NaN.
/// - `erf`: odd, so it is computed on `|x|` and given the sign back. Up to 4,
///   `erf(x) = x·P(x²)/Q(x²)` with `P` and `Q` of degree 5 (a relative-error fit, 2.5·10⁻⁸
///   in exact arithmetic); above 4, erf is 1 in float32. Evaluated in float32, at most
///   5.9 ulp from the exact value and 1 ulp on average (over 2 million points in [−5, 5]
///   and 100 000 down to 10⁻³⁰). The two polynomials are independent chains, which keeps
///   the vector units busy; a piecewise form through `exp` was 2.4 ulp at most but
///   3 times slower.
///
/// `scripts/fit-float-erf.py` makes the coefficients of `P` and `Q` and checks their
/// float32 evaluation against the exact function.
enum VectorMath {
    typealias Vector = SIMD8<Float>
    static let width = 8

    // MARK: exp

    private static let log2e: Float = 1.44269504088896341
    /// ln 2 = `ln2High + ln2Low`, the high part with enough trailing zero bits that `k·ln2High`
    /// is exact for every `k` the clamped range produces.
    private static let ln2High: Float = 0.693359375
    private static let ln2Low: Float = -2.12194440e-4
    /// 1.5·2²³: adding it rounds a float32 of magnitude below 2²² to an integer, which then
    /// sits in the low bits of the sum's bit pattern.
    private static let roundingShift: Float = 12_582_912
    /// Beyond these every result is ∞ or 0 (the clamped values still give ∞ and 0).
    private static let expLowest: Float = -104
    private static let expHighest: Float = 89

    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // Comparisons and selects rather than `clamped`, whose pointwise min and max are
        // not inlined.
        let clamped = x.replacing(with: expLowest, where: x .< expLowest).replacing(with: expHighest, where: x .> expHighest)
        let shifted = clamped * log2e + roundingShift
        let k = shifted - roundingShift
        let r = (clamped - k * ln2High) - k * ln2Low
        // (eʳ − 1 − r)/r², close to its Taylor series.
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // The integer k, read from the low bits of `shifted`, and 2ᵏ as 2^(k/2)·2^(k − k/2),
        // each factor a normal number for every k in the clamped range (−150…129).
        let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: roundingShift.bitPattern)
        let half = bits &>> 1
        let first = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let second = unsafeBitCast((bits &- half &+ 127) &<< 23, to: Vector.self)
        let result = p * first * second
        return result.replacing(with: x, where: x .!= x)
    }

    // MARK: erf

    /// erf(4) rounds to 1 in float32.
    private static let erfLimit: Float = 4

    @inline(__always)
    static func erf(_ x: Vector) -> Vector {
        let signBit = SIMD8<UInt32>(repeating: 0x8000_0000)
        let xBits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
        let magnitude = unsafeBitCast(xBits & ~signBit, to: Vector.self)
        let beyond = magnitude .>= erfLimit
        let a = magnitude.replacing(with: erfLimit, where: beyond)
        let t = a * a
        // erf(x)/x = P(x²)/Q(x²); both have positive coefficients, so neither cancels.
        var p = Vector(repeating: 1.9867586615873734e-06)
        p = p * t + 0.0002845432027243078
        p = p * t + 0.003882758552208543
        p = p * t + 0.05309993401169777
        p = p * t + 0.1935328096151352
        p = p * t + 1.1283791065216064
        var q = Vector(repeating: 3.741872569662519e-05)
        q = q * t + 0.0011854107724502683
        q = q * t + 0.015206094831228256
        q = q * t + 0.11534476280212402
        q = q * t + 0.5048465728759766
        q = q * t + 1
        let value = a * p / q
        let bounded = value.replacing(with: 1, where: (value .> 1) .| beyond)
        let result = unsafeBitCast(unsafeBitCast(bounded, to: SIMD8<UInt32>.self) | (xBits & signBit), to: Vector.self)
        return result.replacing(with: x, where: x .!= x)
    }

    // MARK: Runs of values

    /// `f` over `count` values, eight at a time; the last partial group goes through a
    /// zero-padded vector.
    @inline(__always)
    static func map(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int, _ f: (Vector) -> Vector) {
        var i = 0
        while i + width <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: f(v), as: Vector.self)
            i += width
        }
        if i < count {
            var v = Vector()
            for lane in 0..<(count - i) { v[lane] = x[i + lane] }
            let result = f(v)
            for lane in 0..<(count - i) { out[i + lane] = result[lane] }
        }
    }

    /// The largest of `count` values (−∞ for none). NaN is not propagated: softmax, its
    /// user, gets NaN from the exponentials of a row with NaN anyway.
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = Vector(repeating: -.infinity)
        var i = 0
        while i + width <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
            lanes = lanes.replacing(with: v, where: v .> lanes)
            i += width
        }
        var largest = lanes.max()
        while i < count {
            if x[i] > largest { largest = x[i] }
            i += 1
        }
        return largest
    }

    /// Writes `exp(x − shift)` for `count` values and returns their sum (softmax's inner
    /// pass), summed in eight lanes.
    static func shiftedExponentials(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                                    minus shift: Float) -> Float {
        var sums = Vector()
        var i = 0
        while i + width <= count {
            let e = exp(UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self) - shift)
            UnsafeMutableRawPointer(out + i).storeBytes(of: e, as: Vector.self)
            sums += e
            i += width
        }
        var total = sums.sum()
        if i < count {
            var v = Vector(repeating: -.infinity)
            for lane in 0..<(count - i) { v[lane] = x[i + lane] }
            let e = exp(v - shift)
            for lane in 0..<(count - i) {
                out[i + lane] = e[lane]
                total += e[lane]
            }
        }
        return total
    }
}

