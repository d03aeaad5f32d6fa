#include "CVectorMath.h"
#include "CPULevel.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// A float32 matrix product for AVX-512, in the blocked form of Goto and van de Geijn
// ("Anatomy of high-performance matrix multiplication", 2008): op(B) is copied in blocks of
// KC rows × NC columns into strips of NR columns that sit in the second-level cache, and a
// 12 × 32 kernel keeps its block of C in 24 registers while it runs down the KC rows of a
// strip of MR rows of op(A), one fused multiply-add per register and row. op(A) is read
// where it lies, each value broadcast from its row; only a transposed A is copied into
// strips first.
//
// Each element of C is the same sum, in the same order, wherever its strip and its block
// lie: the KC-blocks in order, each a chain of fused multiply-adds over its rows, added to
// what C held. A caller may therefore split C into any parts and compute them on any
// threads without changing a bit.
//
// B's lines (its rows as stored: rows of op(B), or its columns when transposed) are
// `ldb` floats apart, or wherever a table of offsets puts them (`repprobe_sgemm_lines`).
// A stride-1 convolution is then a product whose B is the padded image itself: line
// (c, i, j) of the unrolled matrix is channel c's plane shifted by i rows and j columns.

enum { MR = 12, NR = 32, KC = 384, NC = 480 };

#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

int repprobe_sgemm_available(void) { return repprobe_cpu_level() == 4; }

/// The first `count` of sixteen lanes (none for `count` ≤ 0, all for `count` ≥ 16).
static inline __mmask16 first_lanes(long count) {
    return count >= 16 ? 0xffff : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

/// Line `index` of B: `ldb` floats after the one before, or `lines[index]` floats from `b`.
static inline const float *line(const float *b, long ldb, const long *lines, long index) {
    return lines ? b + lines[index] : b + index * ldb;
}

// The kernel's 24 accumulators are named variables, one pair per row of its strip (the MR
// rows spelt out below), so that they live in registers from start to end. An array of
// them was zeroed through a call to memset on the stack and loaded from there, a cost that
// products with few rows to sum (k = 12) feel.
#define EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ZERO(r) __m512 c##r##_0 = _mm512_setzero_ps(), c##r##_1 = _mm512_setzero_ps();
// Rows at or beyond `height`, and the second half of the strip when `wide` is 1, are not
// computed: `height` and `wide` are constants in each of the kernel's specialisations.
#define MULTIPLY_ADD(r)                                                          \
    if (r < height) {                                                            \
        __m512 ar = _mm512_set1_ps(packed ? a[p * MR + r] : rows_of_a[r][p]);     \
        c##r##_0 = _mm512_fmadd_ps(ar, b0, c##r##_0);                            \
        if (wide > 1) c##r##_1 = _mm512_fmadd_ps(ar, b1, c##r##_1);              \
    }
#define STORE(r) \
    if (r < height && r < rows) store_row(c + r * ldc, c##r##_0, c##r##_1, m0, m1, accumulate, bias);

/// Stores one row of the kernel's block of C: the sums, added to what C holds when
/// `accumulate`, else to `bias` (the block's columns of it) unless it is NULL.
AVX512 static inline void store_row(float *row, __m512 v0, __m512 v1, __mmask16 m0, __mmask16 m1, int accumulate,
                                    const float *bias) {
    if (accumulate) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), v1);
    } else if (bias) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, bias), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, bias + 16), v1);
    }
    _mm512_mask_storeu_ps(row, m0, v0);
    _mm512_mask_storeu_ps(row + 16, m1, v1);
}

/// C[0..<rows, 0..<cols] (+)= the product of one MR-row strip of op(A), `kc` deep, and
/// `kc` rows of NR columns of op(B). The strip is packed (column by column, when `packed`,
/// a constant at every call) or read in place, its rows `lda` apart (the rows beyond `rows`
/// then read the first row again, and their sums are dropped). op(B) is a packed strip (rows
/// `ldb` = NR floats apart, zero beyond `cols`), or op(B) itself where no packing pays, its
/// rows `ldb` apart or placed by `lines` (its columns beyond `cols` are then never read).
/// Without `accumulate`, `bias` (its `cols` values for these columns, or NULL) is added to
/// every row. The kernel computes `height` rows (`rows` ≤ `height` ≤ MR) and `wide` halves
/// of 16 columns (`cols` ≤ 16·`wide`); its callers pass constants (``strip_kernel``).
AVX512 __attribute__((always_inline)) static inline void kernel(long kc, int packed, const float *restrict a, long lda,
                                                                const float *restrict b, long ldb, const long *lines,
                                                                float *c, long ldc, int rows, int cols, int accumulate,
                                                                const float *bias, int height, int wide) {
    EACH_ROW(ZERO)
    const float *rows_of_a[MR];
    for (int r = 0; r < MR; r++) rows_of_a[r] = a + (r < rows ? r : 0) * lda;
    __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
    for (long p = 0; p < kc; p++) {
        const float *row = line(b, ldb, lines, p);
        __m512 b0 = _mm512_maskz_loadu_ps(m0, row), b1 = wide > 1 ? _mm512_maskz_loadu_ps(m1, row + 16) : b0;
        EACH_ROW(MULTIPLY_ADD)
    }
    EACH_ROW(STORE)
}

