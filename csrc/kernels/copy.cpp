// Strided-to-contiguous copy.  After dropping size-1 dims and merging dims that are
// contiguous in the source, a source whose innermost dim is unit-stride is copied row by
// row; otherwise the source dim with the smallest stride (p) and the innermost dim are
// walked in square tiles, so that reads run along p and writes along the innermost dim
// within a tile that stays in L1 (a transposition).  Threads split the tiles.
#include "kernels/copy.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "dispatch.h"
#include "kernels/parallel.h"
#include "simd.h"

namespace autodiff::kernels {

namespace {

constexpr int64_t kTile = 32;

struct Dims {
  std::vector<int64_t> shape, stride;
};

Dims collapse(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides) {
  Dims d;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (!d.shape.empty() && d.stride.back() == strides[i] * shape[i]) {
      d.shape.back() *= shape[i];
      d.stride.back() = strides[i];
    } else {
      d.shape.push_back(shape[i]);
      d.stride.push_back(strides[i]);
    }
  }
  return d;
}

#if defined(__x86_64__) || defined(__i386__)
// o[k * dp + i] = s[i + k * ... ]: the 8x8 block whose source rows are s + k * sl (8
// elements each, contiguous) lands transposed in o's rows o + k * dp.  Bits are moved by
// shuffles, never by arithmetic.
AD_AVX2 void transpose8x8(const uint32_t* s32, int64_t sl, uint32_t* o32, int64_t dp) {
  const float* s = reinterpret_cast<const float*>(s32);
  float* o = reinterpret_cast<float*>(o32);
  __m256 r[8], t[8], u[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(s + k * sl);
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    u[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
    u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(o + k * dp, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
    _mm256_storeu_ps(o + (k + 4) * dp, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
  }
}

// memcpy through AVX2 registers: glibc's memcpy takes `rep movsb` for rows of a few KB,
// which on Zen 3 runs several times slower when source and destination sit at nearby
// offsets modulo 4 KiB (measured: concatenating two 1024 x 1024 float32 arrays 0.2 ms or
// 1.2 ms depending on where NumPy placed them).  Plain vector loads and stores do not care.
AD_AVX2 void copy_bytes_avx2(uint8_t* dst, const uint8_t* src, size_t n) {
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    __m256i r[4];
    for (int k = 0; k < 4; ++k)
      r[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i + 32 * k));
    for (int k = 0; k < 4; ++k)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i + 32 * k), r[k]);
  }
  if (i < n) std::memcpy(dst + i, src + i, n - i);
}

// o[j] = s[-j] for j < n (a row read backwards: flip along the last dim) for 4- and 8-byte
// elements: 8 or 4 contiguous elements at a time, reversed in registers (a strided scalar
// loop: 3x PyTorch's flip of 1024 x 1024 floats).
template <typename T>
AD_AVX2 void copy_reversed_avx2(T* o, const T* s, int64_t n) {
  int64_t j = 0;
  if constexpr (sizeof(T) == 4) {
    const __m256i rev = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    const float* sf = reinterpret_cast<const float*>(s);
    float* of = reinterpret_cast<float*>(o);
    for (; j + 8 <= n; j += 8)
      _mm256_storeu_ps(of + j, _mm256_permutevar8x32_ps(_mm256_loadu_ps(sf - j - 7), rev));
  } else if constexpr (sizeof(T) == 8) {
    const double* sd = reinterpret_cast<const double*>(s);
    double* od = reinterpret_cast<double*>(o);
    for (; j + 4 <= n; j += 4)
      _mm256_storeu_pd(od + j, _mm256_permute4x64_pd(_mm256_loadu_pd(sd - j - 3), 0x1B));
  }
  for (; j < n; ++j) o[j] = s[-j];
}
#endif

void copy_bytes(void* dst, const void* src, size_t n) {
#if defined(__x86_64__) || defined(__i386__)
  if (has_avx2(simd_level())) {
    copy_bytes_avx2(static_cast<uint8_t*>(dst), static_cast<const uint8_t*>(src), n);
    return;
  }
#endif
  std::memcpy(dst, src, n);
}

// Source and destination offsets (elements) of outer index `o` over the dims in `dims`.
void outer_offsets(const Dims& d, const std::vector<int64_t>& dst_stride,
                   const std::vector<int>& dims, int64_t o, int64_t& so, int64_t& dso) {
  so = dso = 0;
  for (int k = int(dims.size()) - 1; k >= 0; --k) {
    const int a = dims[k];
    const int64_t i = o % d.shape[a];
    o /= d.shape[a];
    so += i * d.stride[a];
    dso += i * dst_stride[a];
  }
}

}  // namespace

