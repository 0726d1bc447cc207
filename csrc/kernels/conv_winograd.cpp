// Winograd F(2x2, 3x3) convolution (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3x3, stride-1, undilated, ungrouped convolutions -- the forward and,
// through conv2d_backward_input's flipped-kernel forward, the input gradient.
//
// Each 2x2 output tile comes from a 4x4 input tile d: y = A^T [(G g G^T) . (B^T d B)] A.  The
// 16 element-wise products, summed over input channels, are 16 GEMMs per block of tiles:
//   M[xi] (K x P) = U[xi] (K x C) @ V[xi] (C x P),  U = G g G^T,  V = B^T d B,
// 16 K C multiply-adds per tile of 4 outputs where the direct convolution does 36 K C: the
// GEMM work drops 2.25x.  The transforms are additions only (the filter's halves aside), done
// once per input and output element of a block; a block's V and M stay in L2.
//
// U is packed once into the micro-kernel's A panels; V is written by the input transform
// straight into B micro-panels; the table's GEMM micro-kernel multiplies them.  Rounding:
// sums of products in another order than the direct convolution's, a few ulps of the
// operands' magnitudes (measured in tests/cpp/test_cpp_conv.py).
#include <algorithm>
#include <atomic>
#include <vector>

#include "dispatch.h"
#include "kernels/buffers.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"

// The transforms are additions only, so every vector width rounds alike: on x86 they are
// compiled for AVX-512, AVX2 and the baseline, the loader picking by CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AD_WINO_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define AD_WINO_CLONES
#endif

namespace autodiff::kernels {

namespace {

std::atomic<int> g_winograd{1};  // set_conv_winograd: 0 never, 1 when it pays, 2 always

// V and M of a block of tiles together (bytes).  Larger blocks gave the micro-kernel more
// columns per packed U: at one thread, (32, 64, 56, 56) -> 64 took 0.77, 0.65 and 0.67x the
// direct time with 640 KiB, 896 KiB and 1.5 MiB blocks (3 MiB: mixed).
constexpr int64_t kBlockBytes = 1024 << 10;

// U[xi][k][c] (xi = 4 i + j) = (G g G^T)[i][j] of filter g = w[k][c], G = [1 0 0; .5 .5 .5;
// .5 -.5 .5; 0 0 1].
template <typename T>
void transform_filters(const T* w, int64_t K, int64_t C, T* u) {
  const int64_t kc = K * C;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t c = 0; c < C; ++c) {
      const T* g = w + (k * C + c) * 9;
      T t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        const T a = g[j], b = g[3 + j], d = g[6 + j];
        t[0][j] = a;
        t[1][j] = T(0.5) * (a + b + d);
        t[2][j] = T(0.5) * (a - b + d);
        t[3][j] = d;
      }
      for (int i = 0; i < 4; ++i) {
        T* ui = u + 4 * i * kc + k * C + c;
        const T a = t[i][0], b = t[i][1], d = t[i][2];
        ui[0] = a;
        ui[kc] = T(0.5) * (a + b + d);
        ui[2 * kc] = T(0.5) * (a - b + d);
        ui[3 * kc] = d;
      }
    }
}

// V = B^T d B for n tiles side by side, every channel.  A region row holds its even columns
// then, ``half`` further, its odd ones, so tile i's columns 2i .. 2i+3 are e[i], o[i],
// e[i+1], o[i+1]: unit-stride vectors.  Channel c's rows start at in + c * plane (q * pitch
// for row q < 4); tile i's 16 values go to out[xi * xi_stride + c * nr + i].
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
template <typename T>
AD_WINO_CLONES void input_tiles(const T* in, int64_t half, int64_t plane, int64_t pitch,
                                int64_t channels, int64_t n, T* out, int64_t xi_stride,
                                int64_t nr) {
  for (int64_t c = 0; c < channels; ++c) {
    const T* r0 = in + c * plane;
    const T *r1 = r0 + pitch, *r2 = r1 + pitch, *r3 = r2 + pitch;
    T* o = out + c * nr;
#pragma GCC ivdep
    for (int64_t i = 0; i < n; ++i) {
      T t[4][4];
      for (int s = 0; s < 4; ++s) {
        const int64_t x = (s & 1) * half + i + (s >> 1);
        const T d0 = r0[x], d1 = r1[x], d2 = r2[x], d3 = r3[x];
        t[0][s] = d0 - d2;
        t[1][s] = d1 + d2;
        t[2][s] = d2 - d1;
        t[3][s] = d1 - d3;
      }
      for (int q = 0; q < 4; ++q) {
        o[(4 * q) * xi_stride + i] = t[q][0] - t[q][2];
        o[(4 * q + 1) * xi_stride + i] = t[q][1] + t[q][2];
        o[(4 * q + 2) * xi_stride + i] = t[q][2] - t[q][1];
        o[(4 * q + 3) * xi_stride + i] = t[q][1] - t[q][3];
      }
    }
  }
}

