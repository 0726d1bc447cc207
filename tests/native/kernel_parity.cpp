// Kernel parity test, no Python: every SIMD level this CPU supports (avx2 on x86, neon on
// AArch64, e.g. under qemu-user) against the scalar level, through the driver functions the
// bindings call (broadcast binary ops, unary math and its gradients, reductions along an
// axis, softmax / log_softmax forward and backward on any axis, layer norm forward and
// backward, batch norm statistics and backward, GEMM with transposed and batched operands,
// the LSTM and GRU time loops forward and backward),
// float32 and float64, on odd sizes.  Then the float32 vector math against float64 libm.
//
// Errors are in ulps: |got - ref| / (eps * max(|ref|, floor)) with eps the dtype's machine
// epsilon, so a relative error in units of eps above the floor and an absolute one below it
// (each check states its floor).  GEMM measures |got - ref| / (eps * sum_k |a_ik b_kj|).
// Prints checks run and max error per kernel; exits 1 on any error above its tolerance.
//
// Built and run by tools/neon_check.sh (aarch64 under qemu, and native under ASan + UBSan):
//   g++ -std=c++17 -O2 -fopenmp -Icsrc tests/native/kernel_parity.cpp csrc/dispatch.cpp
//       csrc/kernels/*.cpp -o kernel_parity && ./kernel_parity
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "dispatch.h"
#include "kernels/buffers.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/norm.h"
#include "kernels/reduce.h"
#include "kernels/rnn.h"
#include "kernels/softmax.h"

namespace k = autodiff::kernels;
using k::SimdLevel;

namespace {

constexpr int64_t kSizes[] = {0, 1, 3, 7, 17, 31, 33, 1023, 1025};
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Stat {
  int64_t checks = 0, failures = 0;
  double max_err = 0, tol = 0;
};
std::map<std::string, Stat> g_stats;  // by "kernel dtype"
int g_reported = 0;                   // failures printed in full

template <typename T>
const char* dtype_name() {
  return sizeof(T) == 4 ? "f32" : "f64";
}

template <typename T>
std::vector<T> random_vec(std::mt19937& rng, int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(size_t(std::max<int64_t>(n, 0)));
  for (auto& x : v) x = T(u(rng));
  return v;
}

// Error of one element in ulps (see the top of the file); NaN must meet NaN, inf the same inf.
template <typename T>
double ulps(T got, T ref, double floor) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got) ? 0 : kInf;
  if (got == ref) return 0;
  if (std::isinf(ref) || std::isinf(got)) return kInf;
  const double eps = std::numeric_limits<T>::epsilon();
  return std::abs(double(got) - double(ref)) / (eps * std::max(std::abs(double(ref)), floor));
}

// One check: got (at `level`) against ref (scalar), element i measured with floor(i).
template <typename T>
void compare(const std::string& kernel, const std::string& level, const std::string& shape,
             const std::vector<T>& got, const std::vector<T>& ref, double tol,
             const std::function<double(size_t)>& floor) {
  Stat& s = g_stats[kernel + " " + dtype_name<T>()];
  s.tol = tol;
  ++s.checks;
  double worst = got.size() == ref.size() ? 0 : kInf;
  size_t at = 0;
  for (size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    const double e = ulps(got[i], ref[i], floor(i));
    if (e > worst || std::isnan(e)) worst = e, at = i;
  }
  s.max_err = std::max(s.max_err, worst);
  if (worst <= tol) return;
  ++s.failures;
  if (g_reported++ < 20)
    std::printf("FAIL %s %s [%s] %s: element %zu got %.9g ref %.9g (%.3g ulps > %g)\n",
                kernel.c_str(), dtype_name<T>(), level.c_str(), shape.c_str(), at,
                at < got.size() ? double(got[at]) : 0.0, at < ref.size() ? double(ref[at]) : 0.0,
                worst, tol);
}

template <typename T>
void compare(const std::string& kernel, const std::string& level, const std::string& shape,
             const std::vector<T>& got, const std::vector<T>& ref, double tol, double floor) {
  compare<T>(kernel, level, shape, got, ref, tol, [floor](size_t) { return floor; });
}

// Largest |v|: the floor of a norm-wise check (errors relative to the output's scale).
template <typename T>
double max_abs(const std::vector<T>& v) {
  double m = 0;
  for (T x : v) m = std::max(m, std::abs(double(x)));
  return m;
}

// f() run at the scalar level (reference) and at `level`.
template <typename F>
auto both(SimdLevel level, F f) {
  k::set_simd(SimdLevel::kScalar);
  auto ref = f();
  k::set_simd(level);
  return std::make_pair(f(), ref);
}

std::string dims(std::initializer_list<int64_t> d) {
  std::string s;
  for (int64_t x : d) s += (s.empty() ? "" : "x") + std::to_string(x);
  return s;
}

// ---- elementwise ----