/// The kernel specialised for a strip's size: a strip of at most 4 or 8 rows (the last of
/// op(A)) computes only those, and one of at most 16 columns only one half, so that a
/// product whose sides are not multiples of the strip (197 tokens) does not compute up to
/// 11 rows or 16 columns for nothing. Every element's sum is the same chain of fused
/// multiply-adds in each.
AVX512 __attribute__((always_inline)) static inline void strip_kernel(long kc, int packed, const float *restrict a,
                                                                      long lda, const float *restrict b, long ldb,
                                                                      const long *lines, float *c, long ldc, int rows,
                                                                      int cols, int accumulate, const float *bias) {
#define SIZED(height, wide) kernel(kc, packed, a, lda, b, ldb, lines, c, ldc, rows, cols, accumulate, bias, height, wide)
    if (cols > 16) {
        if (rows > 8) SIZED(MR, 2); else if (rows > 4) SIZED(8, 2); else SIZED(4, 2);
    } else {
        if (rows > 8) SIZED(MR, 1); else if (rows > 4) SIZED(8, 1); else SIZED(4, 1);
    }
#undef SIZED
}

/// Transposes the 16 × 16 block held in r[0..16] (row i in r[i]) in place.
AVX512 static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    // Now lane l (128 bits) of r[4q + s] holds rows 4q to 4q + 3 of column 4l + s; whole
    // 128-bit lanes move from here on. 0x88 takes lanes 0 and 2 of each operand, 0xdd lanes
    // 1 and 3.
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
    // r[j] is column j.
}

/// Rows [0, m) and columns [p0, p0 + kc) of op(A) = Aᵀ in strips of MR rows, each strip
/// column by column; rows beyond m are zero. Column p of op(A) is row p0 + p of A, where a
/// strip's values lie side by side.
AVX512 static void pack_transposed_a(const float *a, long lda, long m, long p0, long kc, float *out) {
    const __mmask16 strip = (1u << MR) - 1;
    for (long i0 = 0; i0 < m; i0 += MR) {
        __mmask16 present = first_lanes(m - i0);
        for (long p = 0; p < kc; p++)
            _mm512_mask_storeu_ps(out + p * MR, strip, _mm512_maskz_loadu_ps(present, a + (p0 + p) * lda + i0));
        out += MR * kc;
    }
}

/// Rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) in strips of NR columns, each strip
/// row by row; columns beyond nc are zero.
AVX512 static void pack_b(int transpose, const float *b, long ldb, const long *lines, long p0, long kc, long j0, long nc,
                          float *out) {
    for (long jj = 0; jj < nc; jj += NR) {
        long cols = nc - jj < NR ? nc - jj : NR;
        if (transpose) {
            // Sixteen columns of op(B) at a time: 16 × 16 blocks of B transposed in registers;
            // the columns of a last partial block one by one, and zeros beyond them.
            long whole = cols / 16 * 16;
            const float *source[NR];
            for (long c = 0; c < cols; c++) source[c] = line(b, ldb, lines, j0 + jj + c) + p0;
            for (long half = 0; half < whole; half += 16) {
                long p = 0;
                for (; p + 16 <= kc; p += 16) {
                    __m512 r[16];
                    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(source[half + i] + p);
                    transpose16(r);
                    for (int i = 0; i < 16; i++) _mm512_store_ps(out + (p + i) * NR + half, r[i]);
                }
                for (; p < kc; p++)
                    for (int i = 0; i < 16; i++) out[p * NR + half + i] = source[half + i][p];
            }
            if (whole < NR) {
                for (long p = 0; p < kc; p++) {
                    float *row = out + p * NR;
                    for (long v = whole; v < NR; v += 16) _mm512_store_ps(row + v, _mm512_setzero_ps());
                    for (long c = whole; c < cols; c++) row[c] = source[c][p];
                }
            }
        } else {
            __mmask16 m0 = first_lanes(cols), m1 = first_lanes(cols - 16);
            for (long p = 0; p < kc; p++) {
                const float *source = line(b, ldb, lines, p0 + p) + j0 + jj;
                _mm512_store_ps(out + p * NR, _mm512_maskz_loadu_ps(m0, source));
                _mm512_store_ps(out + p * NR + 16, _mm512_maskz_loadu_ps(m1, source + 16));
            }
        }
        out += NR * kc;
    }
}

