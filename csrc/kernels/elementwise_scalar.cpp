// Scalar reference elementwise kernels (libm for the math functions).
#include <cmath>

#include "kernels/activation_ops.h"
#include "kernels/elementwise.h"
#include "kernels/remainder_ops.h"

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

template <typename T, bool Rem>
void fmod_k(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  rem::fmod_binary<T, Rem>(a, b, o, n, sa, sb);
}

template <typename T>
void relu_bwd(const T* a, const T* b, T* o, int64_t n, int64_t sa, int64_t sb) {
  binary_loop(a, b, o, n, sa, sb, [](T y, T g) { return y <= T(0) ? T(0) : g; });
}

// Below kExpZero exp rounds to +0 (float: exp(-104) < 2^-150; double: exp(-746) < 2^-1075):
// returned directly, as libm's underflow path (a tiny * tiny to raise the flag) took a
// microcode assist, twice the time of an ordinary exp.
template <typename T>
constexpr T kExpZero = sizeof(T) == 4 ? T(-104) : T(-746);

template <typename T>
void exp_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < kExpZero<T> ? T(0) : std::exp(x[i]);
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
void sqrt_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
}
template <typename T>
void erf_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}
// GELU (see elementwise_x86.cpp): x Phi(x) = x erfc(-x / sqrt 2) / 2, or the tanh form.
constexpr double kRsqrt2 = 0.70710678118654752, kRsqrt2Pi = 0.39894228040143268;
constexpr double kTanhC = 0.79788456080286536, kTanhA = 0.044715;

template <typename T>
T gelu_tanh_th(T x) {
  return std::tanh(T(kTanhC) * (x + T(kTanhA) * x * x * x));
}
// The erf forms in double, also for float: the float x / sqrt 2 alone is rounded enough to
// put a float erfc 20-200 ulp off in the tails.
template <typename T>
void gelu_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = T(0.5 * v * std::erfc(-v * kRsqrt2));
  }
}
template <typename T>
void gelu_tanh_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = T(0.5) * x[i] * (T(1) + gelu_tanh_th(x[i]));
}
template <typename T>
void gelu_grad_k(const T* x, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double cdf = 0.5 * std::erfc(-v * kRsqrt2);
    out[i] = g[i] * T(cdf + v * std::exp(-0.5 * v * v) * kRsqrt2Pi);
  }
}
template <typename T>
void gelu_tanh_grad_k(const T* x, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i], th = gelu_tanh_th(v);
    const T d = T(0.5) * (T(1) + th) +
                T(0.5) * v * (T(1) - th * th) * T(kTanhC) * (T(1) + T(3 * kTanhA) * v * v);
    out[i] = g[i] * d;
  }
}
template <typename T>
T sigmoid1(T v) {
  const T e = std::exp(-std::fabs(v)), r = T(1) / (T(1) + e);
  return v < T(0) ? e * r : r;
}
template <typename T>
void silu_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * sigmoid1(x[i]);
}
template <typename T>
void silu_grad_k(const T* x, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T s = sigmoid1(x[i]);
    out[i] = g[i] * (s * (T(1) + x[i] * (T(1) - s)));
  }
}
template <typename T>
void abs_grad_k(const T* x, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    out[i] = g[i] * (v > T(0) ? T(1) : v < T(0) ? T(-1) : T(0));  // sgn(NaN) = 0
  }
}
// Gradients from the output y: plain loops the compiler vectorizes (memory-bound anyway).
template <typename T>
void sigmoid_out_grad_k(const T* y, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * y[i] * (T(1) - y[i]);
}
template <typename T>
void tanh_out_grad_k(const T* y, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * (T(1) - y[i] * y[i]);
}
template <typename T>
void sqrt_out_grad_k(const T* y, const T* g, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] / (T(2) * y[i]);
}
template <typename T>
void relu_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = x[i] < T(0) ? T(0) : x[i];  // NaN and -0 stay, as PyTorch
  }
}

template <typename T>
void abs_k(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::abs(x[i]);
}

template <typename T>
void clamp_k(const T* x, T* y, int64_t n, T lo, T hi) {
  for (int64_t i = 0; i < n; ++i) {
    const T r = x[i] < lo ? lo : x[i];  // a NaN x fails both comparisons and stays
    y[i] = r > hi ? hi : r;
  }
}

