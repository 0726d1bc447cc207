// Elementwise kernels: binary ops with NumPy broadcasting and unary math.
#pragma once

#include <cstdint>
#include <vector>

#include "dispatch.h"

namespace autodiff::kernels {

template <typename T>
void fill_elementwise_scalar(KernelTable<T>& t);
template <typename T>
void fill_elementwise_avx2(KernelTable<T>& t);
template <typename T>
void fill_elementwise_avx512(KernelTable<T>& t);  // over fill_elementwise_avx2's
template <typename T>
void fill_elementwise_neon(KernelTable<T>& t);

// out[idx] = a[idx] op b[idx] over a broadcast shape.  a_strides / b_strides are in elements,
// aligned with out_shape (0 where broadcast); out is C-contiguous.  Threads over blocks.
template <typename T>
void binary_broadcast(BinaryOp op, const T* a, const std::vector<int64_t>& a_strides, const T* b,
                      const std::vector<int64_t>& b_strides, T* out,
                      const std::vector<int64_t>& out_shape);

// y = f(x) over n contiguous elements, threaded in chunks.
template <typename T>
void unary_contiguous(UnaryOp op, const T* x, T* y, int64_t n);

// y = min(max(x, lo), hi) over n contiguous elements, threaded in chunks.
template <typename T>
void clamp_contiguous(const T* x, T* y, int64_t n, T lo, T hi);
template <typename T>
void lerp_contiguous(const T* a, const T* b, T* out, int64_t n, T w);

// Elements per chunk of grad_contiguous (one thread's grab).
constexpr int64_t kGradChunk = 4096;

// out = g * f'(x) over n contiguous elements, threaded in chunks.  With g_repeats, g holds
// min(n, kGradChunk) elements that every chunk reads again: a broadcast scalar gradient
// (that of .sum() or .mean()) without filling an array of n copies.
template <typename T>
void grad_contiguous(GradOp op, const T* x, const T* g, T* out, int64_t n,
                     bool g_repeats = false);

// The ActOp activation over n contiguous elements, threaded in chunks: forward (g null)
// out = f(x), backward out = g f'(x) (g_repeats as grad_contiguous's).  p: its parameters.
template <typename T>
void act_contiguous(ActOp op, const T* x, const T* g, T* out, int64_t n, const T* p,
                    bool g_repeats = false);

}  // namespace autodiff::kernels