static void *aligned_floats(long count) {
    size_t bytes = ((size_t)count * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes);
}

int repprobe_sgemm(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda, const float *b,
                   long ldb, float *c, long ldc, int accumulate) {
    return repprobe_sgemm_lines(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, NULL, NULL, c, ldc, accumulate);
}

AVX512 int repprobe_sgemm_lines(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                                const float *b, long ldb, const long *lines, const float *bias, float *c, long ldc,
                                int accumulate) {
    if (m <= 0 || n <= 0) return 1;
    if (accumulate) bias = NULL;
    if (k <= 0) {
        if (!accumulate)
            for (long i = 0; i < m; i++) {
                if (bias) {
                    memcpy(c + i * ldc, bias, sizeof(float) * n);
                } else {
                    memset(c + i * ldc, 0, sizeof(float) * n);
                }
            }
        return 1;
    }
    // op(B) is read where it lies when it is not transposed and at most two strips of op(A)
    // use each of its values (12 filters of a small convolution), or when a block of op(A)
    // stays in the second-level cache (96 Ki floats: 197 tokens of 384) while the kernel
    // runs each strip of op(B) down all of it: packing would copy more than it saves (3 % of
    // a 197 × 768 × 192 product). The sums are the same either way.
    long depth = k < KC ? k : KC, width = n < NC ? n : NC;
    int direct = !transpose_b && (m <= 2 * MR || m * depth <= 96 * 1024);
    // op(A) is read in place unless it is transposed: the kernel takes each value of a strip
    // once per strip of B, straight from its row, as cheaply as from a packed strip, and the
    // copy is saved (2-10 % per product, measured on transformer and ResNet shapes).
    int packed = transpose_a;
    float *packed_a = packed ? aligned_floats((m + MR - 1) / MR * MR * depth) : NULL;
    float *packed_b = direct ? NULL : aligned_floats((width + NR - 1) / NR * NR * depth);
    if ((packed && !packed_a) || (!direct && !packed_b)) {
        free(packed_a);
        free(packed_b);
        return 0;
    }
    for (long p0 = 0; p0 < k; p0 += KC) {
        long kc = k - p0 < KC ? k - p0 : KC;
        int add = accumulate || p0 > 0;
        // The bias goes into the first block's sums, as if C had started at it.
        const float *block_bias = p0 == 0 ? bias : NULL;
        if (packed) pack_transposed_a(a, lda, m, p0, kc, packed_a);
// The kernel on strip i0 of op(A), packed or in place, and the given arguments from B's on.
#define STRIP_KERNEL(...)                                                  \
    do {                                                                   \
        if (packed) {                                                      \
            strip_kernel(kc, 1, packed_a + i0 * kc, 0, __VA_ARGS__);       \
        } else {                                                           \
            strip_kernel(kc, 0, a + i0 * lda + p0, lda, __VA_ARGS__);      \
        }                                                                  \
    } while (0)
        if (direct) {
            for (long j = 0; j < n; j += NR) {
                int cols = n - j < NR ? (int)(n - j) : NR;
                for (long i0 = 0; i0 < m; i0 += MR) {
                    int rows = m - i0 < MR ? (int)(m - i0) : MR;
                    STRIP_KERNEL(lines ? b + j : b + p0 * ldb + j, ldb, lines ? lines + p0 : NULL, c + i0 * ldc + j, ldc,
                                 rows, cols, add, block_bias ? block_bias + j : NULL);
                }
            }
            continue;
        }
        for (long j0 = 0; j0 < n; j0 += NC) {
            long nc = n - j0 < NC ? n - j0 : NC;
            pack_b(transpose_b, b, ldb, lines, p0, kc, j0, nc, packed_b);
            for (long i0 = 0; i0 < m; i0 += MR) {
                int rows = m - i0 < MR ? (int)(m - i0) : MR;
                for (long jj = 0; jj < nc; jj += NR) {
                    int cols = nc - jj < NR ? (int)(nc - jj) : NR;
                    STRIP_KERNEL(packed_b + jj * kc, NR, NULL, c + i0 * ldc + j0 + jj, ldc, rows, cols, add,
                                 block_bias ? block_bias + j0 + jj : NULL);
                }
            }
        }
    }
#undef STRIP_KERNEL
    free(packed_a);
    free(packed_b);
    return 1;
}