template <typename T>
void copy_to_contiguous(const T* src, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& strides, T* dst) {
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  if (total == 0) return;
  const Dims d = collapse(shape, strides);
  const int nd = int(d.shape.size());
  if (nd == 0) {
    dst[0] = src[0];
    return;
  }
  std::vector<int64_t> ds(nd, 1);  // destination strides
  for (int k = nd - 2; k >= 0; --k) ds[k] = ds[k + 1] * d.shape[k + 1];
  const int last = nd - 1;
  int p = -1;                     // the source's smallest-stride dim, if not the innermost
  for (int k = 0; k < last; ++k)  // (a broadcast dim, stride 0, is no reason to tile)
    if (d.stride[k] != 0 && std::llabs(d.stride[k]) < std::llabs(d.stride[last]) &&
        (p < 0 || std::llabs(d.stride[k]) < std::llabs(d.stride[p])))
      p = k;
  const int nt = threads_for(total, 16384);
  if (nd == 1 && (d.stride[0] == 1 || d.stride[0] == 0)) {  // one block, or one value (a
    constexpr int64_t kPart = 1 << 16;                      // scalar broadcast): threads split it
    const int64_t parts = (total + kPart - 1) / kPart;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t q = 0; q < parts; ++q) {
      const int64_t len = std::min(kPart, total - q * kPart);
      if (d.stride[0] == 1)
        copy_bytes(dst + q * kPart, src + q * kPart, size_t(len) * sizeof(T));
      else
        std::fill(dst + q * kPart, dst + q * kPart + len, src[0]);
    }
    return;
  }
  if (p < 0) {  // rows: unit (or at least innermost-smallest) stride along the last dim
    std::vector<int> outer;
    for (int k = 0; k < last; ++k) outer.push_back(k);
    const int64_t rows = total / d.shape[last], n = d.shape[last], st = d.stride[last];
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t so, dso;
      outer_offsets(d, ds, outer, r, so, dso);
      const T* s = src + so;
      T* o = dst + dso;
      if (st == 1) {
        copy_bytes(o, s, size_t(n) * sizeof(T));
      } else if (st == 0) {
        std::fill(o, o + n, s[0]);
#if defined(__x86_64__) || defined(__i386__)
      } else if (st == -1 && (sizeof(T) == 4 || sizeof(T) == 8) && has_avx2(simd_level())) {
        copy_reversed_avx2(o, s, n);
#endif
      } else {
        for (int64_t j = 0; j < n; ++j) o[j] = s[j * st];
      }
    }
    return;
  }
  std::vector<int> outer;
  for (int k = 0; k < last; ++k)
    if (k != p) outer.push_back(k);
  const int64_t np_ = d.shape[p], nl = d.shape[last];
  const int64_t sp = d.stride[p], sl = d.stride[last], dp = ds[p];
  const int64_t tiles_p = (np_ + kTile - 1) / kTile, tiles_l = (nl + kTile - 1) / kTile;
  const int64_t items = (total / (np_ * nl)) * tiles_p;
#if defined(__x86_64__) || defined(__i386__)
  const bool vec = has_avx2(simd_level());
#endif
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t it = 0; it < items; ++it) {
    int64_t so, dso;
    outer_offsets(d, ds, outer, it / tiles_p, so, dso);
    const int64_t i0 = (it % tiles_p) * kTile, i1 = std::min(np_, i0 + kTile);
    for (int64_t tl = 0; tl < tiles_l; ++tl) {
      const int64_t j0 = tl * kTile, j1 = std::min(nl, j0 + kTile);
#if defined(__x86_64__) || defined(__i386__)
      if constexpr (sizeof(T) == 4) {
        if (vec && sp == 1 && i1 - i0 == kTile && j1 - j0 == kTile) {
          for (int64_t jb = j0; jb < j1; jb += 8)
            for (int64_t ib = i0; ib < i1; ib += 8)
              transpose8x8(src + so + ib + jb * sl, sl, dst + dso + ib * dp + jb, dp);
          continue;
        }
      }
#endif
      for (int64_t j = j0; j < j1; ++j) {
        const T* s = src + so + j * sl;
        T* o = dst + dso + j;
        for (int64_t i = i0; i < i1; ++i) o[i * dp] = s[i * sp];
      }
    }
  }
}

