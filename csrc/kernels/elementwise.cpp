// Drivers for elementwise kernels: shape collapsing, broadcasting, threading.
#include "kernels/elementwise.h"

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

struct Collapsed {
  std::vector<int64_t> shape, sa, sb;
};

// Drop size-1 dims and merge neighbours that both operands walk contiguously.
Collapsed collapse(const std::vector<int64_t>& shape, const std::vector<int64_t>& sa,
                   const std::vector<int64_t>& sb) {
  Collapsed c;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!c.shape.empty() && c.sa.back() == sa[d] * shape[d] && c.sb.back() == sb[d] * shape[d]) {
      c.shape.back() *= shape[d];
      c.sa.back() = sa[d];
      c.sb.back() = sb[d];
    } else {
      c.shape.push_back(shape[d]);
      c.sa.push_back(sa[d]);
      c.sb.push_back(sb[d]);
    }
  }
  if (c.shape.empty()) {
    c.shape.push_back(1);
    c.sa.push_back(0);
    c.sb.push_back(0);
  }
  return c;
}

constexpr int64_t kChunk = 16384;  // elements per work item along the inner dim

}  // namespace

template <typename T>
void binary_broadcast(BinaryOp op, const T* a, const std::vector<int64_t>& a_strides, const T* b,
                      const std::vector<int64_t>& b_strides, T* out,
                      const std::vector<int64_t>& out_shape) {
  int64_t total = 1;
  for (auto s : out_shape) total *= s;
  if (total == 0) return;
  Collapsed c = collapse(out_shape, a_strides, b_strides);
  const int nd = int(c.shape.size());
  const int64_t inner = c.shape[nd - 1];
  const int64_t isa = c.sa[nd - 1], isb = c.sb[nd - 1];
  const int64_t outer = total / inner;
  const int64_t nchunks = (inner + kChunk - 1) / kChunk;
  const int64_t items = outer * nchunks;
  const bool unit = (isa == 0 || isa == 1) && (isb == 0 || isb == 1);
  const bool stream = unit && total * int64_t(sizeof(T)) >= kStreamBytes;
  const BinaryFn<T> fn = (stream ? table<T>().binary_stream : table<T>().binary)[int(op)];
  const int nt = threads_for(total);
  const int64_t chunk = dyn_chunk(std::min(inner, kChunk));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
#pragma omp for schedule(guided, chunk) nowait
    for (int64_t it = 0; it < items; ++it) {
      int64_t o = it / nchunks, ch = it % nchunks;
      int64_t offa = 0, offb = 0, rem = o;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % c.shape[d];
        rem /= c.shape[d];
        offa += idx * c.sa[d];
        offb += idx * c.sb[d];
      }
      int64_t i0 = ch * kChunk, len = std::min(kChunk, inner - i0);
      T* dst = out + o * inner + i0;
      if (unit) {
        fn(a + offa + i0 * isa, b + offb + i0 * isb, dst, len, isa, isb);
      } else {  // inner dim strided: one element at a time (never hit with contiguous inputs)
        for (int64_t i = 0; i < len; ++i)
          fn(a + offa + (i0 + i) * isa, b + offb + (i0 + i) * isb, dst + i, 1, 0, 0);
      }
    }
    if (stream) stream_fence();  // once per thread (the kernels leave it to their driver)
  }
}

// body(i0, len) over [0, n) in chunks of `chunk` elements (guided), on the threads that
// threads_for gives n elements at `per_thread` each.
template <typename Body>
void for_chunks(int64_t n, int64_t chunk, int64_t per_thread, Body body) {
  if (n <= 0) return;
  const int64_t nchunks = (n + chunk - 1) / chunk;
  const int nt = threads_for(n, per_thread);
#pragma omp parallel for num_threads(nt) schedule(guided) if (nt > 1)
  for (int64_t ch = 0; ch < nchunks; ++ch) {
    const int64_t i0 = ch * chunk;
    body(i0, std::min(chunk, n - i0));
  }
}

template <typename T>
void unary_contiguous(UnaryOp op, const T* x, T* y, int64_t n) {
  const UnaryFn<T> fn = table<T>().unary[int(op)];
  // Math functions cost more per element than a copy: thread earlier for them.
  const int64_t chunk = op == UnaryOp::kRelu || op == UnaryOp::kAbs ? kChunk : 4096;
  for_chunks(n, chunk, chunk, [&](int64_t i0, int64_t len) { fn(x + i0, y + i0, len); });
}

template <typename T>
void clamp_contiguous(const T* x, T* y, int64_t n, T lo, T hi) {
  const ClampFn<T> fn = table<T>().clamp;
  for_chunks(n, kChunk, kChunk, [&](int64_t i0, int64_t len) { fn(x + i0, y + i0, len, lo, hi); });
}

template <typename T>
void lerp_contiguous(const T* a, const T* b, T* out, int64_t n, T w) {
  const LerpFn<T> fn = table<T>().lerp;
  for_chunks(n, kChunk, kChunk,
             [&](int64_t i0, int64_t len) { fn(a + i0, b + i0, out + i0, len, w); });
}

template <typename T>
void grad_contiguous(GradOp op, const T* x, const T* g, T* out, int64_t n, bool g_repeats) {
  const GradFn<T> fn = table<T>().grad[int(op)];
  // math per element: thread early, as unary_contiguous; g_repeats: g holds one chunk
  for_chunks(n, kGradChunk, kGradChunk, [&](int64_t i0, int64_t len) {
    fn(x + i0, g_repeats ? g : g + i0, out + i0, len);
  });
}

template <typename T>
void act_contiguous(ActOp op, const T* x, const T* g, T* out, int64_t n, const T* p,
                    bool g_repeats) {
  const ActFn<T> fn = g ? table<T>().act_bwd[int(op)] : table<T>().act[int(op)];
  for_chunks(n, kGradChunk, kChunk, [&](int64_t i0, int64_t len) {  // (g_repeats: one chunk)
    fn(x + i0, g ? (g_repeats ? g : g + i0) : nullptr, out + i0, len, p);
  });
}

template void act_contiguous<float>(ActOp, const float*, const float*, float*, int64_t,
                                    const float*, bool);
template void act_contiguous<double>(ActOp, const double*, const double*, double*, int64_t,
                                     const double*, bool);
template void grad_contiguous<float>(GradOp, const float*, const float*, float*, int64_t, bool);
template void grad_contiguous<double>(GradOp, const double*, const double*, double*, int64_t,
                                      bool);
template void binary_broadcast<float>(BinaryOp, const float*, const std::vector<int64_t>&,
                                      const float*, const std::vector<int64_t>&, float*,
                                      const std::vector<int64_t>&);
template void binary_broadcast<double>(BinaryOp, const double*, const std::vector<int64_t>&,
                                       const double*, const std::vector<int64_t>&, double*,
                                       const std::vector<int64_t>&);
template void unary_contiguous<float>(UnaryOp, const float*, float*, int64_t);
template void unary_contiguous<double>(UnaryOp, const double*, double*, int64_t);
template void clamp_contiguous<float>(const float*, float*, int64_t, float, float);
template void lerp_contiguous<float>(const float*, const float*, float*, int64_t, float);
template void lerp_contiguous<double>(const double*, const double*, double*, int64_t, double);
template void clamp_contiguous<double>(const double*, double*, int64_t, double, double);

}  // namespace autodiff::kernels
