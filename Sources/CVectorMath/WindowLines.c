#include "CVectorMath.h"
#include "CPULevel.h"

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

// im2col and col2im of one image for two-dimensional windows. A convolution's unrolled rows
// are lines of the image's rows, shifted by the kernel offset, taking every column (unit
// horizontal stride) or every `stride_w`th, and cut off where they would read padding.
// Lines are short (16 columns in a 16 × 16 feature map), so calls to memset and memmove per
// line, or a call per line at all, cost more than the copying. AVX-512 reads and writes a
// line sixteen columns at a time under a mask, which never touches the columns outside it
// (gathering and scattering the columns of a strided line); elsewhere plain loops do the
// same. Both only copy, or add in a fixed order, so every instruction set gives the same
// bits.

#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

/// The output columns [first, last) whose input column `column · stride + offset` lies in
/// [0, width).
static inline void inside_columns(long offset, long width, long out_w, long stride, long *first, long *last) {
    long f = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    if (f > out_w) f = out_w;
    long l = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride;
    if (l > out_w) l = out_w;
    if (l < f) l = f;
    *first = f;
    *last = l;
}

/// The lanes of the sixteen columns from `start` that lie in [first, last).
AVX512 __attribute__((always_inline)) static inline __mmask16 lanes_within(long start, long first, long last) {
    long low = first > start ? first - start : 0, high = last - start < 16 ? last - start : 16;
    if (high <= low) return 0;
    unsigned bits = high >= 16 ? 0xffffu : (1u << high) - 1;
    return (__mmask16)(bits & ~((1u << low) - 1));
}

// The walk both functions share: for each channel, kernel row and column, and output row,
// `LINE` with `at` the line's offset in the columns, `source` the offset in the image of the
// input value under output column 0 (negative when padding lies to the left; output column
// j reads `source + j · stride_w`), and `inside` false for a row that reads padding.
#define WALK(LINE)                                                                                     \
    long row = 0;                                                                                      \
    for (long c = 0; c < channels; c++) {                                                              \
        const long plane = c * in_h * in_w;                                                            \
        for (long kh = 0; kh < kernel_h; kh++) {                                                       \
            for (long kw = 0; kw < kernel_w; kw++, row++) {                                            \
                long offset = kw * dilation_w - pad_left, first, last;                                 \
                inside_columns(offset, in_w, out_w, stride_w, &first, &last);                          \
                for (long oh = 0; oh < out_h; oh++) {                                                  \
                    long ih = oh * stride_h - pad_top + kh * dilation_h;                               \
                    long at = row * pitch + oh * out_w;                                                \
                    int inside = ih >= 0 && ih < in_h;                                                 \
                    long source = plane + ih * in_w + offset;                                          \
                    LINE                                                                               \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
    }

#define ARGUMENTS                                                                                      \
    long channels, long in_h, long in_w, long kernel_h, long kernel_w, long stride_h, long stride_w,   \
        long pad_top, long pad_left, long dilation_h, long dilation_w, long out_h, long out_w, long pitch

/// Lanes 0, s, 2s, … 15s: the offsets of a strided line's sixteen columns.
AVX512 static inline __m512i strided_lanes(long s) {
    return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)s));
}

/// The even lanes of the 32 floats from `from` whose lanes `read` allows (lane l of the
/// result is float 2l, zero where `read` leaves lane l out): a line of stride 2.
AVX512 static inline __m512 even_lanes(const float *from, __mmask16 read) {
    // Lane l reads floats 2l and 2l + 1; only 2l is kept, and 2l + 1 of the last lane may lie
    // beyond the image, so only even floats are read.
    uint32_t pairs = read;  // bit l moves to bit 2l
    pairs = (pairs | pairs << 8) & 0x00ff00ffu;
    pairs = (pairs | pairs << 4) & 0x0f0f0f0fu;
    pairs = (pairs | pairs << 2) & 0x33333333u;
    pairs = (pairs | pairs << 1) & 0x55555555u;
    __m512 low = _mm512_maskz_loadu_ps((__mmask16)pairs, from), high = _mm512_maskz_loadu_ps((__mmask16)(pairs >> 16), from + 16);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(low, even, high);
}

AVX512 static void im2col_v4(float *columns, const float *image, ARGUMENTS) {
    const __m512i lanes = strided_lanes(stride_w);
    WALK({
        float *out = columns + at;
        for (long start = 0; start < out_w; start += 16) {
            __mmask16 read = inside ? lanes_within(start, first, last) : 0;
            const float *from = image + source + start * stride_w;
            __m512 values = stride_w == 1   ? _mm512_maskz_loadu_ps(read, from)
                            : stride_w == 2 ? even_lanes(from, read)
                                            : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), read, lanes, from, 4);
            _mm512_mask_storeu_ps(out + start, lanes_within(start, 0, out_w), values);
        }
    })
}

static void im2col_v1(float *columns, const float *image, ARGUMENTS) {
    WALK({
        float *out = columns + at;
        if (!inside) {
            memset(out, 0, sizeof(float) * out_w);
        } else {
            for (long j = 0; j < out_w; j++) out[j] = j >= first && j < last ? image[source + j * stride_w] : 0.0f;
        }
    })
}

AVX512 static void col2im_v4(float *image, const float *columns, ARGUMENTS) {
    const __m512i offsets = strided_lanes(stride_w);
    WALK({
        if (inside) {
            for (long start = first / 16 * 16; start < last; start += 16) {
                __mmask16 lanes = lanes_within(start, first, last);
                float *line = image + source + start * stride_w;
                __m512 entries = _mm512_maskz_loadu_ps(lanes, columns + at + start);
                if (stride_w == 1) {
                    _mm512_mask_storeu_ps(line, lanes, _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, line), entries));
                } else {
                    // The lanes' input columns are distinct, so the scatter writes each sum once.
                    __m512 sum = _mm512_add_ps(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, offsets, line, 4), entries);
                    _mm512_mask_i32scatter_ps(line, lanes, offsets, sum, 4);
                }
            }
        }
    })
}

static void col2im_v1(float *image, const float *columns, ARGUMENTS) {
    WALK({
        if (inside)
            for (long j = first; j < last; j++) image[source + j * stride_w] += columns[at + j];
    })
}

typedef void (*Unroll)(float *, const float *, ARGUMENTS);
RESOLVER static Unroll resolve_im2col(void) { return repprobe_cpu_level() == 4 ? im2col_v4 : im2col_v1; }
RESOLVER static Unroll resolve_col2im(void) { return repprobe_cpu_level() == 4 ? col2im_v4 : col2im_v1; }

void repprobe_im2col(float *columns, const float *image, ARGUMENTS) __attribute__((ifunc("resolve_im2col")));
void repprobe_col2im(float *image, const float *columns, ARGUMENTS) __attribute__((ifunc("resolve_col2im")));

#define PASS                                                                                           \
    channels, in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, out_h, \
        out_w, pitch
void repprobe_im2col_baseline(float *columns, const float *image, ARGUMENTS) { im2col_v1(columns, image, PASS); }
void repprobe_col2im_baseline(float *image, const float *columns, ARGUMENTS) { col2im_v1(image, columns, PASS); }
