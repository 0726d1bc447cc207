// Direct (implicit-GEMM) 2-D convolution on NCHW arrays: no im2col matrix is materialised.
//
// Each image is copied once into a zero-framed per-thread buffer, addressed through two
// offset tables: a window element (c, i, j) of output (r, s) of a channel block sits at
//   row_off[(c, i, j)] + col_off[(r, s)],  row_off = c*Hp*Wp + i*dh*Wp + j*dw,
//                                          col_off = r*sh*Wp + s*sw,
// so any stride, dilation, padding and group count goes through the same driver.
//
//   forward  y_n[g]    = W[g] (og x K) @ im2col(x_n[g]) (K x Q)          K = cg*kh*kw
//   weight   dW[g]    += dy_n[g] (og x Q) @ im2col(x_n[g])^T (Q x K)     Q = oh*ow
//   input    dx_n[g]   = col2im(W[g]^T (K x og) @ dy_n[g] (og x Q))  (stride 1: the forward
//                        of dy with the flipped kernel)
//
// A is the weight (or dy) packed with pack_a.  When the NR columns of a B panel are two
// contiguous half-runs of the image (all panels of stride-1 rows at least NR/2 wide), the
// conv micro-kernel (table<T>().conv_ukernel) loads B rows in place; other panels are
// packed from the offset tables for the GEMM micro-kernel.  For dW the padded image is
// stored channels-last, so a B panel's columns (the cg channels of one tap) are one run.
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

// The unpacked-B micro-kernels: conv_ukernel_scalar.cpp, and gemm_ukernel_simd.h's at the
// SIMD levels (filled with their GEMM tile).
template <typename T>
void fill_conv_scalar(KernelTable<T>& t);

struct ConvGeom {
  int64_t n, c, h, w;          // input (N, C, H, W)
  int64_t oc, kh, kw, groups;  // weight (OC, C / groups, kh, kw)
  int64_t sh, sw, dh, dw;      // stride, dilation
  int64_t pt, pb, pl, pr;      // padding (top, bottom, left, right)
  int64_t oh, ow;              // output size (>= 1)
  int64_t hp() const { return h + pt + pb; }
  int64_t wp() const { return w + pl + pr; }
};

// y (N, OC, oh, ow) contiguous; x with element strides xs[4]; w contiguous; bias or null.
template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const int64_t* xs, const T* w, const T* bias,
                    T* y);

// dy (N, OC, oh, ow) has element strides ds[4] whose (oh, ow) plane is evenly spaced:
// ds[2] == ow * ds[3], or oh == 1, or ow == 1 (a contiguous or broadcast dy is).

// dW (OC, C/groups, kh, kw) and db (OC) (either may be null) from dy and x (element strides
// xs[4]).
template <typename T>
void conv2d_backward_weight(const ConvGeom& g, const T* dy, const int64_t* ds, const T* x,
                            const int64_t* xs, T* dw, T* db);

// dx (N, C, H, W) contiguous from dy and a contiguous w, plus bias (C entries) when not null:
// with a bias this is conv_transpose2d's forward.
template <typename T>
void conv2d_backward_input(const ConvGeom& g, const T* dy, const int64_t* ds, const T* w, T* dx,
                           const T* bias = nullptr);

// Winograd F(2x2, 3x3) forward (conv_winograd.cpp) for 3x3 stride-1 undilated ungrouped
// convolutions: returns false, doing nothing, when the geometry does not qualify or (mode 1)
// when the direct convolution is as fast.  conv2d_forward tries it first.
template <typename T>
bool conv2d_winograd(const ConvGeom& g, const T* x, const int64_t* xs, const T* w, const T* bias,
                     T* y);

// 0: never Winograd; 1 (default): where it pays; 2: wherever the geometry allows (tests).
void set_conv_winograd(int mode);
int conv_winograd_mode();

}  // namespace autodiff::kernels