template <typename T>
void check_binary(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  const char* names[] = {"add", "sub", "mul", "div", "relu_bwd", "fmod", "remainder"};
  // (rows, n, a broadcast along rows / columns, b likewise), and one output large enough for
  // the streaming-store variants (kStreamBytes).
  std::vector<int64_t> ns(std::begin(kSizes), std::end(kSizes));
  ns.push_back(k::kStreamBytes / int64_t(sizeof(T)) + 7);
  for (int op = 0; op < k::kNumBinaryOps; ++op)
    for (int64_t n : ns)
      for (int form = 0; form < (n > 4096 ? 1 : 4); ++form) {
        // form 0: same shape; 1: a scalar; 2: b scalar; 3: (3, n) = a (3, 1) op b (n)
        const int64_t rows = form == 3 ? 3 : 1;
        std::vector<int64_t> shape = {rows, n}, sa = {n, 1}, sb = {n, 1};
        int64_t na = rows * n, nb = rows * n;
        if (form == 1) sa = {0, 0}, na = 1;
        if (form == 2) sb = {0, 0}, nb = 1;
        if (form == 3) sa = {1, 0}, na = 3, sb = {0, 1}, nb = n;
        auto a = random_vec<T>(rng, na, -2, 2), b = random_vec<T>(rng, nb, 0.5, 2);
        for (size_t i = 0; i < b.size(); i += 2) b[i] = -b[i];  // divisors away from 0
        const auto r = both(level, [&] {
          std::vector<T> out(size_t(rows * n));
          k::binary_broadcast<T>(k::BinaryOp(op), a.data(), sa, b.data(), sb, out.data(), shape);
          return out;
        });
        compare<T>(std::string("binary_") + names[op], lv,
                   dims({rows, n}) + " form " + std::to_string(form), r.first, r.second, 0, 0);
      }
}

// Inputs of a unary op: uniform over [lo, hi] (log-uniform when log_scale), the special
// values appended to the largest size.
struct UnaryCase {
  const char* name;
  double lo, hi;
  bool log_scale;
  double tol_f32;
};

template <typename T>
std::vector<T> unary_inputs(std::mt19937& rng, const UnaryCase& c, int64_t n) {
  std::vector<T> x = random_vec<T>(rng, n, c.log_scale ? std::log(c.lo) : c.lo,
                                   c.log_scale ? std::log(c.hi) : c.hi);
  if (c.log_scale)
    for (auto& v : x) v = T(std::exp(double(v)));
  if (n >= 1023) {
    const T special[] = {T(0),
                         -T(0),
                         T(kInf),
                         -T(kInf),
                         T(NAN),
                         std::numeric_limits<T>::denorm_min(),
                         std::numeric_limits<T>::min() / 3,
                         T(-1e-3),
                         T(1e-3)};
    std::copy(std::begin(special), std::end(special), x.begin() + 5);
  }
  return x;
}

