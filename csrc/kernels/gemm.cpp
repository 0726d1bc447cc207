// GEMM driver: five loops around the micro-kernel (jc over NC, pc over KC, ic over MC,
// jr over NR, ir over MR).  Threads pack each KC x NC panel of B together, then split the
// macro-kernel over M (each thread packs its own A block) or, when M is too short to split,
// over the NR panels of B (each thread packs the same small A).
#include "kernels/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/buffers.h"
#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Blocking in use: the named constants, overridable for tuning (benchmarks/gemm_blocking.py;
// 0: the constants).
template <typename T>
struct Blocking {
  static inline int64_t mc = 0, kc = 0, nc = 0;
};

// Below this many flops a single thread is faster than waking the team (measured).
constexpr double kParallelFlops = 2.0 * 96 * 96 * 96;
// The threads split K (gemm_split_k) for a C of at most kSplitKMaxC elements, K at least
// kSplitKMinDepth deep and 8x its longer side (measured, 2 threads, against the M/N split:
// 16x16x65536 915 -> 185-208 us, 64x10x16384 483 -> 247, 32x32x8192 170 -> 104, 64x64x8192
// 535 -> 421-559; 128x128 outputs about even, so the cut is there).
constexpr int64_t kSplitKMinDepth = 4096, kSplitKMaxC = 128 * 128;