// y = A^T m A (+ bias[k]) for n tiles side by side, every output channel k: m values at
// m[xi * xi_stride + k * ldm + i]; output rows y0 + k * y_stride and y1 + k * y_stride, 2n
// values each.  A^T = [1 1 1 0; 0 1 -1 -1].
template <typename T>
AD_WINO_CLONES void output_tiles(const T* m, int64_t xi_stride, int64_t ldm, int64_t channels,
                                 int64_t n, const T* bias, T* y0, T* y1, int64_t y_stride) {
  for (int64_t k = 0; k < channels; ++k) {
    const T bk = bias ? bias[k] : T(0);
    const T* mk = m + k * ldm;
    T* a0 = y0 + k * y_stride;
    T* a1 = y1 + k * y_stride;
#pragma GCC ivdep
    for (int64_t i = 0; i < n; ++i) {
      T t[2][4];
      for (int s = 0; s < 4; ++s) {
        const T a = mk[s * xi_stride + i], b = mk[(4 + s) * xi_stride + i],
                c = mk[(8 + s) * xi_stride + i], d = mk[(12 + s) * xi_stride + i];
        t[0][s] = a + b + c;
        t[1][s] = b - c - d;
      }
      a0[2 * i] = t[0][0] + t[0][1] + t[0][2] + bk;
      a0[2 * i + 1] = t[0][1] - t[0][2] - t[0][3] + bk;
      a1[2 * i] = t[1][0] + t[1][1] + t[1][2] + bk;
      a1[2 * i + 1] = t[1][1] - t[1][2] - t[1][3] + bk;
    }
  }
}

struct Blocking {
  int64_t th, tw;     // tiles per image, down and across
  int64_t imgs;       // images per block (whole images), or 1 with ...
  int64_t rows;       // ... this many tile rows per block (of one image)
  int64_t per_image;  // blocks per image (1 when blocks hold whole images)
  int64_t blocks;
};

Blocking blocking(const ConvGeom& g, int64_t tiles_per_block) {
  Blocking b{};
  b.th = (g.oh + 1) / 2, b.tw = (g.ow + 1) / 2;
  const int64_t per_image = b.th * b.tw;
  if (per_image <= tiles_per_block) {
    b.imgs = std::max<int64_t>(1, tiles_per_block / per_image);
    b.rows = b.th;
    b.per_image = 1;
    b.blocks = (g.n + b.imgs - 1) / b.imgs;
  } else {
    b.imgs = 1;
    b.rows = std::max<int64_t>(1, tiles_per_block / b.tw);
    b.per_image = (b.th + b.rows - 1) / b.rows;
    b.blocks = g.n * b.per_image;
  }
  return b;
}

// Rows [2 ty0 - pt, 2 ty1 + 2 - pt) and columns [-pl, 2 tw + 2 - pl) of image xn, all
// channels, zero outside the image, into buf as (C, 2 (ty1 - ty0) + 2, 2 tw + 2), each row
// its tw + 1 even columns followed by its tw + 1 odd ones (input_tiles).
template <typename T>
void load_region(const ConvGeom& g, const T* xn, const int64_t* xs, int64_t ty0, int64_t ty1,
                 int64_t tw, T* buf, T* row) {
  const int64_t rows = 2 * (ty1 - ty0) + 2, cols = 2 * tw + 2;
  const int64_t w0 = std::min(cols, g.pl), w1 = std::clamp<int64_t>(g.pl + g.w, w0, cols);
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t r = 0; r < rows; ++r) {
      T* dst = buf + (c * rows + r) * cols;
      const int64_t h = 2 * ty0 + r - g.pt;
      if (h < 0 || h >= g.h) {
        std::fill(dst, dst + cols, T(0));
        continue;
      }
      const T* src = xn + c * xs[1] + h * xs[2];
      std::fill(row, row + w0, T(0));
      if (xs[3] == 1) {
        std::copy(src + (w0 - g.pl), src + (w1 - g.pl), row + w0);
      } else {
        for (int64_t q = w0; q < w1; ++q) row[q] = src[(q - g.pl) * xs[3]];
      }
      std::fill(row + w1, row + cols, T(0));
      for (int64_t i = 0; i <= tw; ++i) {
        dst[i] = row[2 * i];
        dst[tw + 1 + i] = row[2 * i + 1];
      }
    }
}

}  // namespace

