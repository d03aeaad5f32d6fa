import CVectorMath

/// `exp` and `erf` of float32 values sixteen at a time, without branches, for the operators
/// whose time is dominated by them (Softmax, Erf and GELU in transformers, Sigmoid).
///
/// libm's `expf` and `erff` are accurate but scalar: 6–8 ns per element, which made them a
/// third of a small ViT's forward pass. The kernels are C (the `CVectorMath` target), on
/// sixteen-lane vectors compiled for AVX-512, for AVX2 and for baseline x86-64, the best
/// the CPU has chosen as the program loads: Swift builds for baseline x86-64, where its
/// `SIMD8<Float>` ran as pairs of four-lane operations, and softmax and GELU took 1.5 ns an
/// element against onnxruntime's 0.3. Every instruction set computes the same bits: IEEE
/// operations in the same order, the polynomials' steps fused multiply-adds, which AVX-512
/// and AVX2 have as an instruction and baseline x86-64 takes from libm's `fmaf` (rounded
/// once, as the instruction; slower). The fused steps took a Zen 4 core from 0.46 to 0.35 ns
/// an element for softmax's exponentials and from 0.48 to 0.38 ns for GELU. The functions:
///
/// - `exp`: Cody–Waite reduction `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2` (ln 2 split in a
///   part exact in float32 and a correction), a degree-7 polynomial for `eʳ` in the form
///   `1 + r·(1 + r·P(r))`, and `2ᵏ` applied as two halves so that results in the subnormal
///   range underflow gradually instead of flushing to zero. At most 0.87 ulp from the exact
///   value (400 001 points in [−103.9, 88.7]); `exp(±∞)` is ∞ and 0, and NaN stays NaN.
/// - `erf`: odd, so it is computed on `|x|` and given the sign back. Up to 4,
///   `erf(x) = x·P(x²)/Q(x²)` with `P` and `Q` of degree 5 (a relative-error fit, 2.5·10⁻⁸
///   in exact arithmetic); above 4, erf is 1 in float32. Evaluated in float32, at most
///   5.4 ulp from the exact value and 0.7 ulp on average (over 2 million points in [−5, 5];
///   3.2 ulp at most over 100 000 down to 10⁻³⁰). The two polynomials are independent
///   chains, which keeps the vector units busy; a piecewise form through `exp` was 2.4 ulp
///   at most but 3 times slower.
///
/// `scripts/fit-float-erf.py` makes the coefficients of `P` and `Q` and checks their
/// float32 evaluation (without fused steps, which only lower the error above) against the
/// exact function.
package enum VectorMath {
    /// `out[i] = exp(x[i])` for `count` values.
    static func exp(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        repprobe_exp(out, x, count)
    }

    /// `out[i] = erf(x[i])`.
    static func erf(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        repprobe_erf(out, x, count)
    }

    /// `out[i] = x[i]/2 · (1 + erf(x[i]/√2))`.
    static func gelu(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        repprobe_gelu(out, x, count)
    }

    /// `out[i] = 1 / (1 + exp(−x[i]))`.
    static func sigmoid(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        repprobe_sigmoid(out, x, count)
    }

    /// `x[i] > 0 ? gradient[i] : 0` for every element: ReLU's backward pass, by masks
    /// instead of a branch per element.
    package static func reluGradient(_ x: [Float], _ gradient: [Float]) -> [Float] {
        precondition(x.count == gradient.count, "reluGradient: \(x.count) values and \(gradient.count) gradients")
        var out: [Float] = ElementLoops.uninitialized(x.count)
        repprobe_relu_gradient(&out, x, gradient, x.count)
        return out
    }

    /// The largest of `count` values (−∞ for none). NaN is not propagated: softmax, its
    /// user, gets NaN from the exponentials of a row with NaN anyway.
    static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        repprobe_maximum(x, count)
    }

    /// One row of softmax(`scale`·x) into `out` (which may be `x`): the products `x[i]·scale`
    /// rounded as a `Mul` node rounds them, their exponentials from their largest, summed
    /// in sixteen lanes that are then added pairwise, and each times `1/Σ`: three passes
    /// over the row on the CPU's widest vectors, the products taken in the exponentials'
    /// pass (their largest is the largest x times a positive scale).
    static func softmax(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int, scale: Float = 1) {
        repprobe_softmax(out, x, count, scale)
    }

    /// Writes `exp(x − shift)` for `count` values and returns their sum (log-softmax's inner
    /// pass), summed as ``softmax(_:_:_:scale:)`` sums.
    static func shiftedExponentials(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                                    minus shift: Float) -> Float {
        repprobe_shifted_exponentials(out, x, count, shift)
    }
}
