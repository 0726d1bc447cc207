// LSTM and GRU drivers: the time loop around the table's GEMM micro-kernel and cell kernels.
//
// Work in a step is split over blocks of NR hidden units (NR = the micro-kernel's width),
// each thread owning a contiguous range of them.  Forward: W_hh^T is packed once per call
// with its columns permuted so that the four gate panels of one unit block lie together; a
// thread multiplies h_prev by the panels of its blocks and runs the cell on its units.
// Backward: W_hh is packed once as the B of dh = d_gates @ W_hh; a thread finishes dh for its
// columns and runs the cell backward on the same units.  Either way each step needs only the
// whole previous h (or d_gates) and ends in one barrier; each thread packs that small A
// itself.  dW_hh is one large GEMM over all steps after the loop.
#include "kernels/rnn.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "kernels/buffers.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kernels/reduce.h"

namespace autodiff::kernels {

namespace {

// Per-step GEMM flops below which a second thread costs more than it saves.  A step is more
// than its GEMM: the cell's transcendentals split too, and the threads wait at one barrier a
// step.  The GEMM's own figure (2 96^3, gemm.cpp) left LSTMs of 32-96 units on one thread;
// with two, 100 steps of batch 20 and 64 units take 0.65x the time forward and 0.75x
// backward, and of batch 1 and 32 units 0.72x and 0.85x (alternating processes, min of 5).
constexpr double kParallelStepFlops = 2.0 * 16 * 16 * 16;

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Elements added to the rows of a step's scratch tiles (gates, dh): rows a multiple of 4 KiB
// apart (H = 256: 4 H floats) fall in one L1 set, and a block's 32+ rows then evict each
// other between the GEMM that writes them and the cell that reads them.
constexpr int64_t kRowPad = 16;

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
void panel_gemm(const GemmTile<T>& t, int64_t mp, int64_t k, int64_t kc_max, const T* pa,
                const T* pb, int64_t panel, int64_t n_panels, T* c, int64_t ldc) {
  const int mr = t.mr, nr = t.nr;
  for (int64_t pc = 0; pc < k; pc += kc_max) {
    const int64_t kc = std::min(kc_max, k - pc);
    const T* b = pb + pc * n_panels * nr + panel * nr * kc;
    for (int64_t ir = 0; ir < mp; ir += mr)
      t.ukernel(kc, pa + pc * mp + ir * kc, b, c + ir * ldc, ldc, mr, nr, pc > 0);
  }
}

// The units [u0 nr, u1 nr) of blocks [u0, u1): thread `tid` of `nt`'s contiguous share.
inline void thread_blocks(int64_t nb, int tid, int nt, int64_t& u0, int64_t& u1) {
  u0 = nb * tid / nt;
  u1 = nb * (tid + 1) / nt;
}

// The forward time loop of a cell with G gates.  W (G H x H) is packed once as B = W^T with
// the G gate panels of each unit block side by side.  Each thread owns a contiguous range of
// unit blocks: a step packs h_prev (rows hs apart: h0, then y's rows of y_row elements), runs
// the GEMMs of all its blocks into its own gate tile, then the cell over its units row by row:
// cell(ti, s, j0, wv, gates, ghs, ldg, hs), gate g of unit j0 + k of row r at
// gates[r ldg + g ghs + k].  Row by row, each row's gates are long runs, which the hardware
// prefetches; cell calls per block of nr units walked 32+ rows 4H apart for every 64 bytes
// (a 64-step LSTM of 256 units spent 1.5x its GEMM time in the cell).
template <typename T, typename Cell>
void forward_loop(int64_t L, int64_t N, int64_t H, int G, const T* w, bool reverse, const T* h0,
                  const T* y, int64_t y_row, Cell cell) {
  const GemmTile<T> t = gemm_tile(table<T>(), N);
  const int mr = t.mr, nr = t.nr;
  const int64_t kc_max = GemmBlocking<T>::kKCPass;
  const int64_t nb = (H + nr - 1) / nr, n_panels = G * nb, np = n_panels * nr;
  const int64_t mp = round_up(N, mr);
  const int nt = step_threads(2.0 * double(N) * double(G * H) * double(H), nb);
  const int64_t ghs = (nb + nt - 1) / nt * nr, ldg = G * ghs + kRowPad;  // the widest share
  AlignedBuffer<T> wp(H * np), gates_all(int64_t(nt) * mp * ldg), pa_all(int64_t(nt) * mp * H);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_id();
    T* pa = pa_all.get() + tid * mp * H;
    T* gates = gates_all.get() + tid * mp * ldg;
    int64_t u0, u1;
    thread_blocks(nb, tid, nt, u0, u1);
    // Panel G u + g holds gate g of units [u nr, u nr + nr): B[k][j] = W[g H + u nr + j][k].
#pragma omp for schedule(static)
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t u = p / G, g = p % G;
      for (int64_t pc = 0; pc < H; pc += kc_max) {
        const int64_t kc = std::min(kc_max, H - pc);
        pack_b_panel(kc, std::min<int64_t>(nr, H - u * nr), w + (g * H + u * nr) * H + pc,
                     int64_t(1), H, nr, wp.get() + pc * np + p * nr * kc);
      }
    }
    for (int64_t s = 0; s < L; ++s) {
      const int64_t ti = reverse ? L - 1 - s : s, tp = reverse ? ti + 1 : ti - 1;
      const T* hp = s == 0 ? h0 : y + tp * N * y_row;
      const int64_t hs = s == 0 ? H : y_row;
      if (u0 < u1) {
        pack_a_all(N, H, hp, hs, mr, kc_max, pa);
        for (int64_t u = u0; u < u1; ++u)
          for (int g = 0; g < G; ++g)
            panel_gemm(t, mp, H, kc_max, pa, wp.get(), G * u + g, n_panels,
                       gates + g * ghs + (u - u0) * nr, ldg);
        const int64_t j0 = u0 * nr;
        cell(ti, s, j0, std::min(u1 * nr, H) - j0, gates, ghs, ldg, hs);
      }
#pragma omp barrier  // all of h_t is written before any thread packs it
    }
  }
}