template <typename T>
void check_unary(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  const double tiny = std::numeric_limits<T>::min();  // subnormal results: ulps of FLT_MIN
  // Tolerances: float32 vector math vs libm is a few ulps each way, except gelu's x << 0
  // tail, x exp(Q - x^2/2) / 2 from the erfc fit: the roundings of x / sqrt(2) and of its
  // square reach exp's argument as up to 3x^2/4 ulps (108 at |x| = 12; 33-56 measured).
  // float64 math stays on libm at every level (bitwise equal); relu and sqrt are exact.
  const UnaryCase cases[k::kNumUnaryOps] = {
      {"exp", -103, 88.7, false, 4},  {"log", 1e-37, 1e37, true, 4},    {"tanh", -10, 10, false, 6},
      {"sigmoid", -80, 80, false, 6}, {"relu", -5, 5, false, 0},        {"erf", -6, 6, false, 6},
      {"gelu", -12, 12, false, 128},  {"gelu_tanh", -12, 12, false, 8}, {"silu", -20, 20, false, 8},
      {"sqrt", 0, 1e6, false, 0},     {"abs", -5, 5, false, 0}};
  for (int op = 0; op < k::kNumUnaryOps; ++op) {
    const UnaryCase& c = cases[op];
    const double tol = sizeof(T) == 4 ? c.tol_f32 : 0;
    const bool cancels = k::UnaryOp(op) == k::UnaryOp::kGeluTanh;  // 1 + tanh for x << 0
    for (int64_t n : kSizes) {
      const auto x = unary_inputs<T>(rng, c, n);
      const auto r = both(level, [&] {
        std::vector<T> y(x.size());
        k::unary_contiguous<T>(k::UnaryOp(op), x.data(), y.data(), n);
        return y;
      });
      // gelu_tanh: floor |x| / 2, the size of the terms 1 + tanh cancels in
      compare<T>(std::string("unary_") + c.name, lv, dims({n}), r.first, r.second, tol,
                 [&](size_t i) { return cancels ? 0.5 * std::abs(double(x[i])) : tiny; });
    }
  }
  // Gradients g * f'(x): f' crosses zero (gelu, silu) or cancels (gelu_tanh), so the floor is
  // |g| (the scale of the product).
  const char* grads[k::kNumGradOps] = {"gelu",        "gelu_tanh", "silu",    "abs",
                                       "sigmoid_out", "tanh_out",  "sqrt_out"};
  const double grad_tol[k::kNumGradOps] = {16, 16, 8, 0, 0, 0, 0};
  for (int op = 0; op < k::kNumGradOps; ++op)
    for (int64_t n : kSizes) {
      const bool out_form = op >= int(k::GradOp::kSigmoidOut);
      const auto x = random_vec<T>(rng, n, out_form ? 0.01 : -8, out_form ? 0.99 : 8);
      const auto g = random_vec<T>(rng, n, -2, 2);
      const auto r = both(level, [&] {
        std::vector<T> out(x.size());
        k::grad_contiguous<T>(k::GradOp(op), x.data(), g.data(), out.data(), n);
        return out;
      });
      compare<T>(std::string("grad_") + grads[op], lv, dims({n}), r.first, r.second,
                 sizeof(T) == 4 ? grad_tol[op] : 0,
                 [&](size_t i) { return std::abs(double(g[i])); });
    }
  // Clamp: exact; bounds crossed (lo > hi gives hi) and infinite.
  const std::pair<T, T> bounds[] = {{T(-1), T(2)}, {T(0.5), T(-0.5)}, {-INFINITY, T(0)}};
  for (const auto& [lo, hi] : bounds)
    for (int64_t n : kSizes) {
      const auto x = random_vec<T>(rng, n, -3, 3);
      const auto r = both(level, [&] {
        std::vector<T> y(x.size());
        k::clamp_contiguous<T>(x.data(), y.data(), n, lo, hi);
        return y;
      });
      compare<T>("clamp", lv, dims({n}), r.first, r.second, 0, [](size_t) { return 1.0; });
    }
  // lerp with one weight: the same fma at every level, both forms.
  for (T w : {T(0.3), T(0.7), T(-2)})
    for (int64_t n : kSizes) {
      const auto a = random_vec<T>(rng, n, -3, 3), b = random_vec<T>(rng, n, -50, 50);
      const auto r = both(level, [&] {
        std::vector<T> y(a.size());
        k::lerp_contiguous<T>(a.data(), b.data(), y.data(), n, w);
        return y;
      });
      compare<T>("lerp", lv, dims({n}), r.first, r.second, 0, [](size_t) { return 1.0; });
    }
  // The ActOp activations, forward and backward: the piecewise ones exact, the float32
  // transcendental ones (softplus, log-sigmoid, ELU) vector math against libm.
  const char* acts[k::kNumActOps] = {"leaky_relu", "hardtanh",   "hardsigmoid", "hardswish",
                                     "huber",      "hardshrink", "softshrink",  "threshold",
                                     "softplus",   "logsigmoid", "elu",         "cube"};
  const T params[k::kNumActOps][k::kNumActParams] = {
      {T(0.1), 0, 0},      {T(-2), T(3), 0},  {0, 0, 0},     {0, 0, 0},
      {T(1.5), T(0.5), 0}, {T(8), 0, 0},      {T(8), 0, 0},  {T(3), T(-7), 0},
      {T(1.5), T(12), 0},  {0, 0, 0},         {T(1.6732632), T(1.0507010), T(0.7)},
      {0, 0, 0}};
  for (int op = 0; op < k::kNumActOps; ++op)
    for (int bwd = 0; bwd < 2; ++bwd)
      for (int64_t n : kSizes) {
        const auto op_ = k::ActOp(op);
        if (op_ == k::ActOp::kHardtanh && !bwd) continue;  // (its forward is clamp)
        const auto x = random_vec<T>(rng, n, -30, 30), g = random_vec<T>(rng, n, -2, 2);
        const auto r = both(level, [&] {
          std::vector<T> out(x.size());
          k::act_contiguous<T>(op_, x.data(), bwd ? g.data() : nullptr, out.data(), n, params[op]);
          return out;
        });
        const double tol = sizeof(T) == 4 && k::act_is_transcendental(op_) ? 4 : 0;
        compare<T>(std::string("act_") + acts[op] + (bwd ? "_bwd" : ""), lv, dims({n}), r.first,
                   r.second, tol, [&](size_t i) { return bwd ? std::abs(double(g[i])) : tiny; });
      }
}

// ---- reductions, softmax, norms: arrays viewed as (outer, n, inner) ----

struct Axis {
  int64_t outer, inner;
};
// inner 32 and 300: the column sums' register bands (three rows grouped into one band; four
// bands and a scalar tail of four columns, in tiles of rows)
constexpr Axis kAxes[] = {{1, 1}, {3, 1}, {2, 5}, {1, 17}, {3, 32}, {1, 300}};

