// Scalar reference layer norm kernels (float64 statistics by blocks, as row_welford).
#include <cmath>

#include "kernels/norm.h"

namespace autodiff::kernels {
namespace {

template <typename T>
void layer_norm_row(const T* x, const T* w, const T* b, T* y, int64_t n, T eps, T* mean, T* rstd,
                    bool /*stream*/) {
  // Statistics by blocks, as the vector levels (one sum over a long row drifts: 67 ulps of
  // rstd in float64 on rows of 20001 small integers)
  double mu, v;
  table<T>().row_welford(x, n, &mu, &v);
  const T m = T(mu), rs = T(1.0 / std::sqrt(v / double(n) + double(eps)));
  for (int64_t i = 0; i < n; ++i) {
    T xh = (x[i] - m) * rs;
    y[i] = w ? xh * w[i] + (b ? b[i] : T(0)) : xh + (b ? b[i] : T(0));
  }
  *mean = m;
  *rstd = rs;
}

template <typename T>
void layer_norm_bwd_row(const T* gy, const T* x, T mean, T rstd, const T* w, T* gx, T* gw_acc,
                        T* gb_acc, int64_t n, bool /*stream*/) {
  double sg = 0, sgx = 0;
  for (int64_t i = 0; i < n; ++i) {
    T xh = (x[i] - mean) * rstd;
    T g = w ? gy[i] * w[i] : gy[i];
    sg += double(g);
    sgx += double(g) * double(xh);
    if (gw_acc) {
      gw_acc[i] += gy[i] * xh;
      gb_acc[i] += gy[i];
    }
  }
  const T c1 = T(sg / double(n)), c2 = T(sgx / double(n));
  for (int64_t i = 0; i < n; ++i) {
    T xh = (x[i] - mean) * rstd;
    T g = w ? gy[i] * w[i] : gy[i];
    gx[i] = rstd * (g - c1 - xh * c2);
  }
}

}  // namespace

template <typename T>
void fill_norm_scalar(KernelTable<T>& t) {
  t.layer_norm_row = layer_norm_row<T>;
  t.layer_norm_bwd_row = layer_norm_bwd_row<T>;
}
template void fill_norm_scalar<float>(KernelTable<float>&);
template void fill_norm_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