void set_conv_winograd(int mode) { g_winograd.store(std::clamp(mode, 0, 2)); }

int conv_winograd_mode() { return g_winograd.load(); }

template <typename T>
bool conv2d_winograd(const ConvGeom& g, const T* x, const int64_t* xs, const T* w, const T* bias,
                     T* y) {
  const int mode = g_winograd.load();
  if (mode == 0 || g.kh != 3 || g.kw != 3 || g.sh != 1 || g.sw != 1 || g.dh != 1 || g.dw != 1 ||
      g.groups != 1 || g.n == 0 || g.c == 0 || g.oc == 0)
    return false;
  // The transforms and the short GEMMs (depth C) cost more than the 2.25x fewer products
  // save below 32 channels in or out or 8x8 outputs.  At one thread, Winograd's time over
  // the direct convolution's (benchmarks/conv_algorithms.py, (N, C, H, W) -> K, pad 1):
  // 0.65-0.80 at (32, 64, 56, 56) -> 64, (8, 128, 28, 28) -> 128, (8, 256, 14, 14) -> 256,
  // (64, 64, 16, 16) -> 32 or 64; 0.8-0.92 at (64, 32, 8 to 32, ...) -> 32 or 64; but 1.2-1.4
  // at (64, 16, 8, 8) -> 32 and 2.2-2.8 at (64, 3, 32, 32) -> 32.
  if (mode == 1 && (g.c < 32 || g.oc < 32 || g.oh * g.ow < 64)) return false;
  const int64_t C = g.c, K = g.oc;
  const auto& t = table<T>();
  const GemmTile<T> tile = gemm_tile(t, K);
  const int mr = tile.mr, nr = tile.nr;
  const int64_t KC = GemmBlocking<T>::kKCPass;
  const int64_t mp = (K + mr - 1) / mr * mr;

  std::vector<T> u(size_t(16 * K * C));
  transform_filters(w, K, C, u.data());
  std::vector<T> apack(size_t(16 * mp * C));
  for (int xi = 0; xi < 16; ++xi)
    for (int64_t pc = 0; pc < C; pc += KC)
      pack_a(K, std::min(KC, C - pc), u.data() + xi * K * C + pc, C, 1, mr,
             apack.data() + xi * mp * C + mp * pc);

  const int64_t per_tile = 16 * (C + K) * int64_t(sizeof(T));
  // At most kBlockBytes a block, and (where the tiles allow) two blocks per thread.
  const int64_t tiles = g.n * ((g.oh + 1) / 2) * ((g.ow + 1) / 2);
  const int64_t share = (tiles + 2 * get_num_threads() - 1) / (2 * get_num_threads());
  const int64_t want =
      std::max<int64_t>(nr, std::min(kBlockBytes / per_tile, (share + nr - 1) / nr * nr) / nr * nr);
  const Blocking b = blocking(g, want);
  const int64_t ptiles = b.imgs * b.rows * b.tw;  // columns of a full block
  const int64_t npan = (ptiles + nr - 1) / nr, ldm = npan * nr;
  // The 16 planes of V and of M, a cache line more than their size apart: at a multiple of
  // 4 KiB the transforms' 16 streams would all fall in one L1 set (8 ways).
  const int64_t line = 64 / int64_t(sizeof(T));
  const int64_t vstride = npan * C * nr + line, mstride = K * ldm + line;
  const int64_t region = C * (2 * b.rows + 2) * (2 * b.tw + 2);
  const double flops = 32.0 * double(K) * double(C) * double(g.n * b.th * b.tw);
  const int nt =
      int(std::min<int64_t>(flops < 2.0 * 96 * 96 * 96 ? 1 : get_num_threads(), b.blocks));

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    T* xbuf = thread_buffer<T, kConvImage>(size_t(b.imgs * region));
    T* v = thread_buffer<T, kConvPackB>(size_t(16 * vstride));
    T* mbuf = thread_buffer<T, kConvCols>(size_t(16 * mstride));
    std::vector<T> yrows(size_t(4 * b.tw)), row(size_t(2 * b.tw + 2));
#pragma omp for schedule(dynamic, 1)
    for (int64_t blk = 0; blk < b.blocks; ++blk) {
      const int64_t n0 = blk / b.per_image * b.imgs, n1 = std::min(g.n, n0 + b.imgs);
      const int64_t ty0 = blk % b.per_image * b.rows, ty1 = std::min(b.th, ty0 + b.rows);
      const int64_t nrow = ty1 - ty0, rrows = 2 * nrow + 2, rcols = 2 * b.tw + 2;
      const int64_t P = (n1 - n0) * nrow * b.tw;
      for (int64_t n = n0; n < n1; ++n)
        load_region(g, x + n * xs[0], xs, ty0, ty1, b.tw, xbuf + (n - n0) * region, row.data());
      if (P % nr)  // the last micro-panel's columns past P: zeros, not stale values
        for (int xi = 0; xi < 16; ++xi)
          for (int64_t c = 0; c < C; ++c)
            std::fill(v + xi * vstride + ((P / nr) * C + c) * nr + P % nr,
                      v + xi * vstride + ((P / nr) * C + c + 1) * nr, T(0));
      // Input transform, one row of tiles at a time, split at micro-panel edges.
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t ty = ty0; ty < ty1; ++ty) {
          const int64_t j0 = ((n - n0) * nrow + ty - ty0) * b.tw;
          const T* base = xbuf + (n - n0) * region + 2 * (ty - ty0) * rcols;
          for (int64_t tx = 0; tx < b.tw;) {
            const int64_t j = j0 + tx, len = std::min(b.tw - tx, nr - j % nr);
            input_tiles(base + tx, b.tw + 1, rrows * rcols, rcols, C, len,
                        v + (j / nr) * C * nr + j % nr, vstride, int64_t(nr));
            tx += len;
          }
        }
      // The 16 GEMMs: M[xi] (K x P) = U[xi] @ V[xi].
      for (int xi = 0; xi < 16; ++xi)
        for (int64_t pan = 0; pan * nr < P; ++pan) {
          const int nv = int(std::min<int64_t>(nr, P - pan * nr));
          for (int64_t pc = 0; pc < C; pc += KC) {
            const int64_t kc = std::min(KC, C - pc);
            const T* pa = apack.data() + xi * mp * C + mp * pc;
            const T* pb = v + xi * vstride + (pan * C + pc) * nr;
            T* cm = mbuf + xi * mstride + pan * nr;
            for (int64_t ir = 0; ir < K; ir += mr)
              tile.ukernel(kc, pa + ir * kc, pb, cm + ir * ldm, ldm,
                           int(std::min<int64_t>(mr, K - ir)), nv, pc > 0);
          }
        }
      // Output transform into y, two output rows per row of tiles (through a buffer where
      // the tiles overhang the output).
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t ty = ty0; ty < ty1; ++ty) {
          const int64_t j0 = ((n - n0) * nrow + ty - ty0) * b.tw;
          T* yn = y + (n * K * g.oh + 2 * ty) * g.ow;
          const T* m = mbuf + j0;
          if (g.ow % 2 == 0 && 2 * ty + 1 < g.oh) {
            output_tiles(m, mstride, ldm, K, b.tw, bias, yn, yn + g.ow, g.oh * g.ow);
            continue;
          }
          for (int64_t k = 0; k < K; ++k) {
            output_tiles(m + k * ldm, mstride, ldm, int64_t(1), b.tw, bias ? bias + k : nullptr,
                         yrows.data(), yrows.data() + 2 * b.tw, int64_t(0));
            T* yk = yn + k * g.oh * g.ow;
            std::copy(yrows.data(), yrows.data() + g.ow, yk);
            if (2 * ty + 1 < g.oh)
              std::copy(yrows.data() + 2 * b.tw, yrows.data() + 2 * b.tw + g.ow, yk + g.ow);
          }
        }
    }
  }
  return true;
}

template bool conv2d_winograd<float>(const ConvGeom&, const float*, const int64_t*, const float*,
                                     const float*, float*);
template bool conv2d_winograd<double>(const ConvGeom&, const double*, const int64_t*, const double*,
                                      const double*, double*);

}  // namespace autodiff::kernels
