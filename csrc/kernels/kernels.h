// Kernel function-pointer types shared by the dispatch table and the per-ISA files.
//
// A "row kernel" works on one contiguous run of n elements; the drivers in
// <family>.cpp handle shapes, strides, broadcasting and OpenMP around them.
#pragma once

#include <cstdint>

namespace autodiff::kernels {

enum class BinaryOp : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
constexpr int kNumBinaryOps = 4;
enum class UnaryOp : int { kExp = 0, kLog = 1, kTanh = 2, kSigmoid = 3, kRelu = 4 };
constexpr int kNumUnaryOps = 5;

// out[i] = a[i*sa] op b[i*sb] for i < n, with sa, sb in {0, 1} (0: a broadcast scalar).
template <typename T>
using BinaryFn = void (*)(const T* a, const T* b, T* out, int64_t n, int64_t sa, int64_t sb);
// y[i] = f(x[i]); y may equal x.
template <typename T>
using UnaryFn = void (*)(const T* x, T* y, int64_t n);

// Reductions of one contiguous row.
template <typename T>
using RowSumFn = double (*)(const T* x, int64_t n);
template <typename T>
using RowMaxFn = T (*)(const T* x, int64_t n);  // NaN propagates; n >= 1
// Mean and sum of squared deviations (M2) of a row, in one pass.
template <typename T>
using RowWelfordFn = void (*)(const T* x, int64_t n, double* mean, double* m2);
// Column accumulation: acc[j] (op)= x[j] for j < w.
template <typename T>
using ColAccumFn = void (*)(T* acc, const T* x, int64_t w);
// Column Welford step with count k (1-based): d = x - mean; mean += d / k; m2 += d * (x - mean).
template <typename T>
using ColWelfordFn = void (*)(const T* x, int64_t w, int64_t k, T* mean, T* m2);

// Softmax family over one contiguous row (y may not alias x).
template <typename T>
using SoftmaxRowFn = void (*)(const T* x, T* y, int64_t n);
template <typename T>
using SoftmaxBwdRowFn = void (*)(const T* y, const T* gy, T* gx, int64_t n);

// Layer norm of one row: y = (x - mean) * rstd * w + b (w, b may be null).
template <typename T>
using LayerNormRowFn = void (*)(const T* x, const T* w, const T* b, T* y, int64_t n, T eps, T* mean,
                                T* rstd);
// Backward of one row; accumulates gw_acc += gy * xhat and gb_acc += gy when w != null.
template <typename T>
using LayerNormBwdRowFn = void (*)(const T* gy, const T* x, T mean, T rstd, const T* w, T* gx,
                                   T* gw_acc, T* gb_acc, int64_t n);

// GEMM micro-kernel: C[m x n] (+)= Apanel[MR x kc] * Bpanel[kc x NR], m <= MR, n <= NR.
// Panels are packed (A column-major in MR rows, B row-major in NR columns, zero padded);
// C is row-major with leading dimension ldc.  accumulate=false overwrites C.
template <typename T>
using GemmUkernelFn = void (*)(int64_t kc, const T* pa, const T* pb, T* c, int64_t ldc, int m,
                               int n, bool accumulate);

// Convolution micro-kernel (kernels/conv.h): as GemmUkernelFn, but B is not packed: row k
// is NR/2 contiguous elements at b + boff[k] followed by NR/2 at b + boff[k] + half (half =
// NR/2 for one run; a row pitch when a panel spans two image rows), all readable; every C
// row written has NR columns.
template <typename T>
using ConvUkernelFn = void (*)(int64_t kc, const T* pa, const T* b, const int64_t* boff,
                               int64_t half, T* c, int64_t ldc, int m, bool accumulate);

}  // namespace autodiff::kernels