template <typename T>
void check_reduce(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  // Data in [2, 4]: no cancellation, so the summation order alone sets the error; float32
  // rows are summed in float32 blocks of 2048 (SIMD lanes) vs float64 (scalar).
  const double tol_sum = sizeof(T) == 4 ? 16 : 64;
  const char* names[] = {"sum", "mean", "max", "var"};
  for (const Axis& ax : kAxes)
    for (int64_t n : kSizes) {
      const int64_t total = ax.outer * n * ax.inner;
      const std::string shape = dims({ax.outer, n, ax.inner});
      const auto x = random_vec<T>(rng, total, 2, 4), y = random_vec<T>(rng, total, 2, 4);
      for (int op = 0; op < 4; ++op) {
        if (op == int(k::ReduceOp::kMax) && n == 0) continue;  // rejected by the binding
        const auto r = both(level, [&] {
          std::vector<T> out(size_t(ax.outer * ax.inner));
          k::reduce_axis<T>(k::ReduceOp(op), x.data(), ax.outer, n, ax.inner, out.data(), 1.0);
          return out;
        });
        compare<T>(std::string("reduce_") + names[op], lv, shape, r.first, r.second,
                   op == int(k::ReduceOp::kMax) ? 0 : tol_sum, 0);
      }
      const auto r = both(level, [&] {
        std::vector<T> out(size_t(ax.outer * ax.inner));
        k::mul_sum_axis<T>(x.data(), y.data(), ax.outer, n, ax.inner, out.data());
        return out;
      });
      compare<T>("mul_sum_axis", lv, shape, r.first, r.second, tol_sum, 0);
    }
}

template <typename T>
void check_softmax(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  const double tiny = std::numeric_limits<T>::min();
  for (const Axis& ax : kAxes)
    for (int64_t n : kSizes)
      for (bool log : {false, true}) {
        const int64_t total = ax.outer * n * ax.inner;
        const std::string shape = dims({ax.outer, n, ax.inner});
        const std::string name = log ? "log_softmax" : "softmax";
        const auto x = random_vec<T>(rng, total, -10, 10);
        const auto gy = random_vec<T>(rng, total, -1, 1);
        const auto fwd = both(level, [&] {
          std::vector<T> y(x.size());
          k::softmax_axis<T>(x.data(), y.data(), ax.outer, n, ax.inner, log);
          return y;
        });
        // softmax: relative (exp's few ulps, one rounding of the scale); log_softmax: x - lse,
        // absolute below 1.
        compare<T>(name, lv, shape, fwd.first, fwd.second, 8, log ? 1.0 : tiny);
        const auto bwd = both(level, [&] {
          std::vector<T> gx(x.size());
          k::softmax_backward_axis<T>(fwd.second.data(), gy.data(), gx.data(), ax.outer, n,
                                      ax.inner, log);
          return gx;
        });
        // gy - sum cancels: norm-wise, relative to the largest |gx| or, where every gx is
        // small beside them, to the terms (y gy and y sum; gy and exp(y) sum): a sum one ulp
        // off moves gx by y ulp(sum), thousands of ulps of a 3-element row's max |gx|.
        const double terms = log ? max_abs(gy) : max_abs(gy) * max_abs(fwd.second);
        compare<T>(name + "_bwd", lv, shape, bwd.first, bwd.second, 16,
                   std::max(max_abs(bwd.second), terms));
      }
}

// A kernel's output of `n` elements written into a 64-byte-aligned buffer, as the Python
// bindings allocate large outputs: the pipelined row kernels (row_pipeline.h) need it.
template <typename T, typename F>
std::vector<T> into_aligned(size_t n, F write) {
  k::AlignedBuffer<T> buf(n);
  write(buf.get());
  return std::vector<T>(buf.get(), buf.get() + n);
}

