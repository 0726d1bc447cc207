// Row sort as a least-significant-digit radix sort of order-preserving integer keys, one byte
// a pass, with the row positions carried along: stable by construction, O(n) per row, and
// about 3 ms for 1024 rows of 1024 floats on one thread (np.argsort's quicksort: 22 ms, its
// stable sort 59 ms; PyTorch's sort on two threads: 32 ms).
#include "kernels/sort.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

template <typename T>
using KeyOf = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

// An unsigned key ordered as the value.  Floats: the sign bit set on numbers >= 0, every
// bit flipped on negative ones; -0.0 as 0.0 and every NaN as the largest key.  Signed
// integers: the sign bit flipped.  Descending: the complement.
template <typename T>
inline KeyOf<T> sort_key(T v, bool descending) {
  using K = KeyOf<T>;
  constexpr K kSign = K(1) << (8 * sizeof(T) - 1);
  K b;
  std::memcpy(&b, &v, sizeof(T));
  if constexpr (std::is_integral_v<T>) {
    b ^= kSign;
  } else if (v != v) {
    b = ~K(0);
  } else {
    if (b == kSign) b = 0;  // -0.0
    b = (b & kSign) ? ~b : b | kSign;
  }
  return descending ? ~b : b;
}

constexpr int64_t kInsertion = 32;  // rows this short: insertion sort (also stable)

// One stable counting-sort pass on byte d of the keys: ks/ps -> kd/pd.  The row is cut into
// L parts, each scattered through its own bucket offsets: a skewed byte (a float's top byte
// takes a handful of values) otherwise chains every element's offset increment through the
// same counter in memory (~5 cycles each).  Returns false, moving nothing, when every key
// has the same byte d.
template <int L, typename K>
bool radix_pass(const K* ks, const uint32_t* ps, K* kd, uint32_t* pd, int64_t n, int d) {
  uint32_t off[L][256] = {};
  const int shift = 8 * d;
  const int64_t part = n / L;  // the last part also takes the n % L rest
  const auto digit = [shift](K key) { return uint32_t(key >> shift) & 0xff; };
  for (int64_t i = 0; i < part; ++i)
    for (int l = 0; l < L; ++l) ++off[l][digit(ks[l * part + i])];
  for (int64_t i = L * part; i < n; ++i) ++off[L - 1][digit(ks[i])];
  uint32_t sum = 0;
  for (int b = 0; b < 256; ++b) {
    uint32_t total = 0;
    for (int l = 0; l < L; ++l) total += off[l][b];
    if (total == uint32_t(n)) return false;
    for (int l = 0; l < L; ++l) {
      const uint32_t t = off[l][b];
      off[l][b] = sum;
      sum += t;
    }
  }
  for (int64_t i = 0; i < part; ++i)
    for (int l = 0; l < L; ++l) {
      const int64_t j = l * part + i;
      const uint32_t at = off[l][digit(ks[j])]++;
      kd[at] = ks[j];
      pd[at] = ps[j];
    }
  for (int64_t i = L * part; i < n; ++i) {
    const uint32_t at = off[L - 1][digit(ks[i])]++;
    kd[at] = ks[i];
    pd[at] = ps[i];
  }
  return true;
}

// Sorts the n keys k with their positions p (scratch k2 / p2 of n each) stably; the result
// ends in k / p.
template <typename K>
void radix_sort(K* k, uint32_t* p, K* k2, uint32_t* p2, int64_t n) {
  if (n <= kInsertion) {
    for (int64_t i = 1; i < n; ++i) {
      const K kv = k[i];
      const uint32_t pv = p[i];
      int64_t j = i;
      for (; j > 0 && k[j - 1] > kv; --j) {
        k[j] = k[j - 1];
        p[j] = p[j - 1];
      }
      k[j] = kv;
      p[j] = pv;
    }
    return;
  }
  bool in_scratch = false;
  for (int d = 0; d < int(sizeof(K)); ++d) {
    const K* ks = in_scratch ? k2 : k;
    const uint32_t* ps = in_scratch ? p2 : p;
    K* kd = in_scratch ? k : k2;
    uint32_t* pd = in_scratch ? p : p2;
    const bool moved = n >= 1024 ? radix_pass<4>(ks, ps, kd, pd, n, d)
                                 : radix_pass<2>(ks, ps, kd, pd, n, d);
    if (moved) in_scratch = !in_scratch;
  }
  if (in_scratch) {
    std::copy(k2, k2 + n, k);
    std::copy(p2, p2 + n, p);
  }
}

}  // namespace

template <typename T>
void sort_rows(const T* x, int64_t rows, int64_t n, bool descending, T* vals, int64_t* idx) {
  using K = KeyOf<T>;
  if (rows == 0 || n == 0) return;
  const int nt = cap_threads(threads_for(rows * n * 8, 16384), rows);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    std::vector<K> keys(size_t(2 * n));
    std::vector<uint32_t> pos(size_t(2 * n));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = x + r * n;
      K* k = keys.data();
      uint32_t* p = pos.data();
      for (int64_t i = 0; i < n; ++i) {
        k[i] = sort_key(xr[i], descending);
        p[i] = uint32_t(i);
      }
      radix_sort(k, p, k + n, p + n, n);
      T* vr = vals + r * n;
      int64_t* ir = idx + r * n;
      for (int64_t i = 0; i < n; ++i) {
        vr[i] = xr[p[i]];
        ir[i] = p[i];
      }
    }
  }
}

template void sort_rows<float>(const float*, int64_t, int64_t, bool, float*, int64_t*);
template void sort_rows<double>(const double*, int64_t, int64_t, bool, double*, int64_t*);
template void sort_rows<int32_t>(const int32_t*, int64_t, int64_t, bool, int32_t*, int64_t*);
template void sort_rows<int64_t>(const int64_t*, int64_t, int64_t, bool, int64_t*, int64_t*);

}  // namespace autodiff::kernels