template <typename T>
void lerp_k(const T* a, const T* b, T* out, int64_t n, T w) {
  const bool small = std::abs(w) < T(0.5);
  const T c = small ? w : w - T(1);
  const T* base = small ? a : b;
  for (int64_t i = 0; i < n; ++i) out[i] = std::fma(c, b[i] - a[i], base[i]);
}

template <typename T, ActOp Op, bool Bwd>
void act_k(const T* x, const T* g, T* out, int64_t n, const T* p) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = Bwd ? act::backward<Op>(x[i], g[i], p) : act::forward<Op>(x[i], p);
}

template <typename T, ActOp Op>
void set_act(KernelTable<T>& t) {
  if constexpr (Op != ActOp::kHardtanh) t.act[int(Op)] = act_k<T, Op, false>;
  t.act_bwd[int(Op)] = act_k<T, Op, true>;
}

}  // namespace

template <typename T>
void fill_elementwise_scalar(KernelTable<T>& t) {
  set_act<T, ActOp::kLeakyRelu>(t);
  set_act<T, ActOp::kHardtanh>(t);
  set_act<T, ActOp::kHardsigmoid>(t);
  set_act<T, ActOp::kHardswish>(t);
  set_act<T, ActOp::kHuber>(t);
  set_act<T, ActOp::kHardshrink>(t);
  set_act<T, ActOp::kSoftshrink>(t);
  set_act<T, ActOp::kThreshold>(t);
  set_act<T, ActOp::kSoftplus>(t);
  set_act<T, ActOp::kLogSigmoid>(t);
  set_act<T, ActOp::kElu>(t);
  set_act<T, ActOp::kCube>(t);
  t.unary[int(UnaryOp::kAbs)] = abs_k<T>;
  t.clamp = clamp_k<T>;
  t.lerp = lerp_k<T>;
  t.binary[int(BinaryOp::kAdd)] = add<T>;
  t.binary[int(BinaryOp::kSub)] = sub<T>;
  t.binary[int(BinaryOp::kMul)] = mul<T>;
  t.binary[int(BinaryOp::kDiv)] = div<T>;
  t.binary[int(BinaryOp::kReluBwd)] = relu_bwd<T>;
  t.binary[int(BinaryOp::kFmod)] = fmod_k<T, false>;
  t.binary[int(BinaryOp::kRemainder)] = fmod_k<T, true>;
  for (int op = 0; op < kNumBinaryOps; ++op) t.binary_stream[op] = t.binary[op];
  t.unary[int(UnaryOp::kExp)] = exp_k<T>;
  t.unary[int(UnaryOp::kLog)] = log_k<T>;
  t.unary[int(UnaryOp::kTanh)] = tanh_k<T>;
  t.unary[int(UnaryOp::kSigmoid)] = sigmoid_k<T>;
  t.unary[int(UnaryOp::kRelu)] = relu_k<T>;
  t.unary[int(UnaryOp::kErf)] = erf_k<T>;
  t.unary[int(UnaryOp::kSqrt)] = sqrt_k<T>;
  t.unary[int(UnaryOp::kGelu)] = gelu_k<T>;
  t.unary[int(UnaryOp::kGeluTanh)] = gelu_tanh_k<T>;
  t.grad[int(GradOp::kGelu)] = gelu_grad_k<T>;
  t.grad[int(GradOp::kGeluTanh)] = gelu_tanh_grad_k<T>;
  t.unary[int(UnaryOp::kSilu)] = silu_k<T>;
  t.grad[int(GradOp::kSilu)] = silu_grad_k<T>;
  t.grad[int(GradOp::kAbs)] = abs_grad_k<T>;
  t.grad[int(GradOp::kSigmoidOut)] = sigmoid_out_grad_k<T>;
  t.grad[int(GradOp::kTanhOut)] = tanh_out_grad_k<T>;
  t.grad[int(GradOp::kSqrtOut)] = sqrt_out_grad_k<T>;
}
template void fill_elementwise_scalar<float>(KernelTable<float>&);
template void fill_elementwise_scalar<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
