// The packed GEMM micro-kernel (GemmUkernelFn) and the convolution one (ConvUkernelFn)
// written once over a Vec vocabulary: an MR-row x NV-vector tile of C held in registers
// (MR * NV accumulators).  Include after the ISA's header, which defines the AD_SIMD*
// attributes; x86 only (it prefetches).
#pragma once

#include <cstdint>

#include "kernels/gemm.h"

namespace autodiff::kernels::vec_kernels {

// Rows 0..m, columns 0..n of an MR x NV-vector accumulator tile to C (or added to C).  Rows
// m.. of a short edge tile of the packed kernel are A's zero padding.  A constant trip count
// with a break keeps acc[] in registers (a runtime bound would index it dynamically).
template <class V, int MR, int NV>
AD_SIMD_INLINE void store_tile(typename V::R (&acc)[MR][NV], typename V::T* c, int64_t ldc,
                               int m, int n, bool accumulate) {
  using T = typename V::T;
  constexpr int W = V::W, NR = NV * W;
  if (n == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (i >= m) break;
      T* ci = c + i * ldc;
      for (int v = 0; v < NV; ++v) {
        if (accumulate) acc[i][v] = V::add(acc[i][v], V::load(ci + v * W));
        V::store(ci + v * W, acc[i][v]);
      }
    }
    return;
  }
  alignas(64) T buf[MR * NR];  // narrow edge tile: spill, then copy the valid m x n part
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) V::store(buf + i * NR + v * W, acc[i][v]);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + buf[i * NR + j] : buf[i * NR + j];
}

// One k step of the tile: acc[i][v] += pa[i] * b[v] (A broadcast from memory into the FMA).
template <class V, int MR, int NV>
AD_SIMD_INLINE void fma_step(typename V::R (&acc)[MR][NV], const typename V::T* pa,
                             const typename V::R (&b)[NV]) {
  for (int i = 0; i < MR; ++i) {
    const typename V::R a = V::set1(pa[i]);
    for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(a, b[v], acc[i][v]);
  }
}

// The m rows of a C tile NR wide: into L2 (T1) or, for writing, into L1.
template <int NR, typename T>
AD_SIMD_INLINE void prefetch_tile(const T* c, int64_t ldc, int m, bool l1) {
  for (int i = 0; i < m; ++i) {
    if (l1) {
      __builtin_prefetch(c + i * ldc, 1);
      __builtin_prefetch(c + i * ldc + NR - 1, 1);
    } else {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T1);
    }
  }
}

// C[m x n] (+)= packed A panel (kc x MR) @ packed B panel (kc x NR).
template <class V, int MR, int NV>
AD_SIMD void packed_ukernel(int64_t kc, const typename V::T* pa, const typename V::T* pb,
                            typename V::T* c, int64_t ldc, int m, int n, bool accumulate) {
  using R = typename V::R;
  constexpr int W = V::W, NR = NV * W;
  R acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  // The C tile is only touched at the end, but its rows are ldc apart and usually not in
  // L1 by then: fetch it into L2 now, and into L1 shortly before the loop ends.
  prefetch_tile<NR>(c, ldc, m, false);
  auto step = [&](int64_t steps) AD_SIMD_INLINE_LAMBDA {
#pragma GCC unroll 4
    for (int64_t k = 0; k < steps; ++k) {
      __builtin_prefetch(pb + 8 * NR);  // B's first pass comes from L3
      if constexpr (MR * int(sizeof(typename V::T)) >= 64) __builtin_prefetch(pa + 8 * MR);
      R b[NV];
      for (int v = 0; v < NV; ++v) b[v] = V::load(pb + v * W);
      fma_step<V, MR, NV>(acc, pa, b);
      pa += MR;
      pb += NR;
    }
  };
  constexpr int64_t kTail = 16;
  step(kc > kTail ? kc - kTail : 0);
  prefetch_tile<NR>(c, ldc, m, true);
  step(kc > kTail ? kTail : kc);
  store_tile<V, MR, NV>(acc, c, ldc, m, n, accumulate);
}

// The convolution micro-kernel (ConvUkernelFn) of the same tile: B's row k read in place,
// NR/2 elements at b + boff[k] and NR/2 at b + boff[k] + half, so no panel is packed.
template <class V, int MR, int NV>
AD_SIMD void conv_ukernel(int64_t kc, const typename V::T* pa, const typename V::T* b,
                          const int64_t* boff, int64_t half, typename V::T* c, int64_t ldc,
                          int m, bool accumulate) {
  static_assert(NV == 1 || NV == 2, "a row is two runs of NR/2");
  using R = typename V::R;
  constexpr int W = V::W, NR = NV * W;
  R acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const typename V::T* bk = b + boff[k];
    R bv[NV];
    if constexpr (NV == 2) {
      bv[0] = V::load(bk);
      bv[1] = V::load(bk + half);
    } else {
      bv[0] = V::load_halves(bk, bk + half);
    }
    fma_step<V, MR, NV>(acc, pa, bv);
    pa += MR;
  }
  store_tile<V, MR, NV>(acc, c, ldc, m, NR, accumulate);  // rows m.. are A's zero padding
}

// The packed and convolution kernels' table entries for an MR x NV-vector tile.
template <class V, int MR, int NV>
void fill_gemm_vec(KernelTable<typename V::T>& t) {
  t.gemm_ukernel = packed_ukernel<V, MR, NV>;
  t.gemm_mr = MR;
  t.gemm_nr = NV * V::W;
  t.conv_ukernel = conv_ukernel<V, MR, NV>;
  t.conv_mr = MR;
  t.conv_nr = NV * V::W;
}

}  // namespace autodiff::kernels::vec_kernels
