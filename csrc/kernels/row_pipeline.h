// Software pipelining of two-pass row kernels over consecutive rows, written once over an
// ISA's vocabulary.  Include after the ISA's header, which defines the AD_SIMD* attributes.
//
// A row kernel's first pass reads memory (and reduces); its second pass reads the row back
// from L1 or L2 and writes the output.  Done row by row, each second pass issues its stores in one
// burst: with non-temporal stores the memory's write bandwidth (about one 32-byte store per 9
// cycles a core, both cores writing, on the Zen 3 we measure) turns it into a stall while
// nothing else runs, and with plain stores into L2/L3 a smaller one.  Pipelined, the second
// pass of row r - 1 runs inside the first pass of row r, so the stores drain while the next
// row is read and reduced.  4096 x 1024 float32 at 2 threads (streaming): softmax forward
// 0.89 -> 0.76 ms; 1024 x 1024 (cached): softmax forward 0.24 -> 0.20 ms, layer-norm backward
// 0.32 -> 0.24 ms.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/kernels.h"

namespace autodiff::kernels::vec_kernels {

// Which lanes of a vector at element p a row kernel's pass takes.  A row's body takes all of
// them (AllLanes).  A row whose length n is not a multiple of the step ends in one more step
// at n - step, over elements partly done already: only those from lo, the first not done,
// count (TailLanes).  Reductions and accumulators go through pick(lanes, old, new, p) (new in
// the lanes that count, old elsewhere); output passes write the whole step again, the same
// values (no output may alias an input).
struct AllLanes {};
struct TailLanes {
  int64_t lo;
};

template <typename V, typename R>
AD_SIMD_INLINE R pick(AllLanes, R, R neu, int64_t) {
  return neu;
}

// 128 bytes of zeros, then 128 of ones: read as T from the first one less k, lane j of a
// vector is set when j >= k.
alignas(64) inline constexpr uint64_t kTailMaskBits[32] = {
    0,     0,     0,     0,     0,     0,     0,     0,     0,     0,     0,
    0,     0,     0,     0,     0,     ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull,
    ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull};

template <typename V, typename R>
AD_SIMD_INLINE R pick(TailLanes lanes, R old, R neu, int64_t p) {
  using T = typename V::T;
  constexpr int64_t ones = 16 * int64_t(sizeof(uint64_t) / sizeof(T));  // the first set T
  const int64_t k = std::clamp<int64_t>(lanes.lo - p, 0, V::W);
  return V::blend(old, neu, V::load(reinterpret_cast<const T*>(kTailMaskBits) + ones - k));
}

// For rows r in [0, rows): first(r, i, lanes) at i = 0, step, ... < n, then finish(r);
// second(i, lanes) is the pending row's step, run inside row r + 1's loop (and alone after
// the last row).  finish makes row r the pending one; the caller's lambdas hold the per-row
// state.  n >= step; where step does not divide n the last step of each pass is at n - step,
// with TailLanes{n - n % step}; elsewhere lanes is AllLanes.
template <typename First, typename Finish, typename Second>
AD_SIMD_INLINE void pipeline_rows(int64_t rows, int64_t n, int64_t step, First first,
                                  Finish finish, Second second) {
  const int64_t body = n - n % step;
  const TailLanes tail{body};
  for (int64_t r = 0; r < rows; ++r) {
    if (r == 0) {
      for (int64_t i = 0; i < body; i += step) first(r, i, AllLanes{});
      if (body < n) first(r, n - step, tail);
    } else {
      for (int64_t i = 0; i < body; i += step) {
        first(r, i, AllLanes{});
        second(i, AllLanes{});
      }
      if (body < n) {
        first(r, n - step, tail);
        second(n - step, tail);
      }
    }
    finish(r);
  }
  if (rows > 0) {
    for (int64_t i = 0; i < body; i += step) second(i, AllLanes{});
    if (body < n) second(n - step, tail);
  }
}

// An output vector: a non-temporal store when the output streams (kStreamBytes), else a
// plain one (the output stays in cache for the next op).
template <typename V, bool Stream, typename T, typename R>
AD_SIMD_INLINE void put_vec(T* p, R v) {
  if constexpr (Stream)
    V::stream(p, v);
  else
    V::store(p, v);
}

// The pipelined kernels' step is two vectors; rows shorter than that, and than the drivers'
// kPipelineMinRow, go a row at a time in registers: kSmallRow<V> elements, kSmallRow<V> / W
// vectors (16 elements at every level but AVX-512 float32, whose step is 32).
template <typename V>
constexpr int64_t kSmallRow = std::max<int64_t>(kPipelineMinRow, 2 * V::W);

// Rows shorter than kSmallRow<V> are held in registers as kSmallRow<V> / W
// vectors (softmax_simd.h, norm_simd.h), loaded straight from the row and past it, the lanes
// past n replaced; only the last rows of a block, where that would read past the block, go
// through a padded copy (scalar stores read back as a vector stall on store forwarding:
// 65536 x 10 softmax backward 0.45 -> 1.17 ms when every row did).
// v[j] = the row's elements j W .. j W + W - 1, pad in the lanes past n.
template <typename V, typename T>
AD_SIMD_INLINE void small_row(const T* row, int64_t n, const T* block_end, T pad,
                              typename V::R* v) {
  constexpr int64_t L = kSmallRow<V>;
  constexpr int NV = int(L) / V::W;
  const TailLanes past{n};
  const typename V::R pv = V::set1(pad);
  if (row + L <= block_end) {
    for (int j = 0; j < NV; ++j) v[j] = pick<V>(past, V::load(row + j * V::W), pv, j * V::W);
  } else {
    alignas(64) T buf[L];
    for (int64_t k = 0; k < L; ++k) buf[k] = k < n ? row[k] : pad;
    for (int j = 0; j < NV; ++j) v[j] = V::load(buf + j * V::W);
  }
}

// A row's outputs from its kSmallRow<V> / W vectors o: stored whole where that many
// elements from out stay inside the block (the lanes past n land on the next rows, which
// are written after), else through buf, n elements copied out.  Rows must be written in
// order.
template <typename V, typename T>
AD_SIMD_INLINE void put_small_row(T* out, int64_t n, const T* block_end,
                                  const typename V::R* o, T* buf) {
  constexpr int NV = int(kSmallRow<V>) / V::W;
  T* dst = out + kSmallRow<V> <= block_end ? out : buf;
  for (int j = 0; j < NV; ++j) V::store(dst + j * V::W, o[j]);
  if (dst == buf)
    for (int64_t k = 0; k < n; ++k) out[k] = buf[k];
}

}  // namespace autodiff::kernels::vec_kernels
