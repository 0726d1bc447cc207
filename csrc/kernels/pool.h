// Max and average pooling over (planes, h, w) images (planes = N * C).  Max pooling takes any
// kernel, stride, padding and dilation; its argmax is the flat index i * kw + j inside the
// window (padded positions counted), as the NumPy backend's window view gives it.  Average
// pooling has no dilation (PyTorch's has none).
#pragma once

#include <cstdint>

namespace autodiff::kernels {

struct PoolGeom {
  int64_t planes, h, w, oh, ow;
  int64_t kh, kw, sh, sw, pt, pl, dh, dw;  // pt, pl: padding before rows / columns
};

// y[p, oy, ox] = max of its window (NaN wins, the last one; ties keep the first), idx its
// in-window index.  Threads split the planes.
template <typename T>
void max_pool2d_forward(const PoolGeom& g, const T* x, T* y, int64_t* idx);

// gx (zeroed by the caller) += gy at each window's argmax; an idx outside its window is
// skipped (never written out of bounds).  Threads split the planes.
template <typename T>
void max_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* idx, T* gx);

// y[p, oy, ox] = (sum of the window's in-image elements, in row-major window order) /
// (div_h[oy] * div_w[ox]): the divisor rules (count_include_pad, ceil mode, an override) are
// the caller's, as one factor per output row and one per column.  Threads split the planes.
template <typename T>
void avg_pool2d_forward(const PoolGeom& g, const T* x, const int64_t* div_h,
                        const int64_t* div_w, T* y);

// The adjoint: gx[p] = 0, then each gy[p, oy, ox] / divisor added to every in-image element
// of its window.  Threads split the planes.
template <typename T>
void avg_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* div_h,
                         const int64_t* div_w, T* gx);

}  // namespace autodiff::kernels
