// LSTM drivers: the time loop around the table's GEMM micro-kernel and cell kernels.
//
// Work in a step is split over blocks of NR hidden units (NR = the micro-kernel's width).
// Forward: W_hh^T is packed once per call with its columns permuted so that the four gate
// panels of one unit block lie together; a thread takes a block, multiplies h_prev by those
// four panels and runs the cell on them straight away.  Backward: W_hh is packed once as
// the B of dh = d_gates @ W_hh; a thread takes a block of dh's columns, finishes dh for it,
// and runs the cell backward on the same units.  Either way each step needs only the whole
// previous h (or d_gates) and ends in one barrier; each thread packs that small A itself.
// dW_hh is one large GEMM over all steps after the loop.
#include "kernels/rnn.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

// Per-step GEMM flops below which a second thread costs more than it saves (the figure
// gemm.cpp measured for one GEMM).
constexpr double kParallelStepFlops = 2.0 * 96 * 96 * 96;

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

template <typename T>
class Scratch {  // 64-byte aligned, uninitialised
 public:
  explicit Scratch(int64_t n) {
    const size_t bytes = size_t(round_up(std::max<int64_t>(n, 1) * int64_t(sizeof(T)), 64));
    p_ = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (!p_) throw std::bad_alloc();
  }
  ~Scratch() { std::free(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Threads for a loop whose steps each do `flops` of GEMM over `blocks` unit blocks.
inline int step_threads(double flops, int64_t blocks) {
  if (flops < kParallelStepFlops) return 1;
  return int(std::min<int64_t>(get_num_threads(), blocks));
}

// A (m x k, row stride rsa, unit column stride) packed for the micro-kernel: the KC blocks
// one after another, each ceil(m / mr) panels of mr x kc.  Block pc starts at pc * round_up(m, mr).
template <typename T>
void pack_a_all(int64_t m, int64_t k, const T* a, int64_t rsa, int mr, int64_t kc_max, T* pa) {
  const int64_t mp = round_up(m, mr);
  for (int64_t pc = 0; pc < k; pc += kc_max)
    pack_a(m, std::min(kc_max, k - pc), a + pc, rsa, int64_t(1), mr, pa + pc * mp);
}

// C[mp x nr] tile column (ldc) = packed A @ one packed B panel (all KC blocks, columns
// `panel` of `n_panels`).  Rows beyond m are padding that C has room for.
template <typename T>
void panel_gemm(const KernelTable<T>& t, int64_t mp, int64_t k, int64_t kc_max, const T* pa,
                const T* pb, int64_t panel, int64_t n_panels, T* c, int64_t ldc) {
  const int mr = t.gemm_mr, nr = t.gemm_nr;
  for (int64_t pc = 0; pc < k; pc += kc_max) {
    const int64_t kc = std::min(kc_max, k - pc);
    const T* b = pb + pc * n_panels * nr + panel * nr * kc;
    for (int64_t ir = 0; ir < mp; ir += mr)
      t.gemm_ukernel(kc, pa + pc * mp + ir * kc, b, c + ir * ldc, ldc, mr, nr, pc > 0);
  }
}

// Fetch the cache lines of p[0, n) now.  The cell's rows are 4H apart, a page or more at
// the benchmark sizes, where hardware prefetchers stop; asked for before a block's GEMM,
// they arrive while it runs.
template <typename T>
inline void prefetch(const T* p, int64_t n, bool write) {
  const uintptr_t end = reinterpret_cast<uintptr_t>(p + n);
  for (uintptr_t a = reinterpret_cast<uintptr_t>(p) & ~uintptr_t(63); a < end; a += 64) {
    if (write)
      __builtin_prefetch(reinterpret_cast<const void*>(a), 1);
    else
      __builtin_prefetch(reinterpret_cast<const void*>(a), 0);
  }
}

}  // namespace

template <typename T>
void lstm_forward(int64_t L, int64_t N, int64_t H, const T* xs, const T* h0, const T* c0,
                  const T* w, const T* b, bool reverse, T* y, T* act, T* tc) {
  if (L == 0 || N == 0 || H == 0) return;
  const auto& t = table<T>();
  const int mr = t.gemm_mr, nr = t.gemm_nr;
  const int64_t kc_max = GemmBlocking<T>::kKC;
  const int64_t nb = (H + nr - 1) / nr, n_panels = 4 * nb, np = n_panels * nr;
  const int64_t mp = round_up(N, mr), g4 = 4 * H;
  const int nt = step_threads(2.0 * double(N) * double(g4) * double(H), nb);
  Scratch<T> wp(H * np), gates(mp * np), pa_all(int64_t(nt) * mp * H);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    T* pa = pa_all.get() + thread_id() * mp * H;
    // Panel 4u + g of B = W_hh^T holds gate g of units [u nr, u nr + nr): B[k][j] = W[g H + u nr +
    // j][k].
#pragma omp for schedule(static)
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t u = p / 4, g = p % 4;
      for (int64_t pc = 0; pc < H; pc += kc_max) {
        const int64_t kc = std::min(kc_max, H - pc);
        pack_b_panel(kc, std::min<int64_t>(nr, H - u * nr), w + (g * H + u * nr) * H + pc,
                     int64_t(1), H, nr, wp.get() + pc * np + p * nr * kc);
      }
    }
    for (int64_t s = 0; s < L; ++s) {
      const int64_t ti = reverse ? L - 1 - s : s, tp = reverse ? ti + 1 : ti - 1;
      const T* hp = s == 0 ? h0 : y + tp * N * 2 * H;  // h_prev, c_prev: rows hs apart
      const T* cp = s == 0 ? c0 : hp + H;
      const int64_t hs = s == 0 ? H : 2 * H;
      bool packed = false;
#pragma omp for schedule(dynamic, 1)
      for (int64_t u = 0; u < nb; ++u) {
        const int64_t j0 = u * nr, wv = std::min<int64_t>(nr, H - j0);
        for (int64_t r = 0; r < N; ++r) {
          const int64_t row = ti * N + r;
          for (int g = 0; g < 4; ++g) {
            prefetch(xs + row * g4 + g * H + j0, wv, false);
            prefetch(act + row * g4 + g * H + j0, wv, true);
          }
          prefetch(y + row * 2 * H + j0, wv, true);
          prefetch(y + row * 2 * H + H + j0, wv, true);
          prefetch(tc + row * H + j0, wv, true);
        }
        if (!packed) {
          pack_a_all(N, H, hp, hs, mr, kc_max, pa);
          packed = true;
        }
        for (int g = 0; g < 4; ++g)
          panel_gemm(t, mp, H, kc_max, pa, wp.get(), 4 * u + g, n_panels,
                     gates.get() + (4 * u + g) * nr, np);
        for (int64_t r = 0; r < N; ++r) {
          const int64_t row = ti * N + r;
          t.lstm_fwd_row(gates.get() + r * np + 4 * u * nr, nr, xs + row * g4 + j0,
                         b ? b + j0 : nullptr, H, cp + r * hs + j0, act + row * g4 + j0,
                         y + row * 2 * H + H + j0, y + row * 2 * H + j0, tc + row * H + j0, wv);
        }
      }  // the barrier: all of h_t is written before any thread packs it
    }
  }
}

