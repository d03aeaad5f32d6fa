#include "CVectorMath.h"
#include "CPULevel.h"

#include <immintrin.h>

// The algorithms, their accuracy and the provenance of the coefficients are described with
// `VectorMath` (Sources/Networks/Internals/VectorMath.swift). The polynomials' steps are
// fused multiply-adds, written out (`FMA`), and nothing else is contracted into one, so that
// every build gives the same bits: AVX-512 and AVX2 have the instruction, and the baseline
// build calls libm's `fmaf`, which rounds the same way (once), only more slowly.
#pragma clang fp contract(off)
#define FMA(a, b, c) __builtin_elementwise_fma((vfloat)(a), (vfloat)(b), (vfloat)(c))

typedef float vfloat __attribute__((ext_vector_type(16)));
typedef int vint __attribute__((ext_vector_type(16)));
typedef unsigned vuint __attribute__((ext_vector_type(16)));
/// The same as `vfloat`, at any address a float may have (loads and stores of the arrays).
typedef float vfloat_u __attribute__((ext_vector_type(16), aligned(4)));
/// Eight lanes, for the double-precision sums of the normalisations.
typedef double vdouble __attribute__((ext_vector_type(8)));
typedef float vfloat8 __attribute__((ext_vector_type(8)));
typedef float vfloat4 __attribute__((ext_vector_type(4)));
typedef float vfloat2 __attribute__((ext_vector_type(2)));
typedef float vfloat8_u __attribute__((ext_vector_type(8), aligned(4)));
enum { lanes = 16 };

#define INLINE static inline __attribute__((always_inline))

#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,bmi,bmi2,f16c"))), apply_to = function)
#define KERNEL(name) name##_v4
#define PARTS_BY_MASK
#include "Kernels.inc"
#undef PARTS_BY_MASK
#undef KERNEL
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,bmi,bmi2,f16c"))), apply_to = function)
#define KERNEL(name) name##_v3
#include "Kernels.inc"
#undef KERNEL
#pragma clang attribute pop

#define KERNEL(name) name##_v1
#include "Kernels.inc"
#undef KERNEL

int repprobe_cpu_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl")) return 4;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 3;
    return 1;
}

typedef void (*Map)(float *, const float *, long);
typedef float (*Sum)(float *, const float *, long, float);
typedef void (*Gate)(float *, const float *, const float *, long);

DISPATCH(exp, Map, void repprobe_exp(float *out, const float *x, long count))
DISPATCH(erf, Map, void repprobe_erf(float *out, const float *x, long count))
DISPATCH(gelu, Map, void repprobe_gelu(float *out, const float *x, long count))
DISPATCH(sigmoid, Map, void repprobe_sigmoid(float *out, const float *x, long count))
DISPATCH(relu_gradient, Gate, void repprobe_relu_gradient(float *out, const float *x, const float *gradient, long count))
DISPATCH(shifted_exponentials, Sum, float repprobe_shifted_exponentials(float *out, const float *x, long count, float shift))

typedef double (*Total)(const float *, long);
typedef double (*Deviations)(const float *, long, double);
typedef void (*Normalize)(float *, const float *, long, double, double, const float *, const float *, long);
DISPATCH(sum, Total, double repprobe_sum(const float *x, long count))
DISPATCH(squared_deviations, Deviations, double repprobe_squared_deviations(const float *x, long count, double mean))
DISPATCH(normalize, Normalize,
         void repprobe_normalize(float *out, const float *x, long count, double mean, double inverse,
                                 const float *scale, const float *bias, long step))
typedef float (*Largest)(const float *, long);
typedef void (*RowSoftmax)(float *, const float *, long, float);
DISPATCH(maximum, Largest, float repprobe_maximum(const float *x, long count))
DISPATCH(softmax, RowSoftmax, void repprobe_softmax(float *out, const float *x, long count, float scale))

void repprobe_exp_baseline(float *out, const float *x, long count) { exp_v1(out, x, count); }
void repprobe_erf_baseline(float *out, const float *x, long count) { erf_v1(out, x, count); }
void repprobe_gelu_baseline(float *out, const float *x, long count) { gelu_v1(out, x, count); }
void repprobe_softmax_baseline(float *out, const float *x, long count, float scale) { softmax_v1(out, x, count, scale); }
