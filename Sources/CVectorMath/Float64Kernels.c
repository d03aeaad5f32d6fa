#include "CVectorMath.h"
#include "CPULevel.h"

#include <math.h>
#include <stddef.h>

// Float64 kernels of the probes' solvers.
//
// Products of a tall float64 matrix with a few columns: `C = A·B` for the `n × m` scores of
// `n` samples on `m` outputs, and `C = Aᵀ·B` for a gradient `Xᵀ·R` over the samples. With
// B this narrow a general product packs A, the large operand, into its own layout on
// every call and then runs a kernel built for wide blocks: OpenBLAS took 0.42 ms for
// 4 000 × 256 by 256 × 10 on two cores, twice the time these kernels take reading A where
// it lies, eight rows (or eight inner indices) to a vector.
//
// The softmax cross-entropy of a multinomial logistic objective, eight samples to a vector
// with an exponential of its own: glibc's `exp`, one sample and class at a time, took
// 0.36 ms of every evaluation for 4 000 samples and 10 classes.
//
// Compiled for AVX-512, for AVX2 with FMA and for baseline x86-64, the best chosen when the
// program loads. Without AVX2 the products return 0 and the caller uses BLAS; the
// cross-entropy runs everywhere, with the same bits (the baseline's fused multiply-adds
// are libm's `fma`, slower but rounded the same way).

#pragma clang fp contract(off)
#define FMA(a, b, c) __builtin_elementwise_fma((vdouble)(a), (vdouble)(b), (vdouble)(c))
#define INLINE static inline __attribute__((always_inline))

typedef double vdouble __attribute__((ext_vector_type(8)));
/// The same as `vdouble`, at any address a double may have.
typedef double vdouble_u __attribute__((ext_vector_type(8), aligned(8)));
typedef long vlong __attribute__((ext_vector_type(8)));
typedef long vlong_u __attribute__((ext_vector_type(8), aligned(8)));

/// Inner indices per block of the transposed product: 2 048 rows of a B of 16 columns is
/// 256 KiB, which stays in the second-level cache.
enum { NARROW_BLOCK = 2048 };

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#define NARROW_PRODUCTS
#define KERNEL(name) name##_v4
#include "Float64Kernels.inc"
#undef KERNEL
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define KERNEL(name) name##_v3
#include "Float64Kernels.inc"
#undef KERNEL
#pragma clang attribute pop
#undef NARROW_PRODUCTS

#define KERNEL(name) name##_v1
#include "Float64Kernels.inc"
#undef KERNEL

typedef double (*CrossEntropy)(double *, long, long, const long *, double *);
typedef void (*Map)(double *, const double *, long);
DISPATCH(cross_entropy, CrossEntropy,
         double repprobe_cross_entropy(double *z, long n, long m, const long *codes, double *probabilities))
DISPATCH(exp64, Map, void repprobe_exp64(double *out, const double *x, long count))

double repprobe_cross_entropy_baseline(double *z, long n, long m, const long *codes, double *probabilities) {
    return cross_entropy_v1(z, n, m, codes, probabilities);
}

typedef void (*Part)(long, long, long, long, const double *, long, const double *, long, double *, long, double, int);

typedef struct {
    Part body;
    long m, n, k, lda, ldb, ldc, step;
    const double *a, *b;
    double *c;
    double alpha;
    int accumulate;
} Narrow;

static void run_part(void *context, long part) {
    const Narrow *w = context;
    long first = part * w->step, last = first + w->step < w->m ? first + w->step : w->m;
    w->body(first, last, w->n, w->k, w->a, w->lda, w->b, w->ldb, w->c, w->ldc, w->alpha, w->accumulate);
}

int repprobe_dgemm_narrow(int transpose_a, long m, long n, long k, double alpha, const double *a, long lda,
                          const double *b, long ldb, double *c, long ldc, int accumulate) {
    int level = repprobe_cpu_level();
    if (level < 3 || n < 1 || n > REPPROBE_NARROW_COLUMNS || m < 1) return 0;
    Narrow w = {
        .body = transpose_a ? (level == 4 ? dots_v4 : dots_v3) : (level == 4 ? rows_v4 : rows_v3),
        .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc,
        .a = a, .b = b, .c = c, .alpha = alpha, .accumulate = accumulate,
    };
    // Parts of at least 2¹⁸ multiply-adds (some 10 µs on a core), whole tiles of rows (64,
    // the widest) or of columns of A (8), and no more of them than the threads.
    long threads = repprobe_parallel_threads();
    long tile = transpose_a ? 8 : 64;
    long work = m * n * (k > 0 ? k : 1);
    long parts = work >> 18;
    if (parts > threads) parts = threads;
    if (parts < 1) parts = 1;
    long step = (m + parts - 1) / parts;
    step = (step + tile - 1) / tile * tile;
    w.step = step;
    repprobe_parallel((m + step - 1) / step, &w, run_part);
    return 1;
}