// The backward time loop: W (G H x H) packed once as the B of dh = dg @ W.  Each thread owns
// a contiguous range of unit blocks: a step packs the previous step's dg (L, N, G H), finishes
// dh for its blocks (rows ldh apart; null on the first step) and calls cell(ti, s, j0, wv,
// dh_u, ldh) once for its units, which writes dg[ti] there (row by row, as forward_loop).
template <typename T, typename Cell>
void backward_loop(int64_t L, int64_t N, int64_t H, int G, const T* w, bool reverse, const T* dg,
                   Cell cell) {
  const GemmTile<T> t = gemm_tile(table<T>(), N);
  const int mr = t.mr, nr = t.nr;
  const int64_t kc_max = GemmBlocking<T>::kKCPass, gh = G * H;
  const int64_t nb = (H + nr - 1) / nr, hp_cols = nb * nr, mp = round_up(N, mr);
  const int64_t ldh = hp_cols + kRowPad;
  const int nt = step_threads(2.0 * double(N) * double(gh) * double(H), nb);
  AlignedBuffer<T> wb(gh * hp_cols), dh(mp * ldh), pa_all(int64_t(nt) * mp * gh);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_id();
    T* pa = pa_all.get() + tid * mp * gh;
    int64_t u0, u1;
    thread_blocks(nb, tid, nt, u0, u1);
#pragma omp for schedule(static)
    for (int64_t u = 0; u < nb; ++u)
      for (int64_t pc = 0; pc < gh; pc += kc_max) {
        const int64_t kc = std::min(kc_max, gh - pc);
        pack_b_panel(kc, std::min<int64_t>(nr, H - u * nr), w + pc * H + u * nr, H, int64_t(1), nr,
                     wb.get() + pc * hp_cols + u * nr * kc);
      }
    for (int64_t s = 0; s < L; ++s) {
      const int64_t ti = reverse ? s : L - 1 - s;    // forward steps, last first
      const int64_t tn = reverse ? ti - 1 : ti + 1;  // the step done before: its dg gives dh
      if (u0 < u1) {
        const int64_t j0 = u0 * nr;
        if (s > 0) {
          pack_a_all(N, gh, dg + tn * N * gh, gh, mr, kc_max, pa);
          for (int64_t u = u0; u < u1; ++u)
            panel_gemm(t, mp, gh, kc_max, pa, wb.get(), u, nb, dh.get() + u * nr, ldh);
        }
        cell(ti, s, j0, std::min(u1 * nr, H) - j0, s > 0 ? dh.get() + j0 : nullptr, ldh);
      }
#pragma omp barrier  // all of dg_t is written before any thread packs it
    }
  }
}