// Rows of at most 16 KiB whose length is a multiple of 16 take the software-pipelined row
// kernels (row r - 1 written inside row r's first pass), with non-temporal stores from 16 MiB
// on.  With rows >= 9, an all -inf row, a NaN and a row outside the shifted exp's range sit
// between ordinary rows (softmax hands them to its one-row kernel).
template <typename T>
void check_pipelined_rows(SimdLevel level, std::mt19937& rng, int64_t rows, int64_t n) {
  const std::string lv = k::simd_level_name(level);
  const int64_t total = rows * n;
  const std::string shape = dims({rows, n}) + " pipelined";
  auto x = random_vec<T>(rng, total, -10, 10);
  const auto gy = random_vec<T>(rng, total, -1, 1);
  const auto w = random_vec<T>(rng, n, 0.5, 1.5), b = random_vec<T>(rng, n, -1, 1);
  if (rows >= 9) {
    for (int64_t i = 0; i < n; ++i) x[size_t(5 * n + i)] = -kInf;
    x[size_t(6 * n + std::min<int64_t>(3, n - 1))] = std::numeric_limits<T>::quiet_NaN();
    // (the one-row kernel rounds x - max: keep that small where exp does not underflow)
    for (int64_t i = 0; i < n; ++i) x[size_t(7 * n + i)] = i < n / 8 ? T(i % 5) : T(-200);
  }
  for (bool log : {false, true}) {
    const std::string name = log ? "log_softmax" : "softmax";
    const auto fwd = both(level, [&] {
      return into_aligned<T>(size_t(total), [&](T* y) {
        k::softmax_axis<T>(x.data(), y, rows, n, 1, log);
      });
    });
    compare<T>(name, lv, shape, fwd.first, fwd.second, 8, log ? 1.0 : 0.0);
    const auto bwd = both(level, [&] {
      return into_aligned<T>(size_t(total), [&](T* gx) {
        k::softmax_backward_axis<T>(fwd.second.data(), gy.data(), gx, rows, n, 1, log);
      });
    });
    // gy - d cancels, and d's rounding is relative to gy's scale (|d| <= max |gy|): a row of
    // 10 float64 whose largest |gx| was 0.009 came out 23 ulps of it off on NEON
    compare<T>(name + "_bwd", lv, shape, bwd.first, bwd.second, 16,
               std::max(max_abs(bwd.second), max_abs(gy)));
  }
  if (rows >= 9)
    for (int64_t i = 0; i < 3 * n; ++i) x[size_t(5 * n + i)] = T(i % 7);  // finite rows again
  for (int affine : {0, 1, 3}) {  // bit 0: w, bit 1: b
    const T* wp = affine & 1 ? w.data() : nullptr;
    const T* bp = affine & 2 ? b.data() : nullptr;
    const std::string form = shape + " affine " + std::to_string(affine);
    std::vector<T> stats(size_t(2 * rows));
    const auto fwd = both(level, [&] {
      auto y = into_aligned<T>(size_t(total), [&](T* out) {
        k::layer_norm_forward<T>(x.data(), wp, bp, out, stats.data(), stats.data() + rows, rows,
                                 n, T(1e-5));
      });
      y.insert(y.end(), stats.begin(), stats.end());
      return y;
    });
    compare<T>("layer_norm", lv, form, fwd.first, fwd.second, sizeof(T) == 4 ? 16 : 64, 1.0);
    const T* mean = fwd.second.data() + total;
    const auto bwd = both(level, [&] {
      std::vector<T> gwb(size_t(2 * n));
      auto gx = into_aligned<T>(size_t(total), [&](T* out) {
        k::layer_norm_backward<T>(gy.data(), x.data(), mean, mean + rows, wp, out,
                                  wp ? gwb.data() : nullptr, wp ? gwb.data() + n : nullptr, rows,
                                  n);
      });
      gx.insert(gx.end(), gwb.begin(), gwb.end());
      return gx;
    });
    const double scale = max_abs(std::vector<T>(mean + rows, mean + 2 * rows)) * max_abs(gy) *
                         (wp ? max_abs(w) : 1.0);
    compare<T>("layer_norm_bwd", lv, form, bwd.first, bwd.second, 32,
               std::max(scale, max_abs(bwd.second)));
  }
}

template <typename T>
void check_layer_norm(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  for (int64_t rows : {1, 3, 17})
    for (int64_t n : kSizes) {
      if (n == 0) continue;  // rejected by the binding
      const std::string shape = dims({rows, n});
      const auto x = random_vec<T>(rng, rows * n, -2, 3), gy = random_vec<T>(rng, rows * n, -1, 1);
      const auto w = random_vec<T>(rng, n, 0.5, 1.5), b = random_vec<T>(rng, n, -1, 1);
      for (int affine = 0; affine < 4; ++affine) {  // bit 0: w, bit 1: b
        const T* wp = affine & 1 ? w.data() : nullptr;
        const T* bp = affine & 2 ? b.data() : nullptr;
        const std::string form = shape + " affine " + std::to_string(affine);
        // y, then mean and rstd appended
        const auto fwd = both(level, [&] {
          std::vector<T> out(size_t(rows * n + 2 * rows));
          T* stats = out.data() + rows * n;
          k::layer_norm_forward<T>(x.data(), wp, bp, out.data(), stats, stats + rows, rows, n,
                                   T(1e-5));
          return out;
        });
        // statistics summed in another order: float64 loses more ulps of its own eps
        compare<T>("layer_norm", lv, form, fwd.first, fwd.second, sizeof(T) == 4 ? 16 : 64, 1.0);
        if (affine == 2) continue;  // the backward takes w or nothing
        const T* mean = fwd.second.data() + rows * n;
        const auto bwd = both(level, [&] {  // gx, then gw and gb (with w) appended
          std::vector<T> out(size_t(rows * n + 2 * n));
          T* gw = wp ? out.data() + rows * n : nullptr;
          k::layer_norm_backward<T>(gy.data(), x.data(), mean, mean + rows, wp, out.data(), gw,
                                    gw ? gw + n : nullptr, rows, n);
          return out;
        });
        // gx = rstd (g - mean(g) - xhat mean(g xhat)) cancels (to 0 for n = 1): relative to
        // the terms' scale max(rstd) max|g|, or the largest output (gw, gb)
        const double scale = max_abs(std::vector<T>(mean + rows, mean + 2 * rows)) * max_abs(gy) *
                             (wp ? max_abs(w) : 1.0);
        compare<T>("layer_norm_bwd", lv, form, bwd.first, bwd.second, 32,
                   std::max(scale, max_abs(bwd.second)));
      }
    }
}