// C = A @ B with K cut into nt runs: thread 0 computes its run into C, the others into
// their own m x n buffers, which are then added to C.  One thread per run, each through the
// single-threaded path; for C too small to split over M or N panels.
template <typename T>
void gemm_split_k(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa,
                  const T* b, int64_t rsb, int64_t csb, T* c, int64_t ldc, int nt) {
  const int64_t per = (k + nt - 1) / nt, mn = m * n;
  AlignedBuffer<T> parts(size_t((nt - 1) * mn));
#pragma omp parallel num_threads(nt)
  {
    const int tid = thread_id();
    const int64_t k0 = std::min<int64_t>(k, tid * per), kt = std::min(k, k0 + per) - k0;
    T* out = tid == 0 ? c : parts.get() + (tid - 1) * mn;
    const int64_t ldo = tid == 0 ? ldc : n;
    if (kt > 0)
      gemm(m, n, kt, a + k0 * csa, rsa, csa, b + k0 * rsb, rsb, csb, out, ldo, 1);
    else
      for (int64_t i = 0; i < m; ++i) std::fill(out + i * ldo, out + i * ldo + n, T(0));
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m; ++i)
      for (int p = 0; p + 1 < team_size(); ++p) {
        const T* src = parts.get() + p * mn + i * n;
        for (int64_t j = 0; j < n; ++j) c[i * ldc + j] += src[j];
      }
  }
}

}  // namespace

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b,
          int64_t rsb, int64_t csb, T* c, int64_t ldc, int nthreads) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return;
  }
  const auto& t = table<T>();
  const GemmTile<T> tile = gemm_tile(t, m);
  const GemmUkernelFn<T> uk = tile.ukernel;
  const int mr = tile.mr, nr = tile.nr;
  using G = GemmBlocking<T>;
  const int64_t NC = std::max<int64_t>(nr, (Blocking<T>::nc ? Blocking<T>::nc : G::kNC) / nr * nr);
  int nt = nthreads > 0 ? nthreads : get_num_threads();
  if (nthreads <= 0 && 2.0 * double(m) * double(n) * double(k) < kParallelFlops) nt = 1;
  // A vector on either side: read the matrix in place (gemm_small.cpp).  N = 1 is the
  // transposed product c^T = b^T A^T, whose "B" is A with its strides swapped.
  if (m == 1 && gemm_vector(n, k, a, csa, b, rsb, csb, c, nt)) return;
  if (n == 1 && ldc == 1 && gemm_vector(m, k, b, rsb, a, csa, rsa, c, nt)) return;
  if (gemm_narrow_split(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, nt)) return;
  // A small C over a long K (the weight gradient of a small layer over a large batch) has
  // too few M or N panels to share: the threads split K instead, each into its own C.
  if (nt > 1 && k >= kSplitKMinDepth && k >= 8 * std::max(m, n) && m * n <= kSplitKMaxC) {
    gemm_split_k(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, nt);
    return;
  }
  // One thread on a small or skinny product: skip packing A (gemm_small.cpp).
  if (nt == 1 && gemm_small(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc)) return;
  const int64_t nc_max = std::min(NC, round_up(n, nr));
  const int64_t m_panels = (m + mr - 1) / mr;
  // Split M (threads share each packed B panel: two barriers per KC step) unless B has
  // panels enough for every thread and A is one kMCShortA block or C is twice as wide as
  // tall (within one NC block), or M is too short to split: then each thread packs and
  // multiplies its own B panels against all of A, barrier-free.  Packing A nt times costs
  // less than the shared B panels do: a thread writing a panel must first take its lines
  // from the other core's cache, where the previous step's reads left them (at 512^3 a
  // thread's half of B took 0.08 ms, all of B on one thread 0.054).  Measured at 2 threads:
  // 64x1024x256 and 128x512x512 0.90-0.97x the time; 256x3072x768, 512x2048x512 and
  // 300x3000x1000 +3-4% GFLOP/s, 1024x2048x1024 +1%; taller shapes lose 1-4%.
  const bool split_n_ok = (nc_max + nr - 1) / nr >= 4 * nt;
  const bool wide = n <= NC && n >= 2 * m;
  const bool split_m =
      nt == 1 || (m_panels >= 4 * nt && !(split_n_ok && (m <= G::kMCShortA || wide)));
  // The blocking (gemm.h): deep for A taller than one short-A block and C not wide, also on
  // one thread (there 300x3000x1000 took 1.04x the time with the deep one).
  const bool tall = split_m && m > G::kMCShortA && !wide;
  const int64_t mc_set = Blocking<T>::mc ? Blocking<T>::mc : tall ? G::kMC : G::kMCShortA;
  const int64_t KC =
      std::max<int64_t>(1, Blocking<T>::kc ? Blocking<T>::kc : tall ? G::kKC : G::kKCShortA);
  const int64_t MC = std::max<int64_t>(mr, mc_set / mr * mr);
  const int64_t kc_max = std::min(KC, k);
  T* pb = thread_buffer<T, kGemmPackB>(size_t(kc_max * nc_max));
  // Panel p of B lives at pb + p * panel_stride whatever the KC step's depth, so a thread's
  // panels stay in the same place when the last step is shallower.
  const int64_t panel_stride = nr * kc_max;
  // M is cut into a multiple of nt blocks of at most MC rows, whose micro-panel counts
  // differ by one at most; threads take blocks dynamically, so a thread slowed by another
  // process on a shared core does not hold the other back at the next barrier.  (Blocks of
  // one rounded-up size left a short last block: at 1024^3 one thread did 528 rows of 1024,
  // and 2 threads ran 1.94x one thread's speed instead of 1.98x.)
  const int64_t per_block = MC / mr;
  const int64_t n_ic = std::min(m_panels, round_up((m_panels + per_block - 1) / per_block, nt));
  auto block_row = [&](int64_t blk) { return std::min(m, blk * m_panels / n_ic * mr); };

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_id(), nth = team_size();
    T* pa = thread_buffer<T, kGemmPackA>(size_t(MC * kc_max));
    for (int64_t jc = 0; jc < n; jc += NC) {
      const int64_t nc = std::min(NC, n - jc);
      const int64_t n_panels = (nc + nr - 1) / nr;
      for (int64_t pc = 0; pc < k; pc += KC) {
        const int64_t kc = std::min(KC, k - pc);
        auto pack_panels = [&](int64_t p0, int64_t p1) {
          for (int64_t p = p0; p < p1; ++p)
            pack_b_panel(kc, std::min<int64_t>(nr, nc - p * nr),
                         b + pc * rsb + (jc + p * nr) * csb, rsb, csb, nr, pb + p * panel_stride);
        };
        // C[ic:ic+mc, jc + panels p0..p1) += A[ic:ic+mc, pc:pc+kc] @ packed B
        auto macro = [&](int64_t ic, int64_t mc, int64_t p0, int64_t p1) {
          pack_a(mc, kc, a + ic * rsa + pc * csa, rsa, csa, mr, pa);
          for (int64_t p = p0; p < p1; ++p) {
            const int nv = int(std::min<int64_t>(nr, nc - p * nr));
            T* cp = c + ic * ldc + jc + p * nr;
            for (int64_t ir = 0; ir < mc; ir += mr)
              uk(kc, pa + ir * kc, pb + p * panel_stride, cp + ir * ldc, ldc,
                 int(std::min<int64_t>(mr, mc - ir)), nv, pc > 0);
          }
        };
        if (split_m) {
#pragma omp for schedule(static)
          for (int64_t p = 0; p < n_panels; ++p) pack_panels(p, p + 1);
#pragma omp for schedule(dynamic, 1)
          for (int64_t blk = 0; blk < n_ic; ++blk) {
            const int64_t ic = block_row(blk);
            macro(ic, block_row(blk + 1) - ic, 0, n_panels);
          }
        } else {  // split the B panels: each thread packs its own (disjoint parts of pb)
          const int64_t per_n = (n_panels + nth - 1) / nth;
          const int64_t p0 = std::min(n_panels, tid * per_n);
          const int64_t p1 = std::min(n_panels, (tid + 1) * per_n);
          pack_panels(p0, p1);
          for (int64_t ic = 0; ic < m && p0 < p1; ic += MC) macro(ic, std::min(MC, m - ic), p0, p1);
        }
      }
      // The next NC block splits its panels differently: a thread may start packing
      // into a part of pb that another still reads.
      if (!split_m && jc + NC < n) {
#pragma omp barrier
      }
    }
  }
}

template <typename T>
void set_gemm_blocking(int64_t mc, int64_t kc, int64_t nc) {
  Blocking<T>::mc = std::max<int64_t>(mc, 0);
  Blocking<T>::kc = std::max<int64_t>(kc, 0);
  Blocking<T>::nc = std::max<int64_t>(nc, 0);
}
template void set_gemm_blocking<float>(int64_t, int64_t, int64_t);
template void set_gemm_blocking<double>(int64_t, int64_t, int64_t);

template void gemm<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*,
                          int64_t, int64_t, float*, int64_t, int);
template void gemm<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t,
                           const double*, int64_t, int64_t, double*, int64_t, int);

}  // namespace autodiff::kernels