// dW = sum_t dg_t^T h_prev(t) (G H x H): h_prev is the h part of y's rows (y_row elements)
// one step back, h0 for the step that read it.  dh0 = dg_first @ W.  db = dg's column sums,
// one reduction after the loop: accumulated in the cell, row by row, it was a read-modify-
// write in the serial loop, on lines that the threads' unit ranges share.
template <typename T>
void weight_and_h0_grads(int64_t L, int64_t N, int64_t H, int G, const T* dg, const T* y,
                         int64_t y_row, const T* h0, const T* w, bool reverse, T* dw, T* dh0,
                         T* db) {
  const int64_t gh = G * H;
  reduce_axis<T>(ReduceOp::kSum, dg, 1, L * N, gh, db, 0.0);
  const int64_t t_first = reverse ? L - 1 : 0;  // the step that read h0
  gemm<T>(N, H, gh, dg + t_first * N * gh, gh, 1, w, H, 1, dh0, H);
  if (L == 1) {
    gemm<T>(gh, H, N, dg, 1, gh, h0, H, 1, dw, H);
    return;
  }
  const T* dg_y = reverse ? dg : dg + N * gh;  // steps whose h_prev is in y
  const T* h_y = reverse ? y + N * y_row : y;
  gemm<T>(gh, H, (L - 1) * N, dg_y, 1, gh, h_y, y_row, 1, dw, H);
  AlignedBuffer<T> dw0(gh * H);
  gemm<T>(gh, H, N, dg + t_first * N * gh, 1, gh, h0, H, 1, dw0.get(), H);
  for (int64_t i = 0; i < gh * H; ++i) dw[i] += dw0.get()[i];
}

}  // namespace

template <typename T>
void lstm_forward(int64_t L, int64_t N, int64_t H, const T* xs, const T* h0, const T* c0,
                  const T* w, const T* b, bool reverse, T* y, T* act, T* tc) {
  if (L == 0 || N == 0 || H == 0) return;
  const auto& t = table<T>();
  const int64_t g4 = 4 * H;
  auto cell = [&](int64_t ti, int64_t s, int64_t j0, int64_t wv, const T* gates, int64_t ghs,
                  int64_t ldg, int64_t hs) {
    const T* cp = s == 0 ? c0 : y + (reverse ? ti + 1 : ti - 1) * N * 2 * H + H;
    for (int64_t r = 0; r < N; ++r) {
      const int64_t row = ti * N + r;
      t.lstm_fwd_row(gates + r * ldg, ghs, xs + row * g4 + j0, b ? b + j0 : nullptr, H,
                     cp + r * hs + j0, act + row * g4 + j0, y + row * 2 * H + H + j0,
                     y + row * 2 * H + j0, tc + row * H + j0, wv);
    }
  };
  forward_loop<T>(L, N, H, 4, w, reverse, h0, y, 2 * H, cell);
}

template <typename T>
void lstm_backward(int64_t L, int64_t N, int64_t H, const T* gy, const T* y, const T* act,
                   const T* tc, const T* h0, const T* c0, const T* w, bool reverse, T* dx, T* dh0,
                   T* dc0, T* dw, T* db) {
  const int64_t g4 = 4 * H;
  std::fill(dh0, dh0 + N * H, T(0));
  std::fill(dc0, dc0 + N * H, T(0));  // the running dc
  if (L == 0 || N == 0 || H == 0) {
    std::fill(db, db + g4, T(0));
    std::fill(dw, dw + g4 * H, T(0));
    return;
  }
  const auto& t = table<T>();
  auto c_prev = [&](int64_t ti, int64_t& cs) {
    const int64_t tp = reverse ? ti + 1 : ti - 1;  // the forward's previous step
    const bool first = tp < 0 || tp >= L;
    cs = first ? H : 2 * H;
    return first ? c0 : y + tp * N * 2 * H + H;
  };
  auto cell = [&](int64_t ti, int64_t, int64_t j0, int64_t wv, const T* dh, int64_t ldh) {
    int64_t cs;
    const T* cp = c_prev(ti, cs);
    for (int64_t r = 0; r < N; ++r) {
      const int64_t row = ti * N + r;
      t.lstm_bwd_row(act + row * g4 + j0, H, tc + row * H + j0, cp + r * cs + j0,
                     gy + row * 2 * H + j0, gy + row * 2 * H + H + j0, dh ? dh + r * ldh : nullptr,
                     dc0 + r * H + j0, dx + row * g4 + j0, wv);
    }
  };
  backward_loop<T>(L, N, H, 4, w, reverse, dx, cell);
  weight_and_h0_grads<T>(L, N, H, 4, dx, y, 2 * H, h0, w, reverse, dw, dh0, db);
}