template <typename T>
void check_batch_norm(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  // float64 statistics are summed in another order (and float32 ones in float64)
  const double tol_stats = sizeof(T) == 4 ? 16 : 64;
  const int64_t shapes[][3] = {{1, 3, 1},    {4, 3, 17}, {2, 5, 33},  {3, 2, 1025},
                               {1025, 3, 1}, {7, 31, 7}, {1, 1, 1023}};
  for (const auto& s : shapes) {
    const int64_t outer = s[0], c = s[1], inner = s[2], total = outer * c * inner;
    const std::string shape = dims({outer, c, inner});
    const auto x = random_vec<T>(rng, total, -2, 3), gy = random_vec<T>(rng, total, -1, 1);
    const auto w = random_vec<T>(rng, c, 0.5, 1.5);
    const auto stats = both(level, [&] {  // mean, then var
      std::vector<T> out(size_t(2 * c));
      k::channel_stats<T>(x.data(), outer, c, inner, out.data(), out.data() + c);
      return out;
    });
    compare<T>("batch_norm_stats", lv, shape, stats.first, stats.second, tol_stats, 1.0);
    std::vector<T> rstd(static_cast<size_t>(c));
    for (int64_t j = 0; j < c; ++j) rstd[j] = T(1 / std::sqrt(double(stats.second[c + j]) + 1e-5));
    const auto bwd = both(level, [&] {  // gx, gw, gb
      std::vector<T> out(size_t(total + 2 * c));
      k::batch_norm_backward_channels<T>(gy.data(), x.data(), stats.second.data(), rstd.data(),
                                         w.data(), outer, c, inner, out.data(), out.data() + total,
                                         out.data() + total + c);
      return out;
    });
    // as layer_norm_bwd: relative to max(rstd) max|gy| max|w|, or the largest output
    const double scale = max_abs(rstd) * max_abs(gy) * max_abs(w);
    compare<T>("batch_norm_bwd", lv, shape, bwd.first, bwd.second, sizeof(T) == 4 ? 32 : 64,
               std::max(scale, max_abs(bwd.second)));
  }
}

// ---- GEMM ----

// C (m x n, leading dimension ldc; the columns past n must stay untouched) = A @ B, A and B
// stored transposed or not, `batch` products with B broadcast (stride 0) over the batch.
template <typename T>
void check_gemm_case(SimdLevel level, std::mt19937& rng, int64_t m, int64_t n, int64_t kk, bool ta,
                     bool tb, int64_t batch, int threads) {
  const int64_t ldc = n + 3;
  const auto a = random_vec<T>(rng, batch * m * kk, -1, 1), b = random_vec<T>(rng, kk * n, -1, 1);
  // element strides: A (m x k) row-major or its transpose stored (k x m)
  const int64_t rsa = ta ? 1 : kk, csa = ta ? m : 1, rsb = tb ? 1 : n, csb = tb ? kk : 1;
  const auto r = both(level, [&] {
    std::vector<T> c(size_t(batch * m * ldc), T(-7));
    for (int64_t p = 0; p < batch; ++p)
      k::gemm<T>(m, n, kk, a.data() + p * m * kk, rsa, csa, b.data(), rsb, csb,
                 c.data() + p * m * ldc, ldc, threads);
    return c;
  });
  std::vector<double> scale(r.second.size(), 0.0);  // sum_k |a_ik b_kj|
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t q = 0; q < kk; ++q)
          s += std::abs(double(a[p * m * kk + i * rsa + q * csa]) * double(b[q * rsb + j * csb]));
        scale[size_t(p * m * ldc + i * ldc + j)] = s;
      }
  const std::string shape = dims({batch, m, n, kk}) + (ta ? " At" : "") + (tb ? " Bt" : "") +
                            " threads " + std::to_string(threads);
  // Both sides round each of the k products' partial sums differently: about 1 ulp of the
  // magnitude sum in practice (2.06 seen on 31 x 1025 x 17, float64), k at worst.
  compare<T>("gemm", k::simd_level_name(level), shape, r.first, r.second, 4,
             [&](size_t i) { return scale[i]; });
}

template <typename T>
void check_gemm(SimdLevel level, std::mt19937& rng) {
  // Every combination of small odd sizes (the small-GEMM, narrow and vector paths, edge tiles),
  // in all four layouts, single-threaded and with two threads (the packed path).
  const int64_t small[] = {0, 1, 3, 7, 17, 33};
  for (int64_t m : small)
    for (int64_t n : small)
      for (int64_t kk : small)
        for (int layout = 0; layout < 4; ++layout)
          check_gemm_case<T>(level, rng, m, n, kk, layout & 1, layout & 2, 1, 1 + layout / 2);
  // One long dimension at a time (the remaining sizes), and batched products.
  const int64_t large[][3] = {{1023, 31, 33}, {31, 1025, 17}, {17, 33, 1025}, {1025, 1, 31},
                              {1, 1023, 33},  {33, 17, 1023}, {129, 67, 257}};
  for (const auto& d : large)
    for (int layout = 0; layout < 4; ++layout)
      for (int threads : {1, 2})
        check_gemm_case<T>(level, rng, d[0], d[1], d[2], layout & 1, layout & 2, 1, threads);
  for (int layout = 0; layout < 4; ++layout)
    check_gemm_case<T>(level, rng, 17, 31, 33, layout & 1, layout & 2, 3, 1);
}

