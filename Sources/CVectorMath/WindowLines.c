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
// Helpers that take or return vectors are inlined: a call would pass them through memory.
#define AVX512_INLINE AVX512 __attribute__((always_inline)) static inline

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
AVX512_INLINE __mmask16 lanes_within(long start, long first, long last) {
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
AVX512_INLINE __m512i strided_lanes(long s) {
    return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)s));
}

/// Bit l of `lanes` moved to bit 2l: the floats 2l of 32 that lanes l of a stride-2 line read.
static inline uint32_t spread_lanes(__mmask16 lanes) {
    uint32_t pairs = lanes;
    pairs = (pairs | pairs << 8) & 0x00ff00ffu;
    pairs = (pairs | pairs << 4) & 0x0f0f0f0fu;
    pairs = (pairs | pairs << 2) & 0x33333333u;
    return (pairs | pairs << 1) & 0x55555555u;
}

/// The 32 floats from `from` that bits p of `pairs` allow (zero elsewhere), as two vectors.
AVX512_INLINE void load_pairs(const float *from, uint32_t pairs, __m512 *low, __m512 *high) {
    *low = _mm512_maskz_loadu_ps((__mmask16)pairs, from);
    *high = _mm512_maskz_loadu_ps((__mmask16)(pairs >> 16), from + 16);
}

/// Floats 2l + parity (parity 0 or 1) of the 32 held in `low` and `high`, in lane l.
AVX512_INLINE __m512 every_other(__m512 low, __m512 high, int parity) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(low, _mm512_add_epi32(even, _mm512_set1_epi32(parity)), high);
}

/// The even lanes of the 32 floats from `from` whose lanes `read` allows (lane l of the
/// result is float 2l, zero where `read` leaves lane l out): a line of stride 2. Only the
/// even floats are read, since 2l + 1 of the last lane may lie beyond the image.
AVX512_INLINE __m512 even_lanes(const float *from, __mmask16 read) {
    __m512 low, high;
    load_pairs(from, spread_lanes(read), &low, &high);
    return every_other(low, high, 0);
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

// A window's maximum takes a later tap only when it is larger: `v > m ? v : m`, which is
// what MAXPS computes with v as its first operand.
AVX512 static void window_maxima_v4(float *out, const float *line, long count, long step, long dilation, long taps) {
    const __m512i lanes = strided_lanes(step);
    for (long o = 0; o < count; o += 16) {
        __mmask16 read = lanes_within(o, 0, count);
        __m512 largest = _mm512_setzero_ps();
        for (long k = 0; k < taps; k++) {
            const float *from = line + o * step + k * dilation;
            __m512 values = step == 1   ? _mm512_maskz_loadu_ps(read, from)
                            : step == 2 ? even_lanes(from, read)
                                        : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), read, lanes, from, 4);
            largest = k == 0 ? values : _mm512_max_ps(values, largest);
        }
        _mm512_mask_storeu_ps(out + o, read, largest);
    }
}

static void window_maxima_v1(float *out, const float *line, long count, long step, long dilation, long taps) {
    for (long o = 0; o < count; o++) {
        const float *window = line + o * step;
        float largest = window[0];
        for (long k = 1; k < taps; k++) largest = window[k * dilation] > largest ? window[k * dilation] : largest;
        out[o] = largest;
    }
}

typedef void (*Maxima)(float *, const float *, long, long, long, long);
RESOLVER static Maxima resolve_window_maxima(void) {
    return repprobe_cpu_level() == 4 ? window_maxima_v4 : window_maxima_v1;
}
void repprobe_window_maxima(float *out, const float *line, long count, long step, long dilation, long taps)
    __attribute__((ifunc("resolve_window_maxima")));
void repprobe_window_maxima_baseline(float *out, const float *line, long count, long step, long dilation, long taps) {
    window_maxima_v1(out, line, count, step, dilation, taps);
}

// Winograd's F(2 × 2, 3 × 3) (Lavin and Gray, "Fast algorithms for convolutional neural
// networks", 2016): a 3 × 3 convolution of stride 1 computed on tiles of 2 × 2 outputs, each
// read from a 4 × 4 patch d of the input. With the filter g transformed once to U = G g Gᵀ
// and each patch to V = Bᵀ d B, a tile's outputs are Aᵀ (Σ_c U ⊙ V) A: the sum over
// channels becomes sixteen matrix products (one per element of the 4 × 4 transform), 16
// multiplications per tile and channel where the direct convolution takes 36. The
// transforms only add, subtract and halve. Sixteen tiles side by side are one vector.