template <typename T>
void lstm_backward(int64_t L, int64_t N, int64_t H, const T* gy, const T* y, const T* act,
                   const T* tc, const T* h0, const T* c0, const T* w, bool reverse, T* dx, T* dh0,
                   T* dc0, T* dw, T* db) {
  const int64_t g4 = 4 * H;
  std::fill(dh0, dh0 + N * H, T(0));
  std::fill(dc0, dc0 + N * H, T(0));  // the running dc
  std::fill(db, db + g4, T(0));
  if (L == 0 || N == 0 || H == 0) {
    std::fill(dw, dw + g4 * H, T(0));
    return;
  }
  const auto& t = table<T>();
  const int mr = t.gemm_mr, nr = t.gemm_nr;
  const int64_t kc_max = GemmBlocking<T>::kKC;
  const int64_t nb = (H + nr - 1) / nr, hp_cols = nb * nr, mp = round_up(N, mr);
  const int nt = step_threads(2.0 * double(N) * double(g4) * double(H), nb);
  Scratch<T> wb(g4 * hp_cols), dh(mp * hp_cols), pa_all(int64_t(nt) * mp * g4);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    T* pa = pa_all.get() + thread_id() * mp * g4;
#pragma omp for schedule(static)
    for (int64_t u = 0; u < nb; ++u)
      for (int64_t pc = 0; pc < g4; pc += kc_max) {
        const int64_t kc = std::min(kc_max, g4 - pc);
        pack_b_panel(kc, std::min<int64_t>(nr, H - u * nr), w + pc * H + u * nr, H, int64_t(1), nr,
                     wb.get() + pc * hp_cols + u * nr * kc);
      }
    for (int64_t s = 0; s < L; ++s) {
      const int64_t ti = reverse ? s : L - 1 - s;    // forward steps, last first
      const int64_t tn = reverse ? ti - 1 : ti + 1;  // the step done before: its dx gives dh
      const int64_t tp = reverse ? ti + 1 : ti - 1;  // the forward's previous step
      const bool first = tp < 0 || tp >= L;
      const T* cp = first ? c0 : y + tp * N * 2 * H + H;
      const int64_t cs = first ? H : 2 * H;
      bool packed = false;
#pragma omp for schedule(dynamic, 1)
      for (int64_t u = 0; u < nb; ++u) {
        const int64_t j0 = u * nr, wv = std::min<int64_t>(nr, H - j0);
        for (int64_t r = 0; r < N; ++r) {
          const int64_t row = ti * N + r;
          for (int g = 0; g < 4; ++g) {
            prefetch(act + row * g4 + g * H + j0, wv, false);
            prefetch(dx + row * g4 + g * H + j0, wv, true);
          }
          prefetch(tc + row * H + j0, wv, false);
          prefetch(cp + r * cs + j0, wv, false);
          prefetch(gy + row * 2 * H + j0, wv, false);
          prefetch(gy + row * 2 * H + H + j0, wv, false);
        }
        if (s > 0) {
          if (!packed) {
            pack_a_all(N, g4, dx + tn * N * g4, g4, mr, kc_max, pa);
            packed = true;
          }
          panel_gemm(t, mp, g4, kc_max, pa, wb.get(), u, nb, dh.get() + j0, hp_cols);
        }
        for (int64_t r = 0; r < N; ++r) {
          const int64_t row = ti * N + r;
          t.lstm_bwd_row(act + row * g4 + j0, H, tc + row * H + j0, cp + r * cs + j0,
                         gy + row * 2 * H + j0, gy + row * 2 * H + H + j0,
                         s > 0 ? dh.get() + r * hp_cols + j0 : nullptr, dc0 + r * H + j0,
                         dx + row * g4 + j0, db + j0, wv);
        }
      }  // the barrier: all of dx_t is written before any thread packs it
    }
  }
  const int64_t t_first = reverse ? L - 1 : 0;  // the step that read h0, c0
  gemm<T>(N, H, g4, dx + t_first * N * g4, g4, 1, w, H, 1, dh0, H);
  // dW = sum_t dx_t^T h_prev(t): h_prev is y's h half one step back, h0 for t_first.
  if (L == 1) {
    gemm<T>(g4, H, N, dx, 1, g4, h0, H, 1, dw, H);
    return;
  }
  const T* dx_y = reverse ? dx : dx + N * g4;  // steps whose h_prev is in y
  const T* h_y = reverse ? y + N * 2 * H : y;
  gemm<T>(g4, H, (L - 1) * N, dx_y, 1, g4, h_y, 2 * H, 1, dw, H);
  Scratch<T> dw0(g4 * H);
  gemm<T>(g4, H, N, dx + t_first * N * g4, 1, g4, h0, H, 1, dw0.get(), H);
  for (int64_t i = 0; i < g4 * H; ++i) dw[i] += dw0.get()[i];
}

template void lstm_forward<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                  const float*, const float*, const float*, bool, float*, float*,
                                  float*);
template void lstm_forward<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                   const double*, const double*, const double*, bool, double*,
                                   double*, double*);
template void lstm_backward<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                   const float*, const float*, const float*, const float*,
                                   const float*, bool, float*, float*, float*, float*, float*);
template void lstm_backward<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                    const double*, const double*, const double*, const double*,
                                    const double*, bool, double*, double*, double*, double*,
                                    double*);

}  // namespace autodiff::kernels