void concat_rows(const std::vector<const uint8_t*>& src, const std::vector<int64_t>& piece,
                 const std::vector<int64_t>& stride, int64_t outer, uint8_t* dst) {
  const int64_t k = int64_t(src.size());
  std::vector<int64_t> off(size_t(k) + 1, 0);  // byte offset of each input within a row
  for (int64_t i = 0; i < k; ++i) off[i + 1] = off[i] + piece[i];
  const int64_t row = off[k];
  if (row == 0 || outer == 0) return;
  const int64_t items = outer * k, total = outer * row;
  const int nt = threads_for(total / 4);
  if (nt > 1 && items < 4 * nt) {
    // Few large pieces (stack or cat of a few big arrays): the threads take equal runs of
    // the output, not whole pieces (a cat of three on two threads ran at one thread's pace
    // for a third of the time; one piece on one thread).
    const int64_t part = (total + 4 * nt - 1) / (4 * nt), parts = (total + part - 1) / part;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t p = 0; p < parts; ++p) {
      const int64_t b0 = p * part, b1 = std::min(total, b0 + part);
      for (int64_t it = 0; it < items; ++it) {
        const int64_t o = it / k, i = it % k, d0 = o * row + off[i];
        const int64_t lo = std::max(b0, d0), hi = std::min(b1, d0 + piece[i]);
        if (lo < hi) copy_bytes(dst + lo, src[i] + o * stride[i] + (lo - d0), size_t(hi - lo));
      }
    }
    return;
  }
  const int ntc = cap_threads(nt, items);
#pragma omp parallel for num_threads(ntc) schedule(static) if (ntc > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int64_t o = it / k, i = it % k;
    if (piece[i]) copy_bytes(dst + o * row + off[i], src[i] + o * stride[i], size_t(piece[i]));
  }
}

void gather_rows(const uint8_t* src, int64_t row_bytes, const int64_t* rows, int64_t k,
                 uint8_t* dst) {
  if (k == 0 || row_bytes == 0) return;
  const int nt = cap_threads(threads_for(k * row_bytes / 4), k);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t i = 0; i < k; ++i)
    copy_bytes(dst + i * row_bytes, src + rows[i] * row_bytes, size_t(row_bytes));
}

void tri_rows(const uint8_t* src, int64_t batch, int64_t n, int64_t m, int64_t item, int64_t k,
              bool upper, uint8_t* dst) {
  const int64_t rows = batch * n, row = m * item;
  if (rows == 0 || row == 0) return;
  const int nt = cap_threads(threads_for(rows * row / 4), rows);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = r % n;
    // kept columns [lo, hi): lower j <= i + k, upper j >= i + k
    const int64_t lo = upper ? std::clamp<int64_t>(i + k, 0, m) : 0;
    const int64_t hi = upper ? m : std::clamp<int64_t>(i + k + 1, 0, m);
    const uint8_t* s = src + r * row;
    uint8_t* d = dst + r * row;
    std::memset(d, 0, size_t(lo * item));
    if (hi > lo) copy_bytes(d + lo * item, s + lo * item, size_t((hi - lo) * item));
    std::memset(d + hi * item, 0, size_t((m - hi) * item));
  }
}

namespace {

// One padded row: the border columns element by element (cmap -1: the fill), the interior as
// one copy; a row with no source (s null) is all fill.
template <typename E>
void edge_pad_row(const E* s, const int64_t* cmap, int64_t ow, int64_t left, int64_t w, E fill,
                  E* d) {
  if (s == nullptr) {
    std::fill(d, d + ow, fill);
    return;
  }
  for (int64_t c = 0; c < left; ++c) d[c] = cmap[c] < 0 ? fill : s[cmap[c]];
  std::memcpy(d + left, s, size_t(w) * sizeof(E));
  for (int64_t c = left + w; c < ow; ++c) d[c] = cmap[c] < 0 ? fill : s[cmap[c]];
}

template <typename E>
void edge_pad_typed(const E* src, int64_t planes, int64_t h, int64_t w, const int64_t* rmap,
                    int64_t oh, const int64_t* cmap, int64_t ow, int64_t left, const uint8_t* f,
                    E* dst) {
  E fill{};
  if (f) std::memcpy(&fill, f, sizeof(E));
  const int64_t rows = planes * oh;
  const int nt = cap_threads(threads_for(rows * ow * int64_t(sizeof(E)) / 4), rows);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = r / oh, i = r % oh;
    const E* s = rmap[i] < 0 ? nullptr : src + (p * h + rmap[i]) * w;
    edge_pad_row(s, cmap, ow, left, w, fill, dst + r * ow);
  }
}

}  // namespace

void edge_pad_rows(const uint8_t* src, int64_t planes, int64_t h, int64_t w, int64_t item,
                   const int64_t* rmap, int64_t oh, const int64_t* cmap, int64_t ow, int64_t left,
                   const uint8_t* fill, uint8_t* dst) {
  if (planes == 0 || oh == 0 || ow == 0) return;
  switch (item) {
    case 1:
      return edge_pad_typed(src, planes, h, w, rmap, oh, cmap, ow, left, fill, dst);
    case 2:
      return edge_pad_typed(reinterpret_cast<const uint16_t*>(src), planes, h, w, rmap, oh, cmap,
                            ow, left, fill, reinterpret_cast<uint16_t*>(dst));
    case 4:
      return edge_pad_typed(reinterpret_cast<const uint32_t*>(src), planes, h, w, rmap, oh, cmap,
                            ow, left, fill, reinterpret_cast<uint32_t*>(dst));
    default:  // 8 (the binding admits no other size)
      return edge_pad_typed(reinterpret_cast<const uint64_t*>(src), planes, h, w, rmap, oh, cmap,
                            ow, left, fill, reinterpret_cast<uint64_t*>(dst));
  }
}