/// `u[e·filters·channels + f·channels + c]` = element e of G g Gᵀ for the 3 × 3 filter g of
/// filter f and channel c in `w` (`[filters, channels, 3, 3]`).
AVX512 static void winograd_filters_v4(float *u, const float *w, long filters, long channels) {
    long pairs = filters * channels;
    const __m512i nine = strided_lanes(9);
    const __m512 half = _mm512_set1_ps(0.5f);
    for (long q = 0; q < pairs; q += 16) {
        __mmask16 lanes = lanes_within(q, q, pairs);
        __m512 g[9];
        for (int k = 0; k < 9; k++) g[k] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, nine, w + q * 9 + k, 4);
        // Rows of G g (4 × 3): g0; (g0 + g1 + g2)/2; (g0 − g1 + g2)/2; g2, with gi row i of g.
        __m512 t[4][3];
        for (int j = 0; j < 3; j++) {
            __m512 outer = _mm512_add_ps(g[j], g[6 + j]);
            t[0][j] = g[j];
            t[1][j] = _mm512_mul_ps(_mm512_add_ps(outer, g[3 + j]), half);
            t[2][j] = _mm512_mul_ps(_mm512_sub_ps(outer, g[3 + j]), half);
            t[3][j] = g[6 + j];
        }
        // Then the same on the columns: (G g) Gᵀ.
        for (int i = 0; i < 4; i++) {
            __m512 outer = _mm512_add_ps(t[i][0], t[i][2]);
            __m512 e[4] = {t[i][0], _mm512_mul_ps(_mm512_add_ps(outer, t[i][1]), half),
                           _mm512_mul_ps(_mm512_sub_ps(outer, t[i][1]), half), t[i][2]};
            for (int j = 0; j < 4; j++) _mm512_mask_storeu_ps(u + (4 * i + j) * pairs + q, lanes, e[j]);
        }
    }
}

/// Row `y` of `plane` under sixteen tiles whose patches start at column `x0 + 2l` (lane l):
/// `d[j]` holds column `x0 + 2l + j`, zero outside the image, where `pairs[0]` (columns
/// 0 and 1) and `pairs[1]` (2 and 3) allow the floats read.
AVX512_INLINE void patch_row(__m512 d[4], const float *plane, long y, long in_h, long in_w, long x0,
                             const uint32_t pairs[2]) {
    for (int half = 0; half < 2; half++) {
        __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
        if (y >= 0 && y < in_h) load_pairs(plane + y * in_w + x0 + 2 * half, pairs[half], &low, &high);
        d[2 * half] = every_other(low, high, 0);
        d[2 * half + 1] = every_other(low, high, 1);
    }
}

/// `v[e·stride + c·ldv + t]` = element e of Bᵀ d B for the 4 × 4 patch d of channel c
/// under tile t = ty·tiles_w + tx of one `channels × in_h × in_w` image: rows from
/// `2·ty − pad_top`, columns from `2·tx − pad_left`, zero outside the image.
AVX512 static void winograd_inputs_v4(float *v, const float *image, long channels, long in_h, long in_w, long pad_top,
                                      long pad_left, long tiles_h, long tiles_w, long ldv, long stride) {
    for (long tx = 0; tx < tiles_w; tx += 16) {
        // Which lanes' columns x0 + 2l + j lie inside the image, for j = 0 to 3. Of the 32
        // floats from x0 + 2h, float 2l serves column 2h of lane l and float 2l + 1 column
        // 2h + 1: pairs[h] reads those of lanes inside the image.
        long x0 = 2 * tx - pad_left;
        __mmask16 inside[4];
        for (int j = 0; j < 4; j++) {
            long first, last;
            inside_columns(x0 + j, in_w, tiles_w - tx, 2, &first, &last);
            inside[j] = lanes_within(0, first, last);
        }
        const uint32_t pairs[2] = {spread_lanes(inside[0]) | spread_lanes(inside[1]) << 1,
                                   spread_lanes(inside[2]) | spread_lanes(inside[3]) << 1};
        __mmask16 lanes = lanes_within(tx, tx, tiles_w);
        for (long c = 0; c < channels; c++) {
            const float *plane = image + c * in_h * in_w;
            // A tile's last two patch rows are the next tile's first two.
            __m512 d[4][4];
            long y = -pad_top;
            patch_row(d[2], plane, y, in_h, in_w, x0, pairs);
            patch_row(d[3], plane, y + 1, in_h, in_w, x0, pairs);
            for (long ty = 0; ty < tiles_h; ty++) {
                y += 2;
                for (int j = 0; j < 4; j++) {
                    d[0][j] = d[2][j];
                    d[1][j] = d[3][j];
                }
                patch_row(d[2], plane, y, in_h, in_w, x0, pairs);
                patch_row(d[3], plane, y + 1, in_h, in_w, x0, pairs);
                __m512 t[4][4];
                for (int j = 0; j < 4; j++) {
                    t[0][j] = _mm512_sub_ps(d[0][j], d[2][j]);
                    t[1][j] = _mm512_add_ps(d[1][j], d[2][j]);
                    t[2][j] = _mm512_sub_ps(d[2][j], d[1][j]);
                    t[3][j] = _mm512_sub_ps(d[1][j], d[3][j]);
                }
                float *out = v + c * ldv + ty * tiles_w + tx;
                for (int i = 0; i < 4; i++) {
                    __m512 e[4] = {_mm512_sub_ps(t[i][0], t[i][2]), _mm512_add_ps(t[i][1], t[i][2]),
                                   _mm512_sub_ps(t[i][2], t[i][1]), _mm512_sub_ps(t[i][1], t[i][3])};
                    for (int j = 0; j < 4; j++) _mm512_mask_storeu_ps(out + (4 * i + j) * stride, lanes, e[j]);
                }
            }
        }
    }
}