// ---- LSTM and GRU time loops (the step GEMM and the cell kernels) ----

// Every output of an RNN kernel, each measured norm-wise (relative to its largest element):
// the vector cells' sigmoid and tanh differ from libm's by a few ulps, and every step carries
// the differences on through its GEMM.
template <typename T>
void compare_outputs(const std::string& kernel, const std::string& level, const std::string& shape,
                     const std::vector<std::vector<T>>& got,
                     const std::vector<std::vector<T>>& ref) {
  for (size_t i = 0; i < ref.size(); ++i)
    compare<T>(kernel, level, shape + " out " + std::to_string(i), got[i], ref[i], 64,
               std::max(max_abs(ref[i]), 1e-3));
}

template <typename T>
void check_rnn(SimdLevel level, std::mt19937& rng) {
  const std::string lv = k::simd_level_name(level);
  const int64_t shapes[][3] = {{3, 2, 1}, {4, 3, 17}, {2, 5, 33}, {3, 1, 48}, {2, 9, 20}};
  for (const auto& s : shapes)
    for (int variant = 0; variant < 2; ++variant) {  // forward with bias; reverse without
      const int64_t L = s[0], N = s[1], H = s[2];
      const bool reverse = variant == 1;
      const std::string shape = dims({L, N, H}) + (reverse ? " reverse" : " bias");
      const auto h0 = random_vec<T>(rng, N * H, -1, 1), c0 = random_vec<T>(rng, N * H, -1, 1);
      const double sc = 1 / std::sqrt(double(H));
      for (int G : {4, 3}) {  // LSTM, GRU
        const auto xs = random_vec<T>(rng, L * N * G * H, -2, 2);
        const auto w = random_vec<T>(rng, G * H * H, -sc, sc);
        const auto b = random_vec<T>(rng, G * H, -0.5, 0.5);
        const T* bp = reverse ? nullptr : b.data();
        const int64_t yw = G == 4 ? 2 * H : H;  // y's row: [h | c] or h
        // y, act, tc (LSTM) or hn (GRU)
        const auto fwd = both(level, [&] {
          std::vector<std::vector<T>> o = {std::vector<T>(size_t(L * N * yw)),
                                           std::vector<T>(size_t(L * N * G * H)),
                                           std::vector<T>(size_t(L * N * H))};
          if (G == 4)
            k::lstm_forward<T>(L, N, H, xs.data(), h0.data(), c0.data(), w.data(), bp, reverse,
                               o[0].data(), o[1].data(), o[2].data());
          else
            k::gru_forward<T>(L, N, H, xs.data(), h0.data(), w.data(), bp, reverse, o[0].data(),
                              o[1].data(), o[2].data());
          return o;
        });
        const char* name = G == 4 ? "lstm" : "gru";
        compare_outputs<T>(name, lv, shape, fwd.first, fwd.second);
        const auto& f = fwd.second;  // the backward at both levels from the scalar forward
        const auto gy = random_vec<T>(rng, L * N * yw, -1, 1);
        const auto bwd = both(level, [&] {  // dx, dh0, dw, db (and dc0 for the LSTM)
          std::vector<std::vector<T>> o = {
              std::vector<T>(size_t(L * N * G * H)), std::vector<T>(size_t(N * H)),
              std::vector<T>(size_t(G * H * H)), std::vector<T>(size_t(G * H)),
              std::vector<T>(size_t(N * H))};
          if (G == 4)
            k::lstm_backward<T>(L, N, H, gy.data(), f[0].data(), f[1].data(), f[2].data(),
                                h0.data(), c0.data(), w.data(), reverse, o[0].data(),
                                o[1].data(), o[4].data(), o[2].data(), o[3].data());
          else
            k::gru_backward<T>(L, N, H, gy.data(), f[0].data(), f[1].data(), f[2].data(),
                               h0.data(), w.data(), reverse, o[0].data(), o[1].data(),
                               o[2].data(), o[3].data());
          return o;
        });
        compare_outputs<T>(std::string(name) + "_bwd", lv, shape, bwd.first, bwd.second);
      }
    }
}

// ---- float32 vector math against float64 libm ----

