#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA LSTM and GRU cell kernels: 8 hidden units per step, the tail through zero-padded
// buffers so that every unit gets exactly the vector math.  float64 forward stays on the
// scalar (libm) kernel; the backward has no transcendental and is vectorised for both.
#include <algorithm>

#include "kernels/rnn.h"
#include "simd.h"

namespace autodiff::kernels {
namespace {

using avx2::Vec;

// One vector of units: gate g of lane j at [g * ghs + j] in gh, [g * gs + j] in xs, b, act.
AD_AVX2_INLINE void fwd8(const float* gh, int64_t ghs, const float* xs, const float* b, int64_t gs,
                         const float* c_prev, float* act, float* c, float* h, float* tc) {
  __m256 pre[4];
  for (int g = 0; g < 4; ++g) {
    pre[g] = _mm256_add_ps(_mm256_loadu_ps(gh + g * ghs), _mm256_loadu_ps(xs + g * gs));
    if (b) pre[g] = _mm256_add_ps(pre[g], _mm256_loadu_ps(b + g * gs));
  }
  const __m256 i = avx2::sigmoid_ps(pre[0]), f = avx2::sigmoid_ps(pre[1]);
  const __m256 gg = avx2::tanh_ps(pre[2]), o = avx2::sigmoid_ps(pre[3]);
  _mm256_storeu_ps(act, i);
  _mm256_storeu_ps(act + gs, f);
  _mm256_storeu_ps(act + 2 * gs, gg);
  _mm256_storeu_ps(act + 3 * gs, o);
  const __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(c_prev), _mm256_mul_ps(i, gg));
  const __m256 t = avx2::tanh_ps(cn);
  _mm256_storeu_ps(c, cn);
  _mm256_storeu_ps(tc, t);
  _mm256_storeu_ps(h, _mm256_mul_ps(o, t));
}

AD_AVX2 void lstm_fwd_row_f32(const float* gh, int64_t ghs, const float* xs, const float* b,
                              int64_t gs, const float* c_prev, float* act, float* c, float* h,
                              float* tc, int64_t w) {
  constexpr int W = 8;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    fwd8(gh + j, ghs, xs + j, b ? b + j : nullptr, gs, c_prev + j, act + j, c + j, h + j, tc + j);
  if (j == w) return;
  const int64_t r = w - j;
  alignas(32) float in_gh[4 * W] = {}, in_xs[4 * W] = {}, in_b[4 * W] = {}, in_c[W] = {};
  alignas(32) float o_act[4 * W], o_c[W], o_h[W], o_tc[W];
  for (int g = 0; g < 4; ++g)
    for (int64_t k = 0; k < r; ++k) {
      in_gh[g * W + k] = gh[g * ghs + j + k];
      in_xs[g * W + k] = xs[g * gs + j + k];
      if (b) in_b[g * W + k] = b[g * gs + j + k];
    }
  std::copy(c_prev + j, c_prev + w, in_c);
  fwd8(in_gh, W, in_xs, in_b, W, in_c, o_act, o_c, o_h, o_tc);
  for (int g = 0; g < 4; ++g) std::copy(o_act + g * W, o_act + g * W + r, act + g * gs + j);
  std::copy(o_c, o_c + r, c + j);
  std::copy(o_h, o_h + r, h + j);
  std::copy(o_tc, o_tc + r, tc + j);
}

template <typename T>
AD_AVX2_INLINE void bwd_vec(const T* act, int64_t gs, const T* tc, const T* c_prev, const T* gy_h,
                            const T* gy_c, const T* dh_in, T* dc, T* dx) {
  using V = Vec<T>;
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

template <typename T>
AD_AVX2 void lstm_bwd_row(const T* act, int64_t gs, const T* tc, const T* c_prev, const T* gy_h,
                          const T* gy_c, const T* dh_in, T* dc, T* dx, int64_t w) {
  constexpr int W = Vec<T>::W;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    bwd_vec<T>(act + j, gs, tc + j, c_prev + j, gy_h + j, gy_c + j, dh_in ? dh_in + j : nullptr,
               dc + j, dx + j);
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

AD_AVX2_INLINE void gru_fwd8(const float* gh, int64_t ghs, const float* xs, const float* b,
                             int64_t gs, const float* h_prev, float* act, float* hn, float* h) {
  __m256 ghb[3];
  for (int g = 0; g < 3; ++g) {
    ghb[g] = _mm256_loadu_ps(gh + g * ghs);
    if (b) ghb[g] = _mm256_add_ps(ghb[g], _mm256_loadu_ps(b + g * gs));
  }
  const __m256 r = avx2::sigmoid_ps(_mm256_add_ps(_mm256_loadu_ps(xs), ghb[0]));
  const __m256 z = avx2::sigmoid_ps(_mm256_add_ps(_mm256_loadu_ps(xs + gs), ghb[1]));
  const __m256 n = avx2::tanh_ps(_mm256_fmadd_ps(r, ghb[2], _mm256_loadu_ps(xs + 2 * gs)));
  _mm256_storeu_ps(act, r);
  _mm256_storeu_ps(act + gs, z);
  _mm256_storeu_ps(act + 2 * gs, n);
  _mm256_storeu_ps(hn, ghb[2]);
  _mm256_storeu_ps(h, _mm256_fmadd_ps(z, _mm256_sub_ps(_mm256_loadu_ps(h_prev), n), n));
}

AD_AVX2 void gru_fwd_row_f32(const float* gh, int64_t ghs, const float* xs, const float* b,
                             int64_t gs, const float* h_prev, float* act, float* hn, float* h,
                             int64_t w) {
  constexpr int W = 8;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    gru_fwd8(gh + j, ghs, xs + j, b ? b + j : nullptr, gs, h_prev + j, act + j, hn + j, h + j);
  if (j == w) return;
  const int64_t r = w - j;
  alignas(32) float in_gh[3 * W] = {}, in_xs[3 * W] = {}, in_b[3 * W] = {}, in_h[W] = {};
  alignas(32) float o_act[3 * W], o_hn[W], o_h[W];
  for (int g = 0; g < 3; ++g)
    for (int64_t k = 0; k < r; ++k) {
      in_gh[g * W + k] = gh[g * ghs + j + k];
      in_xs[g * W + k] = xs[g * gs + j + k];
      if (b) in_b[g * W + k] = b[g * gs + j + k];
    }
  std::copy(h_prev + j, h_prev + w, in_h);
  gru_fwd8(in_gh, W, in_xs, in_b, W, in_h, o_act, o_hn, o_h);
  for (int g = 0; g < 3; ++g) std::copy(o_act + g * W, o_act + g * W + r, act + g * gs + j);
  std::copy(o_hn, o_hn + r, hn + j);
  std::copy(o_h, o_h + r, h + j);
}

template <typename T>
AD_AVX2_INLINE void gru_bwd_vec(const T* act, int64_t gs, const T* hn, const T* h_prev, const T* gy,
                                const T* dh_in, T* carry, T* dx, T* dgh) {
  using V = Vec<T>;
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

template <typename T>
AD_AVX2 void gru_bwd_row(const T* act, int64_t gs, const T* hn, const T* h_prev, const T* gy,
                         const T* dh_in, T* carry, T* dx, T* dgh, int64_t w) {
  constexpr int W = Vec<T>::W;
  int64_t j = 0;
  for (; j + W <= w; j += W)
    gru_bwd_vec<T>(act + j, gs, hn + j, h_prev + j, gy + j, dh_in ? dh_in + j : nullptr, carry + j,
                   dx + j, dgh + j);
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

}  // namespace

template <typename T>
void fill_rnn_avx2(KernelTable<T>& t) {
  t.lstm_bwd_row = lstm_bwd_row<T>;
  t.gru_bwd_row = gru_bwd_row<T>;
  if constexpr (std::is_same_v<T, float>) {
    t.lstm_fwd_row = lstm_fwd_row_f32;
    t.gru_fwd_row = gru_fwd_row_f32;
  }
}
template void fill_rnn_avx2<float>(KernelTable<float>&);
template void fill_rnn_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
