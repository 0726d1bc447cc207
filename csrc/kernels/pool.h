// Max pooling over (planes, h, w) images (planes = N * C), any kernel, stride, padding and
// dilation.  The argmax is the flat index i * kw + j inside the window (padded positions
// counted), as the NumPy backend's window view gives it.
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

}  // namespace autodiff::kernels
