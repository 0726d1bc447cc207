// Kernel function-pointer types shared by the dispatch table and the per-ISA files.
//
// A "row kernel" works on one contiguous run of n elements; the drivers in
// <family>.cpp handle shapes, strides, broadcasting and OpenMP around them.
#pragma once

#include <cstdint>

namespace autodiff::kernels {

// kReluBwd: a = the relu output y, b = its gradient g; out = g * (y > 0 ? 1 : 0) (NumPy's
// g * (y > 0): a NaN or inf g times 0 stays NaN).  kFmod, kRemainder: C's fmod and Python's
// % (remainder_ops.h), exact, as PyTorch's.
enum class BinaryOp : int {
  kAdd = 0,
  kSub = 1,
  kMul = 2,
  kDiv = 3,
  kReluBwd = 4,
  kFmod = 5,
  kRemainder = 6
};
constexpr int kNumBinaryOps = 7;
// kGelu: x * Phi(x) (Phi the normal CDF); kGeluTanh: PyTorch's approximate="tanh" form.
enum class UnaryOp : int {
  kExp = 0,
  kLog = 1,
  kTanh = 2,
  kSigmoid = 3,
  kRelu = 4,
  kErf = 5,
  kGelu = 6,
  kGeluTanh = 7,
  kSilu = 8,
  kSqrt = 9,
  kAbs = 10
};
constexpr int kNumUnaryOps = 11;
// Gradients from the op's input x and the output gradient g: out = g * f'(x) (kAbs:
// g * sign(x), 0 at 0, NaN at NaN).  The *Out ops take the op's output y in place of x:
// sigmoid g y (1 - y), tanh g (1 - y^2), sqrt g / (2 y).
enum class GradOp : int {
  kGelu = 0,
  kGeluTanh = 1,
  kSilu = 2,
  kAbs = 3,
  kSigmoidOut = 4,
  kTanhOut = 5,
  kSqrtOut = 6
};
constexpr int kNumGradOps = 7;
// Activations with parameters p (PyTorch's CPU formulas, NaN and boundaries included):
// kLeakyRelu (p[0] the slope), kHardtanh (p[0], p[1] the bounds; backward only, its forward
// is clamp), kHardsigmoid, kHardswish, kHuber (of d = input - target: p[0] delta, p[1] 1 or
// 1 / delta, smooth L1's scale), kHardshrink and kSoftshrink (p[0] lambda), kThreshold (p[0]
// the threshold, p[1] the value), kSoftplus (p[0] beta, p[1] the threshold), kLogSigmoid, kElu
// (p[0] alpha, p[1] scale, p[2] input_scale: ELU, CELU, SELU), kCube (x ** 3, PyTorch's
// products).  activation_ops.h has the formulas; softplus, log-sigmoid and ELU take exp / log
// (float32: the ISA's vector math).
enum class ActOp : int {
  kLeakyRelu = 0,
  kHardtanh = 1,
  kHardsigmoid = 2,
  kHardswish = 3,
  kHuber = 4,
  kHardshrink = 5,
  kSoftshrink = 6,
  kThreshold = 7,
  kSoftplus = 8,
  kLogSigmoid = 9,
  kElu = 10,
  kCube = 11
};
constexpr int kNumActOps = 12;
constexpr int kNumActParams = 3;
inline constexpr bool act_is_transcendental(ActOp op) {
  return op >= ActOp::kSoftplus && op <= ActOp::kElu;
}

// out[i] = a[i*sa] op b[i*sb] for i < n, with sa, sb in {0, 1} (0: a broadcast scalar).
template <typename T>
using BinaryFn = void (*)(const T* a, const T* b, T* out, int64_t n, int64_t sa, int64_t sb);
// y[i] = f(x[i]); y may equal x.
template <typename T>
using UnaryFn = void (*)(const T* x, T* y, int64_t n);
template <typename T>
using GradFn = void (*)(const T* x, const T* g, T* out, int64_t n);
// Forward (g null): out[i] = f(x[i]); backward: out[i] = g[i] f'(x[i]).  out may equal x.
template <typename T>
using ActFn = void (*)(const T* x, const T* g, T* out, int64_t n, const T* p);
// y[i] = min(max(x[i], lo), hi) (hi when lo > hi, as NumPy and PyTorch); a NaN x stays NaN.
// lo and hi are not NaN (the binding leaves that case to NumPy).  y may equal x.
template <typename T>
using ClampFn = void (*)(const T* x, T* y, int64_t n, T lo, T hi);
// out[i] = lerp(a[i], b[i], w) for one weight w: fma(c, b - a, base) with c = w, base = a
// where |w| < 0.5, else c = w - 1, base = b (PyTorch's vectorised form: exact at both ends).
template <typename T>
using LerpFn = void (*)(const T* a, const T* b, T* out, int64_t n, T w);

// Reductions of one contiguous row.
template <typename T>
using RowSumFn = double (*)(const T* x, int64_t n);
template <typename T>
using RowMaxFn = T (*)(const T* x, int64_t n);  // NaN propagates; n >= 1
// Mean and sum of squared deviations (M2) of a row, in one pass.
template <typename T>
using RowWelfordFn = void (*)(const T* x, int64_t n, double* mean, double* m2);
// Product of a row, multiplied in float64 (a fixed lane order: the result does not depend
// on the thread count).
template <typename T>
using RowProdFn = double (*)(const T* x, int64_t n);
// Column products in float64: acc[j] *= prod_r x[r * step + j] for j < w, rows in order.
template <typename T>
using ColProdFn = void (*)(double* acc, const T* x, int64_t w, int64_t rows, int64_t step);
// Dot product of two rows (float64 accumulation of block sums, like RowSumFn).
template <typename T>
using RowDotFn = double (*)(const T* x, const T* y, int64_t n);
// The machine's FMA limit (benchmarks only): `iters` steps of 12 independent vector FMA
// chains; returns the flops done, the chains' sum in *sink (so the loop stays).
template <typename T>
using FmaLoopFn = double (*)(int64_t iters, T* sink);
// Column accumulation: acc[j] (op)= x[j] for j < w.
template <typename T>
using ColMaxFn = void (*)(T* acc, const T* x, int64_t w, int64_t rows, int64_t step);
// Column sums of `rows` rows `step` elements apart: acc[j] += sum_r x[r * step + j] (with y:
// of x * y, fused multiply-add), added in row order, for j < w.
template <typename T>
using ColSumFn = void (*)(T* acc, const T* x, const T* y, int64_t w, int64_t rows,
                          int64_t step);
// Column Welford step with count k (1-based): d = x - mean; mean += d / k; m2 += d * (x - mean).
template <typename T>
using ColWelfordFn = void (*)(const T* x, const T* shift, int64_t w, int64_t k, T* mean,
                              T* m2);

// Outputs from this size on are written with non-temporal stores (the row kernels' `stream`
// argument; binary ops): with its inputs such an output no longer fits in the last-level
// cache (32 MiB on the Zen 3 we measure), so the next op reads it from memory either way,
// and skipping the read-for-ownership of every destination line saves a third of the
// traffic of a same-shape binary op.  Levels without streaming stores ignore the flag.
constexpr int64_t kStreamBytes = 16 << 20;

// Rows the software-pipelined row kernels (row_pipeline.h) take: at least one step of every
// level (16 floats), at most 256 KiB (two rows of two or three arrays stay in L2: against
// the one-row kernels, float32 at 2 threads, rows of 8 and 16 KiB measured 10-25% faster,
// of 32 KiB 10-45%, of 128 and 256 KiB 1-20%, cached and streaming).  A row whose
// length is not a multiple of the step ends in a step that overlaps the one before
// (TailLanes).  Against the one-row kernels, float32 at 2 threads: rows of 77 and 197 in
// cache 1.2-2.2x faster; 75648 x 197 and 196608 x 77 (60 MB, streaming) 1.7-3.2x.
constexpr int64_t kPipelinedRowBytes = 256 << 10;
constexpr int64_t kPipelineMinRow = 16;
inline bool pipelinable_rows(int64_t n, int64_t elem_bytes) {
  return n >= kPipelineMinRow && n * elem_bytes <= kPipelinedRowBytes;
}

// Whether the pipelined kernels write a streaming output with non-temporal stores: only when
// every row starts 64-byte aligned (n a multiple of 16, out aligned: the bindings allocate
// such outputs).  Other streaming shapes take plain stores, which measured as fast per
// element (75648 x 197: 8.0 ms, 75648 x 192 streaming 7.5-7.7).  The results do not depend on
// the choice.
template <typename T>
inline bool pipelined_stream(int64_t n, const T* out, bool stream) {
  return stream && n % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 64 == 0;
}

// Softmax family over one contiguous row (y may not alias x).
template <typename T>
using SoftmaxRowFn = void (*)(const T* x, T* y, int64_t n, bool stream);
// The pipelined row kernels (row_pipeline.h): `rows` contiguous rows of n, n meeting
// pipelinable_rows (the softmax family's also take 0 < n < kPipelineMinRow, a row at a time
// in registers); `stream`: pipelined_stream.  No output may alias an input: a row
// whose length is not a multiple of the step writes its last step again from the inputs.
template <typename T>
using SoftmaxRowsFn = void (*)(const T* x, T* y, int64_t n, int64_t rows, bool stream);
template <typename T>
using SoftmaxBwdRowsFn = void (*)(const T* y, const T* gy, T* gx, int64_t n, int64_t rows,
                                  bool stream);
template <typename T>
using SoftmaxBwdRowFn = void (*)(const T* y, const T* gy, T* gx, int64_t n, bool stream);

// Layer norm of one row: y = (x - mean) * rstd * w + b (w, b may be null).
template <typename T>
using LayerNormRowFn = void (*)(const T* x, const T* w, const T* b, T* y, int64_t n, T eps, T* mean,
                                T* rstd, bool stream);
// Backward of one row; accumulates gw_acc += gy * xhat and gb_acc += gy when w != null.
template <typename T>
using LayerNormBwdRowFn = void (*)(const T* gy, const T* x, T mean, T rstd, const T* w, T* gx,
                                   T* gw_acc, T* gb_acc, int64_t n, bool stream);
// The pipelined forms (row_pipeline.h): `rows` contiguous rows, mean/rstd one per row.
template <typename T>
using LayerNormRowsFn = void (*)(const T* x, const T* w, const T* b, T* y, int64_t n,
                                 int64_t rows, T eps, T* mean, T* rstd, bool stream);
template <typename T>
using LayerNormBwdRowsFn = void (*)(const T* gy, const T* x, const T* mean, const T* rstd,
                                    const T* w, T* gx, T* gw_acc, T* gb_acc, int64_t n,
                                    int64_t rows, bool stream);

// GEMM micro-kernel: C[m x n] (+)= Apanel[MR x kc] * Bpanel[kc x NR], m <= MR, n <= NR.
// Panels are packed (A column-major in MR rows, B row-major in NR columns, zero padded);
// C is row-major with leading dimension ldc.  accumulate=false overwrites C.
template <typename T>
using GemmUkernelFn = void (*)(int64_t kc, const T* pa, const T* pb, T* c, int64_t ldc, int m,
                               int n, bool accumulate);
// Small-GEMM micro-kernel (same MR x NR tile): A is read in place, row i, column k at
// a[i * rsa + k * csa] (only rows < m are read); B is kc rows of NR readable elements, ldb
// apart (a packed panel, or B itself when it is row-major).
template <typename T>
using GemmSmallUkernelFn = void (*)(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b,
                                    int64_t ldb, T* c, int64_t ldc, int m, int n, bool accumulate);
// Narrow-GEMM kernel: C[m x n] (+)= A[m x kc] @ B[kc x n], m <= kGemmDotMR, n <= kGemmDotNR,
// for row-major A (rows rsa apart) and column-major B (columns csb apart): dot products of
// contiguous runs.
template <typename T>
using GemmDotFn = void (*)(int64_t kc, const T* a, int64_t rsa, const T* b, int64_t csb, T* c,
                           int64_t ldc, int m, int n, bool accumulate);
// One row of A times row-major B (a vector-matrix product): y[0:n) (+)= sum over k < kc of
// a[k * csa] * b[k * rsb + 0:n), B's rows contiguous.
template <typename T>
using GemvRowFn = void (*)(int64_t kc, int64_t n, const T* a, int64_t csa, const T* b,
                           int64_t rsb, T* y, bool accumulate);
// One contiguous row of A times column-major B (x @ W^T on one sample): y[j] = dot(a[0:kc),
// b[j * csb + 0:kc)) for j < n.
template <typename T>
using GemvColFn = void (*)(int64_t kc, int64_t n, const T* a, const T* b, int64_t csb, T* y);

// LSTM cell over w hidden units of one batch row.  Gate g (i, f, g, o) of unit j is at
// [g * gate_stride + j] in xs, b, act and dx, and at [g * gh_stride + j] in gh (the
// hidden-to-hidden GEMM's output, whose layout the driver chooses).  b may be null.
// Forward: pre = gh + xs (+ b); act = [sig, sig, tanh, sig](pre); c = f c_prev + i g;
// tc = tanh(c); h = o tc.
template <typename T>
using LstmFwdRowFn = void (*)(const T* gh, int64_t gh_stride, const T* xs, const T* b,
                              int64_t gate_stride, const T* c_prev, T* act, T* c, T* h, T* tc,
                              int64_t w);
// Backward: dh = dh_in (null: 0) + gy_h; dc' = dc + gy_c + dh o (1 - tc^2);
// dx = d pre-activation of the four gates; dc <- dc' f (the gradient reaching c_prev).
template <typename T>
using LstmBwdRowFn = void (*)(const T* act, int64_t gate_stride, const T* tc, const T* c_prev,
                              const T* gy_h, const T* gy_c, const T* dh_in, T* dc, T* dx,
                              int64_t w);

// GRU cell (gates r, z, n), same layout conventions as the LSTM's.  Forward:
// ghb = gh (+ b); r, z = sig(xs + ghb); n = tanh(xs_n + r ghb_n); h = n + z (h_prev - n);
// act = [r, z, n]; hn = ghb_n (kept for the backward).
template <typename T>
using GruFwdRowFn = void (*)(const T* gh, int64_t gh_stride, const T* xs, const T* b,
                             int64_t gate_stride, const T* h_prev, T* act, T* hn, T* h, int64_t w);
// Backward: dh = dh_in (null: 0) + gy + carry; dx = d(xs) per gate; dgh = d(ghb) per gate
// (dgh_n = dx_n r); carry <- dh z (the direct part of the gradient reaching h_prev).
template <typename T>
using GruBwdRowFn = void (*)(const T* act, int64_t gate_stride, const T* hn, const T* h_prev,
                             const T* gy, const T* dh_in, T* carry, T* dx, T* dgh, int64_t w);
// Convolution micro-kernel (kernels/conv.h): as GemmUkernelFn, but B is not packed: row k
// is NR/2 contiguous elements at b + boff[k] followed by NR/2 at b + boff[k] + half (half =
// NR/2 for one run; a row pitch when a panel spans two image rows), all readable; every C
// row written has NR columns.
template <typename T>
using ConvUkernelFn = void (*)(int64_t kc, const T* pa, const T* b, const int64_t* boff,
                               int64_t half, T* c, int64_t ldc, int m, bool accumulate);

}  // namespace autodiff::kernels
