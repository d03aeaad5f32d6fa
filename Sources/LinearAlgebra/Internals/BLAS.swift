import CLAPACK
import CVectorMath
import Synchronization

// The BLAS half of the C boundary. Every call into CBLAS in repprobe is in this file;
// arguments are labelled inline because the C signatures are positional.

/// A floating-point type that BLAS level-3 kernels exist for (`Float` → `s*`, `Double` → `d*`).
///
/// The underscored requirements are the raw kernels; call the `Matrix` methods instead.
public protocol BLASScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
    /// `C ← alpha · op(A) · op(B) + beta · C`, column-major. The C function is `cblas_?gemm`,
    /// or for `Double` and a `B` of a few columns, `repprobe_dgemm_narrow`.
    static func _gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Upper triangle of `C ← alpha · op(A) · op(A)ᵀ + beta · C`. The C function is `cblas_?syrk`.
    static func _syrk(
        trans: Bool, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// `y ← alpha · op(A) · x + beta · y`. The C function is `cblas_?gemv`.
    static func _gemv(
        trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
    /// `xᵀy` over `n` contiguous elements. The C function is `cblas_?dot`.
    static func _dot(n: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Self
    /// `xᵀy` over `n` contiguous elements, accumulated in `Double`. The C function is
    /// `cblas_ddot` for `Double` and `cblas_dsdot` for `Float`.
    static func _dotInDouble(n: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Double
}

/// The multiply-adds from which a product with a narrow B (at most
/// `REPPROBE_NARROW_COLUMNS` columns) runs on `repprobe_dgemm_narrow`: 0.20 against
/// OpenBLAS's 0.43 ms for 4 000 × 256 by 256 × 10 on two cores, 12 against 27 µs for
/// 1 000 × 64 by 64 × 10, even from about 3·10⁵ down.
let narrowProductWork = 1 << 19

@inline(__always) private func transpose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }
@inline(__always) private func i32(_ value: Int) -> Int32 {
    precondition(value <= Int(Int32.max), "dimension \(value) exceeds the 32-bit BLAS interface")
    return Int32(value)
}

extension Double: BLASScalar {
    public static func _gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        // A tall matrix with a few columns (scores of samples on a few outputs, or their
        // gradient): own kernels, twice as fast as a general product that packs the large
        // operand on every call. The kernels' vectors run down A's columns (A's rows, or
        // the inner index when A is transposed), which must fill them; small products stay
        // with BLAS, which is as fast there.
        if !transB, n <= Int(REPPROBE_NARROW_COLUMNS), (transA ? k : m) >= 64, m * n * k >= narrowProductWork,
           beta == 0 || beta == 1,
           repprobe_dgemm_narrow(transA ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, c, ldc, beta == 1 ? 1 : 0) != 0 {
            return
        }
        cblas_dgemm(CblasColMajor, transpose(transA), transpose(transB), i32(m), i32(n), i32(k),
                    alpha, a, /*lda*/ i32(lda), b, /*ldb*/ i32(ldb), beta, c, /*ldc*/ i32(ldc))
    }

    public static func _syrk(
        trans: Bool, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dsyrk(CblasColMajor, CblasUpper, transpose(trans), i32(n), i32(k),
                    alpha, a, /*lda*/ i32(lda), beta, c, /*ldc*/ i32(ldc))
    }

    public static func _gemv(
        trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(CblasColMajor, transpose(trans), i32(m), i32(n), alpha, a, /*lda*/ i32(lda),
                    x, /*incx*/ 1, beta, y, /*incy*/ 1)
    }

    public static func _dot(n: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        cblas_ddot(i32(n), x, /*incx*/ 1, y, /*incy*/ 1)
    }

    public static func _dotInDouble(n: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        cblas_ddot(i32(n), x, /*incx*/ 1, y, /*incy*/ 1)
    }
}

extension Double {
    /// `B ← A·B` for lower-triangular `A` (`m × m`, non-unit diagonal) and `B` (`m × n`),
    /// column-major. The C function is `cblas_dtrmm`.
    static func _lowerTriangularProduct(m: Int, n: Int, a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) {
        cblas_dtrmm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, i32(m), i32(n), 1, a, /*lda*/ i32(lda),
                    b, /*ldb*/ i32(ldb))
    }
}

extension Float: BLASScalar {
    public static func _gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasColMajor, transpose(transA), transpose(transB), i32(m), i32(n), i32(k),
                    alpha, a, /*lda*/ i32(lda), b, /*ldb*/ i32(ldb), beta, c, /*ldc*/ i32(ldc))
    }

    public static func _syrk(
        trans: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_ssyrk(CblasColMajor, CblasUpper, transpose(trans), i32(n), i32(k),
                    alpha, a, /*lda*/ i32(lda), beta, c, /*ldc*/ i32(ldc))
    }

    public static func _gemv(
        trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasColMajor, transpose(trans), i32(m), i32(n), alpha, a, /*lda*/ i32(lda),
                    x, /*incx*/ 1, beta, y, /*incy*/ 1)
    }

    public static func _dot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(i32(n), x, /*incx*/ 1, y, /*incy*/ 1)
    }

    /// Not `cblas_dsdot`: Debian's OpenBLAS 0.3.21 adds the Float products in Float on
    /// current x86-64 kernels and widens only the partial sums, which loses the point.
    /// Four Double accumulators keep the loop vectorised.
    public static func _dotInDouble(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += Double(x[i]) * Double(y[i])
            s1 += Double(x[i + 1]) * Double(y[i + 1])
            s2 += Double(x[i + 2]) * Double(y[i + 2])
            s3 += Double(x[i + 3]) * Double(y[i + 3])
            i += 4
        }
        while i < n {
            s0 += Double(x[i]) * Double(y[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}

/// Threads that OpenBLAS uses for level-3 kernels.
public enum BLASThreads {
    /// The current thread count.
    public static var count: Int { Int(openblas_get_num_threads()) }
    /// Sets the thread count (benchmarks pin it to match the reference tools).
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }

    /// Runs `body` with OpenBLAS on one thread when `single`, then restores the count. For
    /// factorisations of matrices small on one side, whose unblocked steps (Householder
    /// panels, rank-one updates) OpenBLAS splits between threads call by call: the hand-offs
    /// cost more than the arithmetic.
    ///
    /// The count is OpenBLAS's, for the whole process: callers on several threads at once (a
    /// library user's, or tests running side by side) share one single-threaded period, and
    /// the last to finish restores the count; two overlapping callers could otherwise leave
    /// it at one for good.
    package static func one<T>(if single: Bool, _ body: () throws -> T) rethrows -> T {
        guard single else { return try body() }
        singleThreaded.withLock { state in
            if state.callers == 0 {
                state.previous = count
                if state.previous > 1 { set(1) }
            }
            state.callers += 1
        }
        defer {
            singleThreaded.withLock { state in
                state.callers -= 1
                if state.callers == 0 && state.previous > 1 { set(state.previous) }
            }
        }
        return try body()
    }

    /// The callers inside ``one(if:_:)`` and the count to restore when the last leaves.
    private static let singleThreaded = Mutex<(callers: Int, previous: Int)>((0, 1))

    /// OpenBLAS's description of its build and the kernel it selected for this CPU.
    public static var configuration: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config) (\(core))"
    }
}
