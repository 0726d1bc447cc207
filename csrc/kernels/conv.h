// Direct (implicit-GEMM) 2-D convolution on NCHW arrays: no im2col matrix is materialised.
//
// Each image is copied once into a zero-framed per-thread buffer, and the GEMM micro-kernel
// (table<T>().gemm_ukernel) reads B micro-panels packed straight from it through two offset
// tables: a window element (c, i, j) of output (r, s) of a channel block sits at
//   row_off[(c, i, j)] + col_off[(r, s)],  row_off = c*Hp*Wp + i*dh*Wp + j*dw,
//                                          col_off = r*sh*Wp + s*sw,
// so any stride, dilation, padding and group count goes through the same packer.
//
//   forward  y_n[g]    = W[g] (og x K) @ im2col(x_n[g]) (K x Q)          K = cg*kh*kw
//   weight   dW[g]    += dy_n[g] (og x Q) @ im2col(x_n[g])^T (Q x K)     Q = oh*ow
//   input    dx_n[g]   = col2im(W[g]^T (K x og) @ dy_n[g] (og x Q))
//
// For dW the padded image is stored channels-last, so the K columns of a B panel (the cg
// channels of one kernel tap) are contiguous: packing is a row copy, not a transpose.
// The packers only move data (plain C++ that the compiler vectorises at the baseline ISA);
// all arithmetic runs in the dispatched GEMM micro-kernel, so there is no per-ISA file here.
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

// The unpacked-B micro-kernels (conv_ukernel_scalar.cpp, conv_ukernel_avx2_6x16.cpp).
template <typename T>
void fill_conv_scalar(KernelTable<T>& t);
template <typename T>
void fill_conv_avx2(KernelTable<T>& t);

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

// dx (N, C, H, W) contiguous from dy and a contiguous w.
template <typename T>
void conv2d_backward_input(const ConvGeom& g, const T* dy, const int64_t* ds, const T* w, T* dx);

}  // namespace autodiff::kernels