namespace {

// One row of where: unit strides are compile-time, so the common layouts vectorize (a
// branch-free select); any other stride (0 for a broadcast operand) is read at run time.
template <typename T, bool C1, bool A1, bool B1>
void where_row(const uint8_t* c, int64_t scs, const T* a, int64_t sas, const T* b, int64_t sbs,
               T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {  // both loaded, blended by a mask: no branch
    const T m = T(0) - T(c[C1 ? i : i * scs] != 0);
    out[i] = (a[A1 ? i : i * sas] & m) | (b[B1 ? i : i * sbs] & ~m);
  }
}

}  // namespace

template <typename T>
void where_strided(const uint8_t* cond, const std::vector<int64_t>& sc, const T* a,
                   const std::vector<int64_t>& sa, const T* b, const std::vector<int64_t>& sb,
                   T* out, const std::vector<int64_t>& shape) {
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  if (total == 0) return;
  // merge dims that all three operands walk as one (size-1 dims dropped)
  std::vector<int64_t> n, c, x, y;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!n.empty() && c.back() == sc[d] * shape[d] && x.back() == sa[d] * shape[d] &&
        y.back() == sb[d] * shape[d]) {
      n.back() *= shape[d];
      c.back() = sc[d];
      x.back() = sa[d];
      y.back() = sb[d];
    } else {
      n.push_back(shape[d]);
      c.push_back(sc[d]);
      x.push_back(sa[d]);
      y.push_back(sb[d]);
    }
  }
  if (n.empty()) n = {1}, c = {0}, x = {0}, y = {0};
  const int nd = int(n.size());
  const int64_t inner = n[nd - 1], rows = total / inner;
  const int64_t ic = c[nd - 1], ia = x[nd - 1], ib = y[nd - 1];
  auto row = [&](const uint8_t* pc, const T* pa, const T* pb, T* po, int64_t len) {
    if (ic == 1 && ia == 1 && ib == 1)
      return where_row<T, true, true, true>(pc, 1, pa, 1, pb, 1, po, len);
    if (ic == 1 && ia == 1) return where_row<T, true, true, false>(pc, 1, pa, 1, pb, ib, po, len);
    if (ic == 1 && ib == 1) return where_row<T, true, false, true>(pc, 1, pa, ia, pb, 1, po, len);
    where_row<T, false, false, false>(pc, ic, pa, ia, pb, ib, po, len);
  };
  constexpr int64_t kChunk = 16384;
  const int64_t nchunks = (inner + kChunk - 1) / kChunk, items = rows * nchunks;
  const int nt = threads_for(total);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t it = 0; it < items; ++it) {
    int64_t r = it / nchunks, oc = 0, oa = 0, ob = 0;
    const int64_t j0 = (it % nchunks) * kChunk;
    for (int d = nd - 2; d >= 0; --d) {
      const int64_t i = r % n[d];
      r /= n[d];
      oc += i * c[d];
      oa += i * x[d];
      ob += i * y[d];
    }
    const int64_t o = (it / nchunks) * inner + j0;
    row(cond + oc + j0 * ic, a + oa + j0 * ia, b + ob + j0 * ib, out + o,
        std::min(kChunk, inner - j0));
  }
}

template void where_strided<uint32_t>(const uint8_t*, const std::vector<int64_t>&, const uint32_t*,
                                      const std::vector<int64_t>&, const uint32_t*,
                                      const std::vector<int64_t>&, uint32_t*,
                                      const std::vector<int64_t>&);
template void where_strided<uint64_t>(const uint8_t*, const std::vector<int64_t>&, const uint64_t*,
                                      const std::vector<int64_t>&, const uint64_t*,
                                      const std::vector<int64_t>&, uint64_t*,
                                      const std::vector<int64_t>&);
template void copy_to_contiguous<uint8_t>(const uint8_t*, const std::vector<int64_t>&,
                                          const std::vector<int64_t>&, uint8_t*);
template void copy_to_contiguous<uint16_t>(const uint16_t*, const std::vector<int64_t>&,
                                           const std::vector<int64_t>&, uint16_t*);
template void copy_to_contiguous<uint32_t>(const uint32_t*, const std::vector<int64_t>&,
                                           const std::vector<int64_t>&, uint32_t*);
template void copy_to_contiguous<uint64_t>(const uint64_t*, const std::vector<int64_t>&,
                                           const std::vector<int64_t>&, uint64_t*);

}  // namespace autodiff::kernels