/// The outputs of one image from the sixteen products `m[e·stride + f·ldm + t]`: Aᵀ m A
/// for each tile, plus the filter's bias (none when `bias` is NULL), into `y`
/// (`filters × out_h × out_w`); the parts of edge tiles beyond the output are dropped.
AVX512 static void winograd_outputs_v4(float *y, const float *m, const float *bias, long filters, long out_h, long out_w,
                                       long tiles_h, long tiles_w, long ldm, long stride) {
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i high = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (long f = 0; f < filters; f++) {
        __m512 offset = _mm512_set1_ps(bias ? bias[f] : 0.0f);
        float *plane = y + f * out_h * out_w;
        for (long ty = 0; ty < tiles_h; ty++) {
            for (long tx = 0; tx < tiles_w; tx += 16) {
                const float *from = m + f * ldm + ty * tiles_w + tx;
                __mmask16 lanes = lanes_within(tx, tx, tiles_w);
                __m512 e[4][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) e[i][j] = _mm512_maskz_loadu_ps(lanes, from + (4 * i + j) * stride);
                // Aᵀ on the rows: (e0 + e1 + e2, e1 − e2 − e3), then A on the columns.
                __m512 s[2][4];
                for (int j = 0; j < 4; j++) {
                    s[0][j] = _mm512_add_ps(_mm512_add_ps(e[0][j], e[1][j]), e[2][j]);
                    s[1][j] = _mm512_sub_ps(_mm512_sub_ps(e[1][j], e[2][j]), e[3][j]);
                }
                for (int r = 0; r < 2; r++) {
                    long row = 2 * ty + r;
                    if (row >= out_h) break;
                    __m512 left = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), s[r][2]), offset);
                    __m512 right = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[r][1], s[r][2]), s[r][3]), offset);
                    // Output columns 2(tx + l) and 2(tx + l) + 1, interleaved.
                    float *line = plane + row * out_w + 2 * tx;
                    _mm512_mask_storeu_ps(line, lanes_within(2 * tx, 2 * tx, out_w), _mm512_permutex2var_ps(left, low, right));
                    _mm512_mask_storeu_ps(line + 16, lanes_within(2 * tx + 16, 2 * tx, out_w),
                                          _mm512_permutex2var_ps(left, high, right));
                }
            }
        }
    }
}

// Only the AVX-512 versions exist: the runtime takes this path where the own matrix kernel
// runs, which needs AVX-512 too.
void repprobe_winograd_filters(float *u, const float *w, long filters, long channels) {
    if (repprobe_cpu_level() == 4) winograd_filters_v4(u, w, filters, channels);
}
void repprobe_winograd_inputs(float *v, const float *image, long channels, long in_h, long in_w, long pad_top,
                              long pad_left, long tiles_h, long tiles_w, long ldv, long stride) {
    if (repprobe_cpu_level() == 4)
        winograd_inputs_v4(v, image, channels, in_h, in_w, pad_top, pad_left, tiles_h, tiles_w, ldv, stride);
}
void repprobe_winograd_outputs(float *y, const float *m, const float *bias, long filters, long out_h, long out_w,
                               long tiles_h, long tiles_w, long ldm, long stride) {
    if (repprobe_cpu_level() == 4) winograd_outputs_v4(y, m, bias, filters, out_h, out_w, tiles_h, tiles_w, ldm, stride);
}
