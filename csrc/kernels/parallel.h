// Small helpers shared by the OpenMP drivers.
#pragma once

#include <algorithm>
#include <cstdint>

#include "dispatch.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace autodiff::kernels {

// OpenMP chunk (in loop iterations of `per_iter` elements each) for dynamic schedules:
// about 8K elements per grab, so a thread slowed by another process on a shared core takes
// fewer chunks instead of holding the others back at the end of the loop.
inline int64_t dyn_chunk(int64_t per_iter) {
  return std::max<int64_t>(1, int64_t(8192) / std::max<int64_t>(1, per_iter));
}

// The smallest chunk that splits `items` into at most 16 grabs a thread: each grab of a
// dynamic schedule is an atomic on a line the threads share (~70 ns in this VM), and row
// sums of 4096 x 1024 at 8 rows a grab took 1.3x PyTorch's time at 2 threads (1.0x at one).
inline int64_t max_grabs_chunk(int64_t items, int nt) {
  return std::max<int64_t>(1, items / (16 * std::max(1, nt)));
}

// dyn_chunk of rows of `per_iter` elements, capped at 16 grabs a thread (max_grabs_chunk).
inline int64_t grab_chunk(int64_t rows, int nt, int64_t per_iter) {
  return std::max(dyn_chunk(per_iter), max_grabs_chunk(rows, nt));
}

// No more threads than work items: a parallel region whose extra threads find nothing to do
// still pays the fork/join (and a sleeping worker's wake-up: ~20-80 us in this VM).
inline int cap_threads(int nt, int64_t items) {
  return int(std::max<int64_t>(1, std::min<int64_t>(nt, items)));
}

// Threads to use for `work` elements of streaming work: 1 below the size where forking
// costs more than it saves (measured: ~32K floats on Zen 3).
inline int threads_for(int64_t work, int64_t min_per_thread = 16384) {
  int nt = get_num_threads();
  if (nt <= 1 || work < 2 * min_per_thread) return 1;
  return int(std::min<int64_t>(nt, work / min_per_thread));
}

// The calling thread's number in its OpenMP team, and the team's size (0 and 1 outside a
// parallel region or without OpenMP).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// Orders the calling thread's non-temporal stores before its later stores (x86 sfence; the
// other levels write no streaming stores).  Kernels that stream leave it to their driver,
// which fences once per thread after the thread's last item: an sfence waits for the
// write-combining buffers to drain, and one per row stalled every row (17-20% of the
// softmax and layer-norm time on rows of 1024).
inline void stream_fence() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_sfence();
#endif
}

// body(i) for i in [0, n) on nt threads, `chunk` iterations per grab (dynamic schedule);
// with `fence` (the body streams), each thread fences its stores before the closing barrier.
template <typename Body>
void parallel_rows(int nt, int64_t n, int64_t chunk, bool fence, Body body) {
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
#pragma omp for schedule(dynamic, std::max(chunk, max_grabs_chunk(n, nt))) nowait
    for (int64_t i = 0; i < n; ++i) body(i);
    if (fence) stream_fence();
  }
}

// Rows per block of parallel_row_blocks, in dyn_chunk units: a pipelined row kernel
// (row_pipeline.h) restarts its pipeline once per block.
constexpr int64_t kPipelineBlock = 4;

// body(r0, r1) over [0, n) in blocks of `per` rows handed out dynamically, for row kernels
// that stream (each thread fences its stores before the closing barrier, as parallel_rows).
template <typename Body>
void parallel_row_blocks(int nt, int64_t n, int64_t per, Body body) {
  const int64_t blocks = (n + per - 1) / per;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t b = 0; b < blocks; ++b) body(b * per, std::min(n, (b + 1) * per));
    stream_fence();
  }
}

}  // namespace autodiff::kernels
