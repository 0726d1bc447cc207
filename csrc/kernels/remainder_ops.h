// fmod and remainder of float32 / float64 operands with PyTorch's CPU semantics, exact:
// fmod(a, b) = a - trunc(a / b) b with the sign of a (C's fmod: b = 0 or a = +-inf give NaN,
// b = +-inf gives a), remainder = fmod moved to the sign of b where nonzero (r + b; Python's
// %, PyTorch's `mod != 0 && (b < 0) != (mod < 0)`).  One loop the compiler vectorises for
// the caller's target (no per-lane branch, no libm call); the few lanes it does not take
// exactly are redone with std::fmod.  Included by the scalar kernels and by the vector
// levels' (elementwise_simd.h), whose target attribute the inlined loop takes on.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace autodiff::kernels::rem {

// c ? a : b through the bits: GCC (12) will not if-convert a ?: whose arms or condition may
// raise a floating-point exception (-ftrapping-math), and left the loop scalar.
template <typename T>
inline T select(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof a);
  std::memcpy(&ub, &b, sizeof b);
  const U m = U(0) - U(c), r = (ua & m) | (ub & ~m);
  T o;
  std::memcpy(&o, &r, sizeof o);
  return o;
}

// Remainder from fmod r: r + b where r is nonzero and of the other sign than b, in T (so
// float32 rounds that sum once, as PyTorch's float kernel); a zero keeps fmod's sign.
template <typename T>
inline T to_divisor_sign(T r, T b) {
  return select((r != T(0)) & ((r < T(0)) != (b < T(0))), r + b, r);
}

// Lanes the fast form does not take: |a / b| >= 2^52 (its trunc would be inexact), a
// non-finite quotient (b = 0, a = +-inf, NaN) or b = +-inf (0 * inf in the FMA).
inline bool needs_libm(double d, double b) {
  return !(std::fabs(d) < 0x1p52) | !(std::fabs(b) < HUGE_VAL);
}

// out[i] = fmod (Rem: remainder) of a[SA ? i : 0] and b[SB ? i : 0], in blocks.  In double,
// q = trunc(a / b) and r = fma(-q, b, a) = a - q b exactly (one rounding of an exact
// result).  When a / b rounds up to an integer k that the true quotient is just below, q is
// one too large in magnitude; then |frac(a / b)| >= 1/2 (k < 2^52), so r = r_true - b
// exactly by Sterbenz's lemma, has the other sign than a, and r + copysign(b, a) restores
// r_true exactly.  The quotient never rounds down past an integer (k is representable), so
// no other case exists.  A zero result takes a's sign.  float32 operands are exact in double
// and r_true is a float32 value, so the final rounding to T is exact.
template <typename T, bool Rem, bool SA, bool SB>
__attribute__((always_inline)) inline void fmod_loop(const T* a, const T* b, T* out, int64_t n) {
  constexpr int64_t kBlock = 256;
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    int slow = 0;
    for (int64_t i = i0; i < i1; ++i) {
      const double x = a[SA ? i : 0], y = b[SB ? i : 0];
      // q = trunc(x / y) for |x / y| < 2^52: rounded to an integer by adding and taking off
      // 2^52, then one step toward zero where that rounded away (std::trunc kept the loop
      // scalar under a target attribute)
      const double d = x / y, big = std::copysign(0x1p52, d), rn = (d + big) - big;
      const double q = select(std::fabs(rn) > std::fabs(d), rn - std::copysign(1.0, d), rn);
      double r = std::fma(-q, y, x);
      r = select((r != 0.0) & ((r < 0.0) != (x < 0.0)), r + std::copysign(y, x), r);
      r = select(r == 0.0, std::copysign(0.0, x), r);  // (x != 0 above where r != 0)
      slow |= int(needs_libm(d, y));
      const T rt = T(r);
      out[i] = Rem ? to_divisor_sign(rt, T(y)) : rt;
    }
    if (slow) {
      for (int64_t i = i0; i < i1; ++i) {
        const T x = a[SA ? i : 0], y = b[SB ? i : 0];
        if (!needs_libm(double(x) / double(y), double(y))) continue;
        const T r = std::fmod(x, y);
        out[i] = Rem ? to_divisor_sign(r, y) : r;
      }
    }
  }
}

// The BinaryFn form (sa, sb in {0, 1}: 0 a broadcast scalar operand).
template <typename T, bool Rem>
__attribute__((always_inline)) inline void fmod_binary(const T* a, const T* b, T* out, int64_t n,
                                                       int64_t sa, int64_t sb) {
  if (sa && sb)
    fmod_loop<T, Rem, true, true>(a, b, out, n);
  else if (sa)
    fmod_loop<T, Rem, true, false>(a, b, out, n);
  else if (sb)
    fmod_loop<T, Rem, false, true>(a, b, out, n);
  else
    fmod_loop<T, Rem, false, false>(a, b, out, n);
}

}  // namespace autodiff::kernels::rem
