#ifndef CVECTORMATH_H
#define CVECTORMATH_H

/// Float32 kernels: the matrix product of the network runtime (AVX-512 only, below), and
/// those whose time is dominated by `exp` and `erf` (Softmax, Exp, Erf, GELU, Sigmoid)
/// and the normalisations' passes, written once on vectors and compiled three times: for x86-64-v4
/// (AVX-512), x86-64-v3 (AVX2, FMA) and baseline x86-64. The loader picks the best the CPU
/// has when the program starts. Swift compiles for baseline x86-64 only, where vector code
/// runs four lanes at a time.
///
/// Every instruction set gives the same bits: the same IEEE operations in the same order,
/// fused multiply-adds where they are written out (libm's `fmaf` on baseline x86-64). The
/// algorithms and their accuracy are described with `VectorMath`, the runtime's Swift face
/// of these functions.

/// `out[i] = exp(x[i])`.
void repprobe_exp(float *out, const float *x, long count);
/// `out[i] = erf(x[i])`.
void repprobe_erf(float *out, const float *x, long count);
/// `out[i] = x[i]/2 · (1 + erf(x[i]/√2))`, the exact GELU.
void repprobe_gelu(float *out, const float *x, long count);
/// `out[i] = 1 / (1 + exp(−x[i]))`.
void repprobe_sigmoid(float *out, const float *x, long count);
/// `out[i] = x[i] > 0 ? gradient[i] : 0`, ReLU's backward pass (no arithmetic, so the
/// same bits as any other way of writing it).
void repprobe_relu_gradient(float *out, const float *x, const float *gradient, long count);
/// `out[i] = exp(x[i] − shift)`, returning their sum, summed as `repprobe_softmax` sums
/// (log-softmax's inner pass).
float repprobe_shifted_exponentials(float *out, const float *x, long count, float shift);
/// The largest of `count` values (−∞ for none); NaN is skipped.
float repprobe_maximum(const float *x, long count);
/// One row of softmax(`scale`·x) into `out` (which may be `x`): the rounded products
/// `x[i]·scale`, `exp(s − max s)` summed in sixteen lanes added pairwise, each times `1/Σ`;
/// the products computed as the exponentials are, for a positive scale.
void repprobe_softmax(float *out, const float *x, long count, float scale);
/// The baseline x86-64 versions of `repprobe_exp`, `repprobe_erf`, `repprobe_gelu` and
/// `repprobe_softmax`, callable on any CPU, for tests that the CPU's own version gives their
/// bits.
void repprobe_exp_baseline(float *out, const float *x, long count);
void repprobe_erf_baseline(float *out, const float *x, long count);
void repprobe_gelu_baseline(float *out, const float *x, long count);
void repprobe_softmax_baseline(float *out, const float *x, long count, float scale);
/// `Σ x[i]` in double precision: eight lanes of partial sums (lane l takes elements 8j + l
/// of the whole groups of eight, lane 0 the rest in order), added pairwise at the end.
double repprobe_sum(const float *x, long count);
/// `Σ (x[i] − mean)²` in double precision, summed as `repprobe_sum`.
double repprobe_squared_deviations(const float *x, long count, double mean);
/// `out[i] = float((x[i] − mean)·inverse)·scale[i·step] + bias[i·step]`: a normalisation's
/// last pass, with per-element (`step` 1) or one (`step` 0) scale and bias.
void repprobe_normalize(float *out, const float *x, long count, double mean, double inverse, const float *scale,
                        const float *bias, long step);

/// im2col of one `channels × in_h × in_w` image for a two-dimensional window: row
/// `(c·kernel_h + kh)·kernel_w + kw` of `columns` (rows `pitch` apart) holds, at
/// `oh·out_w + ow`, the input value at row `oh·stride_h − pad_top + kh·dilation_h` and column
/// `ow·stride_w − pad_left + kw·dilation_w`, or 0 where that is padding.
void repprobe_im2col(float *columns, const float *image, long channels, long in_h, long in_w, long kernel_h,
                     long kernel_w, long stride_h, long stride_w, long pad_top, long pad_left, long dilation_h,
                     long dilation_w, long out_h, long out_w, long pitch);
/// The baseline x86-64 versions of `repprobe_im2col` and `repprobe_col2im`, which CPUs
/// without AVX-512 run, callable on any CPU so that tests can check them there too.
void repprobe_im2col_baseline(float *columns, const float *image, long channels, long in_h, long in_w, long kernel_h,
                              long kernel_w, long stride_h, long stride_w, long pad_top, long pad_left,
                              long dilation_h, long dilation_w, long out_h, long out_w, long pitch);
void repprobe_col2im_baseline(float *image, const float *columns, long channels, long in_h, long in_w, long kernel_h,
                              long kernel_w, long stride_h, long stride_w, long pad_top, long pad_left,
                              long dilation_h, long dilation_w, long out_h, long out_w, long pitch);
/// The adjoint of `repprobe_im2col`: adds every entry of `columns` to the input value it was
/// read from, row by row of `columns` and in column order within a row.
void repprobe_col2im(float *image, const float *columns, long channels, long in_h, long in_w, long kernel_h,
                     long kernel_w, long stride_h, long stride_w, long pad_top, long pad_left, long dilation_h,
                     long dilation_w, long out_h, long out_w, long pitch);

/// `out[o]` = the largest of `line[o·step + k·dilation]` over taps k in [0, taps), for o in
/// [0, count): a window's maximum along a row, starting from its first tap and taking a
/// later one only when it is larger (so a NaN comes through only from the first tap).
void repprobe_window_maxima(float *out, const float *line, long count, long step, long dilation, long taps);
/// Its baseline x86-64 version, callable on any CPU.
void repprobe_window_maxima_baseline(float *out, const float *line, long count, long step, long dilation, long taps);

