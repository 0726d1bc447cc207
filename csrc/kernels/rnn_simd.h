// LSTM and GRU cell kernels written once over an ISA's vocabulary (Isa::Vec, Math's float32
// sigmoid and tanh): a vector of hidden units per step, the tail through zero-padded buffers
// so that every unit gets exactly the vector math.  float64 forward stays on the scalar
// (libm) kernel; the backward has no transcendental and is vectorised for both.  Include
// after the ISA's header, which defines the AD_SIMD* attributes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "dispatch.h"

namespace autodiff::kernels::vec_kernels {
namespace rnn_detail {

// `gates` runs of r <= W elements, `stride` apart, into (out of) a zero-padded W-wide block.
template <int W>
inline void gather_tail(const float* src, int64_t stride, int gates, int64_t r, float* dst) {
  for (int g = 0; g < gates; ++g) std::copy(src + g * stride, src + g * stride + r, dst + g * W);
}
template <int W>
inline void scatter_tail(const float* src, int gates, int64_t r, float* dst, int64_t stride) {
  for (int g = 0; g < gates; ++g) std::copy(src + g * W, src + g * W + r, dst + g * stride);
}

// One vector of LSTM units: gate g of lane j at [g * ghs + j] in gh, [g * gs + j] in xs, b
// and act.
template <typename Isa, typename Math>
AD_SIMD_INLINE void lstm_fwd_vec(const float* gh, int64_t ghs, const float* xs, const float* b,
                                 int64_t gs, const float* c_prev, float* act, float* c, float* h,
                                 float* tc) {
  using V = typename Isa::template Vec<float>;
  typename V::R pre[4];
  for (int g = 0; g < 4; ++g) {
    pre[g] = V::add(V::load(gh + g * ghs), V::load(xs + g * gs));
    if (b) pre[g] = V::add(pre[g], V::load(b + g * gs));
  }
  const auto i = Math::sigmoid(pre[0]), f = Math::sigmoid(pre[1]);
  const auto gg = Math::tanh(pre[2]), o = Math::sigmoid(pre[3]);
  V::store(act, i);
  V::store(act + gs, f);
  V::store(act + 2 * gs, gg);
  V::store(act + 3 * gs, o);
  const auto cn = V::fma(f, V::load(c_prev), V::mul(i, gg));
  const auto t = Math::tanh(cn);
  V::store(c, cn);
  V::store(tc, t);
  V::store(h, V::mul(o, t));
}

template <typename Isa, typename Math>
AD_SIMD void lstm_fwd_row(const float* gh, int64_t ghs, const float* xs, const float* b, int64_t gs,
                          const float* c_prev, float* act, float* c, float* h, float* tc,
                          int64_t w) {
  constexpr int W = Isa::template Vec<float>::W;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    lstm_fwd_vec<Isa, Math>(gh + j, ghs, xs + j, b ? b + j : nullptr, gs, c_prev + j, act + j,
                            c + j, h + j, tc + j);
  if (j == w) return;
  const int64_t r = w - j;
  alignas(64) float in_gh[4 * W] = {}, in_xs[4 * W] = {}, in_b[4 * W] = {}, in_c[W] = {};
  alignas(64) float o_act[4 * W], o_c[W], o_h[W], o_tc[W];
  gather_tail<W>(gh + j, ghs, 4, r, in_gh);
  gather_tail<W>(xs + j, gs, 4, r, in_xs);
  if (b) gather_tail<W>(b + j, gs, 4, r, in_b);
  std::copy(c_prev + j, c_prev + w, in_c);
  lstm_fwd_vec<Isa, Math>(in_gh, W, in_xs, in_b, W, in_c, o_act, o_c, o_h, o_tc);
  scatter_tail<W>(o_act, 4, r, act + j, gs);
  std::copy(o_c, o_c + r, c + j);
  std::copy(o_h, o_h + r, h + j);
  std::copy(o_tc, o_tc + r, tc + j);
}

template <typename Isa, typename T>
AD_SIMD_INLINE void lstm_bwd_vec(const T* act, int64_t gs, const T* tc, const T* c_prev,
                                 const T* gy_h, const T* gy_c, const T* dh_in, T* dc, T* dx) {
  using V = typename Isa::template Vec<T>;
  const auto one = V::set1(T(1));
  const auto i = V::load(act), f = V::load(act + gs), g = V::load(act + 2 * gs),
             o = V::load(act + 3 * gs), t = V::load(tc);
  auto dh = V::load(gy_h);
  if (dh_in) dh = V::add(dh, V::load(dh_in));
  // dc' = dc + gy_c + dh o (1 - t^2)
  const auto dcv = V::fma(V::mul(dh, o), V::fnma(t, t, one), V::add(V::load(dc), V::load(gy_c)));
  const typename V::R d[4] = {V::mul(V::mul(dcv, g), V::mul(i, V::sub(one, i))),
                              V::mul(V::mul(dcv, V::load(c_prev)), V::mul(f, V::sub(one, f))),
                              V::mul(V::mul(dcv, i), V::fnma(g, g, one)),
                              V::mul(V::mul(dh, t), V::mul(o, V::sub(one, o)))};
  for (int k = 0; k < 4; ++k) V::store(dx + k * gs, d[k]);
  V::store(dc, V::mul(dcv, f));
}

template <typename Isa, typename T>
AD_SIMD void lstm_bwd_row(const T* act, int64_t gs, const T* tc, const T* c_prev, const T* gy_h,
                          const T* gy_c, const T* dh_in, T* dc, T* dx, int64_t w) {
  constexpr int W = Isa::template Vec<T>::W;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    lstm_bwd_vec<Isa, T>(act + j, gs, tc + j, c_prev + j, gy_h + j, gy_c + j,
                         dh_in ? dh_in + j : nullptr, dc + j, dx + j);
  for (; j < w; ++j) {  // scalar tail: the same arithmetic (no transcendental to match)
    const T i = act[j], f = act[gs + j], g = act[2 * gs + j], o = act[3 * gs + j];
    const T t = tc[j];
    const T dh = (dh_in ? dh_in[j] : T(0)) + gy_h[j];
    const T dcv = dc[j] + gy_c[j] + dh * o * (T(1) - t * t);
    dx[j] = dcv * g * (i * (T(1) - i));
    dx[gs + j] = dcv * c_prev[j] * (f * (T(1) - f));
    dx[2 * gs + j] = dcv * i * (T(1) - g * g);
    dx[3 * gs + j] = dh * t * (o * (T(1) - o));
    dc[j] = dcv * f;
  }
}

template <typename Isa, typename Math>
AD_SIMD_INLINE void gru_fwd_vec(const float* gh, int64_t ghs, const float* xs, const float* b,
                                int64_t gs, const float* h_prev, float* act, float* hn, float* h) {
  using V = typename Isa::template Vec<float>;
  typename V::R ghb[3];
  for (int g = 0; g < 3; ++g) {
    ghb[g] = V::load(gh + g * ghs);
    if (b) ghb[g] = V::add(ghb[g], V::load(b + g * gs));
  }
  const auto r = Math::sigmoid(V::add(V::load(xs), ghb[0]));
  const auto z = Math::sigmoid(V::add(V::load(xs + gs), ghb[1]));
  const auto n = Math::tanh(V::fma(r, ghb[2], V::load(xs + 2 * gs)));
  V::store(act, r);
  V::store(act + gs, z);
  V::store(act + 2 * gs, n);
  V::store(hn, ghb[2]);
  V::store(h, V::fma(z, V::sub(V::load(h_prev), n), n));
}

template <typename Isa, typename Math>
AD_SIMD void gru_fwd_row(const float* gh, int64_t ghs, const float* xs, const float* b, int64_t gs,
                         const float* h_prev, float* act, float* hn, float* h, int64_t w) {
  constexpr int W = Isa::template Vec<float>::W;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    gru_fwd_vec<Isa, Math>(gh + j, ghs, xs + j, b ? b + j : nullptr, gs, h_prev + j, act + j,
                           hn + j, h + j);
  if (j == w) return;
  const int64_t r = w - j;
  alignas(64) float in_gh[3 * W] = {}, in_xs[3 * W] = {}, in_b[3 * W] = {}, in_h[W] = {};
  alignas(64) float o_act[3 * W], o_hn[W], o_h[W];
  gather_tail<W>(gh + j, ghs, 3, r, in_gh);
  gather_tail<W>(xs + j, gs, 3, r, in_xs);
  if (b) gather_tail<W>(b + j, gs, 3, r, in_b);
  std::copy(h_prev + j, h_prev + w, in_h);
  gru_fwd_vec<Isa, Math>(in_gh, W, in_xs, in_b, W, in_h, o_act, o_hn, o_h);
  scatter_tail<W>(o_act, 3, r, act + j, gs);
  std::copy(o_hn, o_hn + r, hn + j);
  std::copy(o_h, o_h + r, h + j);
}

template <typename Isa, typename T>
AD_SIMD_INLINE void gru_bwd_vec(const T* act, int64_t gs, const T* hn, const T* h_prev, const T* gy,
                                const T* dh_in, T* carry, T* dx, T* dgh) {
  using V = typename Isa::template Vec<T>;
  const auto one = V::set1(T(1));
  const auto r = V::load(act), z = V::load(act + gs), n = V::load(act + 2 * gs);
  auto dh = V::add(V::load(gy), V::load(carry));
  if (dh_in) dh = V::add(dh, V::load(dh_in));
  const auto dn = V::mul(V::mul(dh, V::sub(one, z)), V::fnma(n, n, one));
  const typename V::R d[3] = {
      V::mul(V::mul(dn, V::load(hn)), V::mul(r, V::sub(one, r))),
      V::mul(V::mul(dh, V::sub(V::load(h_prev), n)), V::mul(z, V::sub(one, z))), dn};
  const typename V::R dg[3] = {d[0], d[1], V::mul(dn, r)};
  for (int g = 0; g < 3; ++g) {
    V::store(dx + g * gs, d[g]);
    V::store(dgh + g * gs, dg[g]);
  }
  V::store(carry, V::mul(dh, z));
}

template <typename Isa, typename T>
AD_SIMD void gru_bwd_row(const T* act, int64_t gs, const T* hn, const T* h_prev, const T* gy,
                         const T* dh_in, T* carry, T* dx, T* dgh, int64_t w) {
  constexpr int W = Isa::template Vec<T>::W;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    gru_bwd_vec<Isa, T>(act + j, gs, hn + j, h_prev + j, gy + j, dh_in ? dh_in + j : nullptr,
                        carry + j, dx + j, dgh + j);
  for (; j < w; ++j) {  // scalar tail: the same arithmetic
    const T r = act[j], z = act[gs + j], n = act[2 * gs + j];
    const T dh = (dh_in ? dh_in[j] : T(0)) + gy[j] + carry[j];
    const T dn = dh * (T(1) - z) * (T(1) - n * n);
    const T d[3] = {dn * hn[j] * (r * (T(1) - r)), dh * (h_prev[j] - n) * (z * (T(1) - z)), dn};
    const T dg[3] = {d[0], d[1], dn * r};
    for (int g = 0; g < 3; ++g) {
      dx[g * gs + j] = d[g];
      dgh[g * gs + j] = dg[g];
    }
    carry[j] = dh * z;
  }
}

}  // namespace rnn_detail

template <typename Isa, typename Math, typename T>
void fill_rnn_vec(KernelTable<T>& t) {
  t.lstm_bwd_row = rnn_detail::lstm_bwd_row<Isa, T>;
  t.gru_bwd_row = rnn_detail::gru_bwd_row<Isa, T>;
  if constexpr (std::is_same_v<T, float>) {
    t.lstm_fwd_row = rnn_detail::lstm_fwd_row<Isa, Math>;
    t.gru_fwd_row = rnn_detail::gru_fwd_row<Isa, Math>;
  }
}

}  // namespace autodiff::kernels::vec_kernels