// Max error in float32 ulps of the true value (the spacing of floats at it) over 250k
// points, at the current level: exp, log, tanh, sigmoid, erf on the ranges of
// docs/benchmarks.md's accuracy table.
void measure_math_ulps(SimdLevel level, bool gate) {
  struct Fn {
    const char* name;
    k::UnaryOp op;
    double lo, hi;
    bool log_scale;
    double (*truth)(double);
  };
  const Fn fns[] = {
      {"exp [-103, 88.7]", k::UnaryOp::kExp, -103, 88.7, false,
       [](double x) { return std::exp(x); }},
      {"log [1e-37, 1e37]", k::UnaryOp::kLog, 1e-37, 1e37, true,
       [](double x) { return std::log(x); }},
      {"tanh [-10, 10]", k::UnaryOp::kTanh, -10, 10, false, [](double x) { return std::tanh(x); }},
      {"sigmoid [-80, 80]", k::UnaryOp::kSigmoid, -80, 80, false,
       [](double x) { return 1 / (1 + std::exp(-x)); }},
      {"erf [-6, 6]", k::UnaryOp::kErf, -6, 6, false, [](double x) { return std::erf(x); }}};
  constexpr int64_t kPoints = 250000;
  k::set_simd(level);
  std::printf("float32 math, %s level, max ulps vs float64 libm:",
              k::simd_level_name(level).c_str());
  for (const Fn& f : fns) {
    std::vector<float> x(kPoints), y(kPoints);
    for (int64_t i = 0; i < kPoints; ++i) {
      const double t = double(i) / double(kPoints - 1);
      x[i] = f.log_scale ? float(std::exp(std::log(f.lo) + t * (std::log(f.hi) - std::log(f.lo))))
                         : float(f.lo + t * (f.hi - f.lo));
    }
    k::unary_contiguous<float>(f.op, x.data(), y.data(), kPoints);
    double worst = 0;
    for (int64_t i = 0; i < kPoints; ++i) {
      const double truth = f.truth(double(x[i]));
      const float tf = std::abs(float(truth));
      const double spacing = std::max(double(std::nextafter(tf, INFINITY)) - double(tf),
                                      double(std::numeric_limits<float>::denorm_min()));
      worst = std::max(worst, std::abs(double(y[i]) - truth) / spacing);
    }
    std::printf("  %s %.2f", f.name, worst);
    Stat& s = g_stats[std::string("accuracy ") + k::simd_level_name(level) + " " + f.name];
    s.tol = 4;  // the Cephes ports measure <= 2.3 ulps (docs/benchmarks.md)
    ++s.checks;
    s.max_err = worst;
    if (gate && worst > s.tol) ++s.failures;
  }
  std::printf("\n");
}

}  // namespace

int main() {
  std::vector<SimdLevel> levels;
  for (SimdLevel l : {SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kNeon})
    if (k::cpu_supports(l)) levels.push_back(l);
  std::printf("kernel parity: best level %s; checking",
              k::simd_level_name(k::best_level()).c_str());
  for (SimdLevel l : levels) std::printf(" %s", k::simd_level_name(l).c_str());
  std::printf(" against scalar (%d threads)\n", k::get_num_threads());
  std::mt19937 rng(12345);
  for (SimdLevel l : levels) {
    check_binary<float>(l, rng);
    check_binary<double>(l, rng);
    check_unary<float>(l, rng);
    check_unary<double>(l, rng);
    check_reduce<float>(l, rng);
    check_reduce<double>(l, rng);
    check_softmax<float>(l, rng);
    check_softmax<double>(l, rng);
    check_layer_norm<float>(l, rng);
    check_layer_norm<double>(l, rng);
    check_batch_norm<float>(l, rng);
    check_batch_norm<double>(l, rng);
    check_gemm<float>(l, rng);
    check_gemm<double>(l, rng);
    check_rnn<float>(l, rng);
    check_rnn<double>(l, rng);
    // last: the others' data stay as they were.  Streaming (16 MiB + 3 rows), then cached.
    check_pipelined_rows<float>(l, rng, (16 << 20) / 4096 + 3, 1024);
    check_pipelined_rows<double>(l, rng, (16 << 20) / 4096 + 3, 512);
    check_pipelined_rows<float>(l, rng, (16 << 20) / 4000 + 3, 1003);  // streaming, plain stores
    for (int64_t rows : {1, 2, 9, 37})
      for (int64_t n : {1, 3, 10, 15, 16, 17, 23, 48, 77, 197, 512, 1025, 4095, 4096, 20001}) {
        check_pipelined_rows<float>(l, rng, rows, n);
        check_pipelined_rows<double>(l, rng, rows, n);
      }
  }
  measure_math_ulps(SimdLevel::kScalar, false);
  for (SimdLevel l : levels) measure_math_ulps(l, true);
  int64_t checks = 0, failures = 0;
  std::printf("%-40s %8s %12s %8s\n", "kernel", "checks", "max ulps", "tol");
  for (const auto& [name, s] : g_stats) {
    std::printf("%-40s %8lld %12.3g %8g%s\n", name.c_str(), (long long)s.checks, s.max_err, s.tol,
                s.failures ? "  FAIL" : "");
    checks += s.checks;
    failures += s.failures;
  }
  std::printf("%lld checks, %lld failed\n", (long long)checks, (long long)failures);
  return failures ? 1 : 0;
}
