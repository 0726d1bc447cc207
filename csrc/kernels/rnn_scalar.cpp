// Scalar reference LSTM cell kernels (libm tanh; sigmoid as 1 / (1 + exp(-x))).
#include <cmath>

#include "kernels/rnn.h"

namespace autodiff::kernels {
namespace {

template <typename T>
T sigmoid(T x) {
  return x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}

template <typename T>
void lstm_fwd_row(const T* gh, int64_t ghs, const T* xs, const T* b, int64_t gs, const T* c_prev,
                  T* act, T* c, T* h, T* tc, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    T pre[4];
    for (int g = 0; g < 4; ++g)
      pre[g] = gh[g * ghs + j] + xs[g * gs + j] + (b ? b[g * gs + j] : T(0));
    const T i = sigmoid(pre[0]), f = sigmoid(pre[1]), gg = std::tanh(pre[2]), o = sigmoid(pre[3]);
    act[j] = i;
    act[gs + j] = f;
    act[2 * gs + j] = gg;
    act[3 * gs + j] = o;
    const T cn = f * c_prev[j] + i * gg;
    const T t = std::tanh(cn);
    c[j] = cn;
    tc[j] = t;
    h[j] = o * t;
  }
}

template <typename T>
void lstm_bwd_row(const T* act, int64_t gs, const T* tc, const T* c_prev, const T* gy_h,
                  const T* gy_c, const T* dh_in, T* dc, T* dx, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    const T i = act[j], f = act[gs + j], g = act[2 * gs + j], o = act[3 * gs + j];
    const T t = tc[j];
    const T dh = (dh_in ? dh_in[j] : T(0)) + gy_h[j];
    const T dcv = dc[j] + gy_c[j] + dh * o * (T(1) - t * t);
    dx[j] = dcv * g * i * (T(1) - i);
    dx[gs + j] = dcv * c_prev[j] * f * (T(1) - f);
    dx[2 * gs + j] = dcv * i * (T(1) - g * g);
    dx[3 * gs + j] = dh * t * o * (T(1) - o);
    dc[j] = dcv * f;
  }
}

template <typename T>
void gru_fwd_row(const T* gh, int64_t ghs, const T* xs, const T* b, int64_t gs, const T* h_prev,
                 T* act, T* hn, T* h, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    T ghb[3];
    for (int g = 0; g < 3; ++g) ghb[g] = gh[g * ghs + j] + (b ? b[g * gs + j] : T(0));
    const T r = sigmoid(xs[j] + ghb[0]), z = sigmoid(xs[gs + j] + ghb[1]);
    const T n = std::tanh(xs[2 * gs + j] + r * ghb[2]);
    act[j] = r;
    act[gs + j] = z;
    act[2 * gs + j] = n;
    hn[j] = ghb[2];
    h[j] = n + z * (h_prev[j] - n);
  }
}

template <typename T>
void gru_bwd_row(const T* act, int64_t gs, const T* hn, const T* h_prev, const T* gy,
                 const T* dh_in, T* carry, T* dx, T* dgh, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    const T r = act[j], z = act[gs + j], n = act[2 * gs + j];
    const T dh = (dh_in ? dh_in[j] : T(0)) + gy[j] + carry[j];
    const T dn = dh * (T(1) - z) * (T(1) - n * n);
    const T d[3] = {dn * hn[j] * (r * (T(1) - r)), dh * (h_prev[j] - n) * (z * (T(1) - z)), dn};
    for (int g = 0; g < 3; ++g) dx[g * gs + j] = d[g];
    const T dg[3] = {d[0], d[1], dn * r};
    for (int g = 0; g < 3; ++g) dgh[g * gs + j] = dg[g];
    carry[j] = dh * z;
  }
}

}  // namespace

template <typename T>
void fill_rnn_scalar(KernelTable<T>& t) {
  t.lstm_fwd_row = lstm_fwd_row<T>;
  t.lstm_bwd_row = lstm_bwd_row<T>;
  t.gru_fwd_row = gru_fwd_row<T>;
  t.gru_bwd_row = gru_bwd_row<T>;
}
template void fill_rnn_scalar<float>(KernelTable<float>&);
template void fill_rnn_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
