// Small-GEMM path: the single-threaded loops of gemm() without packing A.  In a small or
// skinny product (attention heads, a linear layer with few outputs) each A block meets only
// a few B panels, so packing it costs about as much as the product itself; the micro-kernel
// broadcasts A from its rows in place instead.  B is packed one NR panel at a time (a
// transposed B must be packed anyway), or read in place when it is row-major and small.
// Also here, at any thread count: products with a vector on either side (gemm_vector) and
// with a narrow B (gemm_narrow_split), both bound by reading the big operand once.
#include <algorithm>
#include <cstdlib>

#include "kernels/buffers.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

// A's m x KC block is re-read once per B panel from wherever it sits; the budget keeps it in
// L2 (512 KiB per core) next to B's panels (measured: 128 x 256 x 784 float, a 128 KiB block,
// is still a few percent faster than packing it).
constexpr int64_t kSmallABlockBytes = 128 * 1024;
// A row-major B panel is read in place while all its kc rows fit in half of L1d (32 KiB);
// wider rows would alias in L1 sets (4 KiB apart) as the A row panels sweep down.
constexpr int64_t kInPlaceBBytes = 16 * 1024;
// Row-major A times a B narrower than one NR panel goes to the dot-product kernel (B's
// columns copied contiguous first when they are not) when deep enough that its horizontal sums amortise: N <= 4 from K = 64, any
// N < NR from K = 192 (measured, 128 rows float, against the 6x16 kernel: N=1 K=256 3.7x
// faster, N=4 K=64 1.3x, N=10 K=256 1.2x, N=15 K=512 1.1x; N=8 K=64 and N=10 K=128 slower).
constexpr int64_t kNarrowMaxN = 4, kNarrowMinK = 64, kNarrowDeepK = 192;

// Narrow product of row-major A and column-major B by dot-product tiles; A's rows stay in
// L1 while the tiles sweep the few columns of B, so A is read once whatever m is.
template <typename T>
void gemm_narrow(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, const T* b, int64_t csb,
                 T* c, int64_t ldc, GemmDotFn<T> dot) {
  for (int64_t i = 0; i < m; i += kGemmDotMR)
    for (int64_t j = 0; j < n; j += kGemmDotNR)
      dot(k, a + i * rsa, rsa, b + j * csb, csb, c + i * ldc + j, ldc,
          int(std::min<int64_t>(kGemmDotMR, m - i)), int(std::min<int64_t>(kGemmDotNR, n - j)),
          false);
}

}  // namespace

template <typename T>
bool gemm_vector(int64_t n, int64_t k, const T* a, int64_t csa, const T* b, int64_t rsb,
                 int64_t csb, T* c, int nt) {
  const auto& t = table<T>();
  const bool rows = csb == 1, cols = !rows && rsb == 1 && csa == 1;
  if (!rows && !cols) return false;
  // Each thread takes a run of whole cache lines of C (and of B's rows when row-major).
  constexpr int64_t kLine = 64 / int64_t(sizeof(T));
  const int64_t per = ((n + nt - 1) / nt + kLine - 1) / kLine * kLine;
  nt = int(std::min<int64_t>(nt, (n + per - 1) / per));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int64_t j0 = std::min<int64_t>(n, thread_id() * per), j1 = std::min(n, j0 + per);
    if (j0 < j1) {
      if (rows)
        t.gemv_row_kernel(k, j1 - j0, a, csa, b + j0, rsb, c + j0, false);
      else
        t.gemv_col_kernel(k, j1 - j0, a, b + j0 * csb, csb, c + j0);
    }
  }
  return true;
}

template <typename T>
bool gemm_narrow_split(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa,
                       const T* b, int64_t rsb, int64_t csb, T* c, int64_t ldc, int nt) {
  const auto& t = table<T>();
  const bool narrow =
      (n <= kNarrowMaxN && k >= kNarrowMinK) || (n < t.gemm_nr && k >= kNarrowDeepK);
  if (!(narrow && csa == 1)) return false;
  if (rsb != 1) {  // B's few columns copied contiguous: n * k elements against A's m * k
    T* bt = thread_buffer<T, kGemmPackB>(size_t(n * k));
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j) bt[j * k + kk] = b[kk * rsb + j * csb];
    b = bt;
    csb = k;
  }
  // threads take runs of whole dot tiles of rows
  const int64_t per = ((m + nt - 1) / nt + kGemmDotMR - 1) / kGemmDotMR * kGemmDotMR;
  nt = int(std::min<int64_t>(nt, (m + per - 1) / per));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int64_t i0 = std::min<int64_t>(m, thread_id() * per), i1 = std::min(m, i0 + per);
    if (i0 < i1)
      gemm_narrow(i1 - i0, n, k, a + i0 * rsa, rsa, b, csb, c + i0 * ldc, ldc, t.gemm_dot_kernel);
  }
  return true;
}

template <typename T>
bool gemm_small(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b,
                int64_t rsb, int64_t csb, T* c, int64_t ldc) {
  const auto& t = table<T>();
  const int mr = t.gemm_small_mr, nr = t.gemm_nr;
  const int64_t KC = GemmBlocking<T>::kKCPass;
  const int64_t kc_max = std::min(KC, k);
  if (m * kc_max * int64_t(sizeof(T)) > kSmallABlockBytes) return false;
  const GemmSmallUkernelFn<T> uk = t.gemm_small_ukernel;
  // B's panels are read in place when row-major and either small or read once (one row panel)
  const bool b_in_place =
      csb == 1 && (m <= mr || kc_max * std::abs(rsb) * int64_t(sizeof(T)) <= kInPlaceBBytes);
  T* pb = thread_buffer<T, kGemmPackB>(size_t(kc_max * nr));
  for (int64_t pc = 0; pc < k; pc += KC) {
    const int64_t kc = std::min(KC, k - pc);
    for (int64_t jr = 0; jr < n; jr += nr) {
      const int nv = int(std::min<int64_t>(nr, n - jr));
      const T* bp = b + pc * rsb + jr * csb;
      int64_t ldb = rsb;
      if (!b_in_place || nv < nr) {  // a narrow edge panel is packed: the kernel reads NR wide
        pack_b_panel(kc, nv, bp, rsb, csb, nr, pb);
        bp = pb;
        ldb = nr;
      }
      for (int64_t ir = 0; ir < m; ir += mr)
        uk(kc, a + ir * rsa + pc * csa, rsa, csa, bp, ldb, c + ir * ldc + jr, ldc,
           int(std::min<int64_t>(mr, m - ir)), nv, pc > 0);
    }
  }
  return true;
}

template bool gemm_vector<float>(int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                                 int64_t, float*, int);
template bool gemm_vector<double>(int64_t, int64_t, const double*, int64_t, const double*,
                                  int64_t, int64_t, double*, int);
template bool gemm_narrow_split<float>(int64_t, int64_t, int64_t, const float*, int64_t,
                                       int64_t, const float*, int64_t, int64_t, float*, int64_t,
                                       int);
template bool gemm_narrow_split<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                                        int64_t, const double*, int64_t, int64_t, double*,
                                        int64_t, int);
template bool gemm_small<float>(int64_t, int64_t, int64_t, const float*, int64_t, int64_t,
                                const float*, int64_t, int64_t, float*, int64_t);
template bool gemm_small<double>(int64_t, int64_t, int64_t, const double*, int64_t, int64_t,
                                 const double*, int64_t, int64_t, double*, int64_t);

}  // namespace autodiff::kernels