template <typename T>
void gru_forward(int64_t L, int64_t N, int64_t H, const T* xs, const T* h0, const T* w, const T* b,
                 bool reverse, T* y, T* act, T* hn) {
  if (L == 0 || N == 0 || H == 0) return;
  const auto& t = table<T>();
  const int64_t g3 = 3 * H;
  auto cell = [&](int64_t ti, int64_t s, int64_t j0, int64_t wv, const T* gates, int64_t ghs,
                  int64_t ldg, int64_t hs) {
    const T* hp = s == 0 ? h0 : y + (reverse ? ti + 1 : ti - 1) * N * H;
    for (int64_t r = 0; r < N; ++r) {
      const int64_t row = ti * N + r;
      t.gru_fwd_row(gates + r * ldg, ghs, xs + row * g3 + j0, b ? b + j0 : nullptr, H,
                    hp + r * hs + j0, act + row * g3 + j0, hn + row * H + j0, y + row * H + j0, wv);
    }
  };
  forward_loop<T>(L, N, H, 3, w, reverse, h0, y, H, cell);
}

template <typename T>
void gru_backward(int64_t L, int64_t N, int64_t H, const T* gy, const T* y, const T* act,
                  const T* hn, const T* h0, const T* w, bool reverse, T* dx, T* dh0, T* dw, T* db) {
  const int64_t g3 = 3 * H;
  std::fill(dh0, dh0 + N * H, T(0));
  if (L == 0 || N == 0 || H == 0) {
    std::fill(db, db + g3, T(0));
    std::fill(dw, dw + g3 * H, T(0));
    return;
  }
  const auto& t = table<T>();
  AlignedBuffer<T> dgh(L * N * g3), carry(N * H);  // d(h W_hh^T + b_hh); dh z carried to h_prev
  std::fill(carry.get(), carry.get() + N * H, T(0));
  auto h_prev = [&](int64_t ti) {
    const int64_t tp = reverse ? ti + 1 : ti - 1;
    return tp < 0 || tp >= L ? h0 : y + tp * N * H;
  };
  auto cell = [&](int64_t ti, int64_t, int64_t j0, int64_t wv, const T* dh, int64_t ldh) {
    const T* hp = h_prev(ti);
    for (int64_t r = 0; r < N; ++r) {
      const int64_t row = ti * N + r;
      t.gru_bwd_row(act + row * g3 + j0, H, hn + row * H + j0, hp + r * H + j0, gy + row * H + j0,
                    dh ? dh + r * ldh : nullptr, carry.get() + r * H + j0, dx + row * g3 + j0,
                    dgh.get() + row * g3 + j0, wv);
    }
  };
  backward_loop<T>(L, N, H, 3, w, reverse, dgh.get(), cell);
  weight_and_h0_grads<T>(L, N, H, 3, dgh.get(), y, H, h0, w, reverse, dw, dh0, db);
  for (int64_t i = 0; i < N * H; ++i) dh0[i] += carry.get()[i];
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

template void gru_forward<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                 const float*, const float*, bool, float*, float*, float*);
template void gru_forward<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                  const double*, const double*, bool, double*, double*, double*);
template void gru_backward<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                  const float*, const float*, const float*, const float*, bool,
                                  float*, float*, float*, float*);
template void gru_backward<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                   const double*, const double*, const double*, const double*, bool,
                                   double*, double*, double*, double*);

}  // namespace autodiff::kernels
