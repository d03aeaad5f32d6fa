#include "CVectorMath.h"

#include <immintrin.h>

// The lines of im2col and col2im with unit stride: a convolution's unrolled rows are lines
// of an image's rows, shifted by the kernel offset and cut off where they would read
// padding. Lines are short (16 columns in a 16 × 16 feature map), so calls to memset and
// memmove per line, or a loop with a tail, cost more than the copying. AVX-512 reads and
// writes a line sixteen columns at a time under a mask, which never touches the columns
// outside it; elsewhere a plain loop does the same.

#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define RESOLVER __attribute__((no_sanitize("address", "thread", "undefined")))

/// The lanes of the sixteen columns from `start` that lie in [first, last).
AVX512 __attribute__((always_inline)) static inline __mmask16 lanes_within(long start, long first, long last) {
    long low = first > start ? first - start : 0, high = last - start < 16 ? last - start : 16;
    if (high <= low) return 0;
    unsigned bits = high >= 16 ? 0xffffu : (1u << high) - 1;
    return (__mmask16)(bits & ~((1u << low) - 1));
}

AVX512 static void window_line_v4(float *out, const float *source, long count, long first, long last) {
    for (long start = 0; start < count; start += 16) {
        __mmask16 inside = lanes_within(start, first, last);
        __mmask16 all = count - start >= 16 ? 0xffff : (__mmask16)((1u << (count - start)) - 1);
        _mm512_mask_storeu_ps(out + start, all, _mm512_maskz_loadu_ps(inside, source + start));
    }
}

static void window_line_v1(float *out, const float *source, long count, long first, long last) {
    for (long j = 0; j < count; j++) out[j] = j >= first && j < last ? source[j] : 0.0f;
}

AVX512 static void window_line_add_v4(float *line, const float *columns, long first, long last) {
    for (long start = first / 16 * 16; start < last; start += 16) {
        __mmask16 inside = lanes_within(start, first, last);
        __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(inside, line + start), _mm512_maskz_loadu_ps(inside, columns + start));
        _mm512_mask_storeu_ps(line + start, inside, sum);
    }
}

static void window_line_add_v1(float *line, const float *columns, long first, long last) {
    for (long j = first; j < last; j++) line[j] += columns[j];
}

RESOLVER static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

typedef void (*Line)(float *, const float *, long, long, long);
typedef void (*LineAdd)(float *, const float *, long, long);
RESOLVER static Line resolve_window_line(void) { return has_avx512() ? window_line_v4 : window_line_v1; }
RESOLVER static LineAdd resolve_window_line_add(void) { return has_avx512() ? window_line_add_v4 : window_line_add_v1; }

void repprobe_window_line(float *out, const float *source, long count, long first, long last)
    __attribute__((ifunc("resolve_window_line")));
void repprobe_window_line_add(float *line, const float *columns, long first, long last)
    __attribute__((ifunc("resolve_window_line_add")));
