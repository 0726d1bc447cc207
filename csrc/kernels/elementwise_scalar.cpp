// Scalar reference elementwise kernels (libm for the math functions).
#include <cmath>

#include "kernels/elementwise.h"

namespace autodiff::kernels {
namespace {

template <typename T, typename F>
void binary_loop(const T* a, const T* b, T* out, int64_t n, int64_t sa, int64_t sb, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * sa], b[i * sb]);
}

template <typename T>
void add(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  binary_loop(a, b, o, n, sa, sb, [](T x, T y) { return x + y; });
}
template <typename T>
void sub(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  binary_loop(a, b, o, n, sa, sb, [](T x, T y) { return x - y; });
}
template <typename T>
void mul(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  binary_loop(a, b, o, n, sa, sb, [](T x, T y) { return x * y; });
}
template <typename T>
void div(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  binary_loop(a, b, o, n, sa, sb, [](T x, T y) { return x / y; });
}

template <typename T>
void relu_bwd(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  binary_loop(a, b, o, n, sa, sb, [](T y, T g) { return g * T(y > T(0) ? 1 : 0); });
}

template <typename T>
void exp_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
template <typename T>
void log_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}
template <typename T>
void tanh_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
template <typename T>
void sigmoid_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v = x[i];
    T e = std::exp(-std::fabs(v));
    T r = T(1) / (T(1) + e);
    y[i] = v < T(0) ? e * r : r;
  }
}
template <typename T>
void relu_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v = x[i];
    y[i] = (v > T(0) || v != v) ? v : T(0);  // NaN propagates, as np.maximum(x, 0)
  }
}

}  // namespace

template <typename T>
void fill_elementwise_scalar(KernelTable<T>& t) {
  t.binary[int(BinaryOp::kAdd)] = add<T>;
  t.binary[int(BinaryOp::kSub)] = sub<T>;
  t.binary[int(BinaryOp::kMul)] = mul<T>;
  t.binary[int(BinaryOp::kDiv)] = div<T>;
  t.binary[int(BinaryOp::kReluBwd)] = relu_bwd<T>;
  for (int op = 0; op < kNumBinaryOps; ++op) t.binary_stream[op] = t.binary[op];
  t.unary[int(UnaryOp::kExp)] = exp_k<T>;
  t.unary[int(UnaryOp::kLog)] = log_k<T>;
  t.unary[int(UnaryOp::kTanh)] = tanh_k<T>;
  t.unary[int(UnaryOp::kSigmoid)] = sigmoid_k<T>;
  t.unary[int(UnaryOp::kRelu)] = relu_k<T>;
}
template void fill_elementwise_scalar<float>(KernelTable<float>&);
template void fill_elementwise_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