/// Winograd's F(2 × 2, 3 × 3) for a 3 × 3 convolution of stride 1 (AVX-512 only; they
/// write nothing elsewhere). `repprobe_winograd_filters` transforms `[filters, channels, 3, 3]`
/// weights into sixteen `filters × channels` matrices `u[e]` (G g Gᵀ, element e of 4 × 4);
/// `repprobe_winograd_inputs` one image's 4 × 4 patches under tiles of 2 × 2 outputs
/// (tile t = ty·tiles_w + tx reads rows from 2·ty − pad_top and columns from
/// 2·tx − pad_left, zero outside) into sixteen matrices `v + e·stride` of `channels` rows
/// `ldv` apart (Bᵀ d B); `repprobe_winograd_outputs` turns the sixteen products
/// `m + e·stride` (`filters` rows `ldm` apart, `m[e] = u[e]·v[e]`) into one image's
/// `filters × out_h × out_w` outputs (Aᵀ m A, plus `bias` unless NULL).
void repprobe_winograd_filters(float *u, const float *w, long filters, long channels);
void repprobe_winograd_inputs(float *v, const float *image, long channels, long in_h, long in_w, long pad_top,
                              long pad_left, long tiles_h, long tiles_w, long ldv, long stride);
void repprobe_winograd_outputs(float *y, const float *m, const float *bias, long filters, long out_h, long out_w,
                               long tiles_h, long tiles_w, long ldm, long stride);

/// 1 when the CPU runs `repprobe_sgemm` (AVX-512 F, DQ, BW and VL), else 0.
int repprobe_sgemm_available(void);
/// `C = op(A)·op(B)`, or `C += op(A)·op(B)` when `accumulate` is non-zero, all row-major:
/// `C` is `m × n` with rows `ldc` apart, `op(A)` is `m × k` (`A`, or `Aᵀ` when `transpose_a`)
/// and `op(B)` is `k × n`. Single-threaded, and only where `repprobe_sgemm_available()`.
/// Every element is the same chain of fused multiply-adds wherever it lies, so parts of
/// `C` computed separately (on other threads) give the same bits as the whole product.
/// Returns 0, having written nothing, if its packing buffers cannot be allocated.
int repprobe_sgemm(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                   const float *b, long ldb, float *c, long ldc, int accumulate);
/// `repprobe_sgemm` with B's lines (its rows as stored: the rows of op(B), or its columns
/// when `transpose_b`) at `b + lines[i]` instead of `ldb` floats apart (`ldb` is then
/// unused) unless `lines` is NULL; `lines` has `k` entries, or `n` when `transpose_b`. The
/// same sums as `repprobe_sgemm` on B copied out line by line. Unless `accumulate`, a
/// non-NULL `bias` of `n` values is added to every row of C, with the bits of C filled with
/// it first and then accumulated into.
int repprobe_sgemm_lines(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda,
                         const float *b, long ldb, const long *lines, const float *bias, float *c, long ldc,
                         int accumulate);

/// The widest B that `repprobe_dgemm_narrow` takes.
#define REPPROBE_NARROW_COLUMNS 16
/// `C = alpha·op(A)·B`, or `C += alpha·op(A)·B` when `accumulate` is non-zero, float64 and
/// column-major: `C` is `m × n` (`ldc`), `op(A)` is `m × k` (`A`, or `Aᵀ` of the `k × m`
/// `A` when `transpose_a`; `lda`) and `B` is `k × n` (`ldb`), for a B of at most
/// `REPPROBE_NARROW_COLUMNS` columns. Shared between the threads of `repprobe_parallel`
/// when the product is large; every element's sum has the same bits however C is split.
/// Returns 0, having written nothing, when the processor lacks AVX2 and FMA or `n` is out
/// of range: the caller then uses BLAS.
int repprobe_dgemm_narrow(int transpose_a, long m, long n, long k, double alpha, const double *a, long lda,
                          const double *b, long ldb, double *c, long ldc, int accumulate);

/// The softmax cross-entropy of the column-major `n × m` class scores `z` (`m ≥ 2`) against
/// the classes `codes` (each in `0 ..< m`): returns `Σᵢ (log Σⱼ exp zᵢⱼ − zᵢ,codeᵢ)` and
/// overwrites `z` with the loss's derivatives `p − onehot(code)`, `p` each row's softmax,
/// which is also written to the `n × m` `probabilities` unless it is NULL.
double repprobe_cross_entropy(double *z, long n, long m, const long *codes, double *probabilities);

/// `out[i] = exp(x[i])` in float64, within an ulp or so of the correctly rounded value, by
/// the exponential behind `repprobe_cross_entropy`.
void repprobe_exp64(double *out, const double *x, long count);
/// `repprobe_cross_entropy` in its baseline x86-64 build, for tests: the same bits.
double repprobe_cross_entropy_baseline(double *z, long n, long m, const long *codes, double *probabilities);

/// Runs `body(context, part)` for every part in [0, parts), shared between the calling
/// thread and the runtime's helper threads (one per further core, started on first use),
/// and returns when all have run. Parts are claimed one at a time, so a part may run on any
/// thread: each must write only what it owns and compute the same values wherever it runs.
/// While another region is running (another caller's, or this one's when called from inside
/// a part) the caller runs its parts itself, in order.
void repprobe_parallel(long parts, void *context, void (*body)(void *context, long part));
/// The threads `repprobe_parallel` shares parts between: the caller and its helpers.
long repprobe_parallel_threads(void);

#endif
