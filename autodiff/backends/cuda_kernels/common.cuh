// Shared device helpers of autodiff's fused CUDA kernels: typed math, warp-shuffle and
// block reductions (sum, online max-and-sum, Welford mean/variance).
//
// Sources are compiled at run time by NVRTC (cupy.RawModule), so nothing here may include
// a system header. The loader (cuda_kernels/__init__.py) pastes this file over the
// include line of each .cu file; nvcc sees the same text through the include.
// Every kernel assumes blockDim.x is a multiple of 32 (the launcher guarantees it).
#ifndef AUTODIFF_CUDA_COMMON_CUH
#define AUTODIFF_CUDA_COMMON_CUH

typedef long long index_t;

#define AD_WARP 32
#define AD_FULL_MASK 0xffffffffu

__device__ __forceinline__ float ad_exp(float x) { return expf(x); }
__device__ __forceinline__ double ad_exp(double x) { return exp(x); }
__device__ __forceinline__ float ad_log(float x) { return logf(x); }
__device__ __forceinline__ double ad_log(double x) { return log(x); }
__device__ __forceinline__ float ad_rsqrt(float x) { return rsqrtf(x); }
__device__ __forceinline__ double ad_rsqrt(double x) { return rsqrt(x); }
__device__ __forceinline__ float ad_max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double ad_max(double a, double b) { return fmax(a, b); }

template <typename T> __device__ __forceinline__ T ad_neg_inf();
template <> __device__ __forceinline__ float ad_neg_inf<float>() {
  return __int_as_float(0xff800000);
}
template <> __device__ __forceinline__ double ad_neg_inf<double>() {
  return __longlong_as_double(0xfff0000000000000LL);
}
template <typename T> __device__ __forceinline__ T ad_nan();
template <> __device__ __forceinline__ float ad_nan<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double ad_nan<double>() {
  return __longlong_as_double(0x7ff8000000000000LL);
}

// ------------------------------------------------------------------ sums and maxima
struct AdSum {
  template <typename T> __device__ __forceinline__ static T apply(T a, T b) { return a + b; }
  template <typename T> __device__ __forceinline__ static T identity() { return T(0); }
};
// fmax: NaN is ignored here; callers let NaN through their sums.
struct AdMax {
  template <typename T> __device__ __forceinline__ static T apply(T a, T b) {
    return ad_max(a, b);
  }
  template <typename T> __device__ __forceinline__ static T identity() {
    return ad_neg_inf<T>();
  }
};

template <class Op, typename T> __device__ __forceinline__ T warp_reduce(T v) {
  for (int o = AD_WARP / 2; o > 0; o >>= 1)
    v = Op::apply(v, __shfl_xor_sync(AD_FULL_MASK, v, o));
  return v;
}

// Reduce over the block; every thread gets the result. buf: 32 shared slots, reusable right
// after the call returns (the leading barrier protects the previous use).
template <class Op, typename T> __device__ T block_reduce(T v, T* buf) {
  const int lane = threadIdx.x & (AD_WARP - 1), warp = threadIdx.x / AD_WARP;
  const int nwarps = blockDim.x / AD_WARP;
  v = warp_reduce<Op>(v);
  __syncthreads();
  if (lane == 0) buf[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = warp_reduce<Op>(lane < nwarps ? buf[lane] : Op::template identity<T>());
    if (lane == 0) buf[0] = v;
  }
  __syncthreads();
  return buf[0];
}

template <typename T> __device__ __forceinline__ T warp_sum(T v) { return warp_reduce<AdSum>(v); }
template <typename T> __device__ __forceinline__ T warp_max(T v) { return warp_reduce<AdMax>(v); }
template <typename T> __device__ T block_sum(T v, T* buf) { return block_reduce<AdSum>(v, buf); }
template <typename T> __device__ T block_max(T v, T* buf) { return block_reduce<AdMax>(v, buf); }

// Two sums over the block at once (one round of barriers); buf: 64 shared slots.
template <typename T> __device__ void block_sum2(T& a, T& b, T* buf) {
  const int lane = threadIdx.x & (AD_WARP - 1), warp = threadIdx.x / AD_WARP;
  const int nwarps = blockDim.x / AD_WARP;
  a = warp_sum(a);
  b = warp_sum(b);
  __syncthreads();
  if (lane == 0) { buf[warp] = a; buf[AD_WARP + warp] = b; }
  __syncthreads();
  if (warp == 0) {
    a = warp_sum(lane < nwarps ? buf[lane] : T(0));
    b = warp_sum(lane < nwarps ? buf[AD_WARP + lane] : T(0));
    if (lane == 0) { buf[0] = a; buf[AD_WARP] = b; }
  }
  __syncthreads();
  a = buf[0];
  b = buf[AD_WARP];
}

// ------------------------------------------------------------------ row teams
// Who walks one row: the whole block (Team<false>) or one warp (Team<true>: a block holds
// blockDim.x / 32 rows at once, and reductions need no barrier). Short rows go to warps.
template <bool WARP> struct Team {
  __device__ __forceinline__ static int rank() {
    return WARP ? int(threadIdx.x & (AD_WARP - 1)) : int(threadIdx.x);
  }
  __device__ __forceinline__ static int size() { return WARP ? AD_WARP : int(blockDim.x); }
  __device__ __forceinline__ static int per_block() { return WARP ? blockDim.x / AD_WARP : 1; }
  __device__ __forceinline__ static int index() { return WARP ? threadIdx.x / AD_WARP : 0; }
  template <typename T> __device__ __forceinline__ static T max(T v, T* buf) {
    if (WARP) return warp_max(v);
    return block_max(v, buf);
  }
  template <typename T> __device__ __forceinline__ static T sum(T v, T* buf) {
    if (WARP) return warp_sum(v);
    return block_sum(v, buf);
  }
};

// ------------------------------------------------------------------ row packs
// Pack<T, N>: N adjacent elements moved as one load/store (N * sizeof(T) = 16 bytes gives
// 128-bit LDG/STG/LDS). A row is walked in packs when every pointer it touches is aligned
// to the pack and n is a multiple of N; otherwise with N = 1.
template <typename T, int N> struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

template <typename T> struct Wide {
  enum { N = 16 / sizeof(T) };
};

__device__ __forceinline__ bool ad_aligned16(const void* p) {
  return (reinterpret_cast<unsigned long long>(p) & 15) == 0;
}

// The dynamic shared memory of a block, as T (kernels that cache a row in shared memory).
template <typename T> __device__ __forceinline__ T* ad_dynamic_smem() {
  extern __shared__ __align__(16) unsigned char ad_smem_bytes[];
  return reinterpret_cast<T*>(ad_smem_bytes);
}

// ------------------------------------------------------------------ online max-and-sum
// (m, s) stands for sum_i exp(x_i - m) with m the running maximum: softmax's two
// statistics in one pass over memory. -inf entries contribute 0; NaN poisons s, as in NumPy.
template <typename T> __device__ __forceinline__ void maxsum_push(T& m, T& s, T x) {
  if (x > m) {
    s = s * ad_exp(m - x) + T(1);
    m = x;
  } else if (m != ad_neg_inf<T>() || x != x) {
    s += ad_exp(x - m);
  }
}

template <typename T> __device__ __forceinline__ void maxsum_merge(T& m, T& s, T m2, T s2) {
  if (m2 > m) {
    s = s * ad_exp(m - m2) + s2;
    m = m2;
  } else if (m2 != ad_neg_inf<T>() || s2 != s2) {
    s += s2 * ad_exp(m2 - m);
  }
}

template <typename T> __device__ void block_maxsum(T& m, T& s, T* mbuf, T* sbuf) {
  const int lane = threadIdx.x & (AD_WARP - 1), warp = threadIdx.x / AD_WARP;
  const int nwarps = blockDim.x / AD_WARP;
  for (int o = AD_WARP / 2; o > 0; o >>= 1) {
    T m2 = __shfl_xor_sync(AD_FULL_MASK, m, o), s2 = __shfl_xor_sync(AD_FULL_MASK, s, o);
    maxsum_merge(m, s, m2, s2);
  }
  __syncthreads();
  if (lane == 0) { mbuf[warp] = m; sbuf[warp] = s; }
  __syncthreads();
  if (warp == 0) {
    m = lane < nwarps ? mbuf[lane] : ad_neg_inf<T>();
    s = lane < nwarps ? sbuf[lane] : T(0);
    for (int o = AD_WARP / 2; o > 0; o >>= 1) {
      T m2 = __shfl_xor_sync(AD_FULL_MASK, m, o), s2 = __shfl_xor_sync(AD_FULL_MASK, s, o);
      maxsum_merge(m, s, m2, s2);
    }
    if (lane == 0) { mbuf[0] = m; sbuf[0] = s; }
  }
  __syncthreads();
  m = mbuf[0];
  s = sbuf[0];
}

// ------------------------------------------------------------------ Welford
// (n, mean, m2) of a set; merging two sets is Chan et al.'s parallel formula.
template <typename T> __device__ __forceinline__ void welford_push(T& n, T& mean, T& m2, T x) {
  n += T(1);
  T d = x - mean;
  mean += d / n;
  m2 += d * (x - mean);
}

template <typename T>
__device__ __forceinline__ void welford_merge(T& n, T& mean, T& m2, T nb, T meanb, T m2b) {
  T tot = n + nb;
  if (tot == T(0)) return;
  T d = meanb - mean, fb = nb / tot;
  mean += d * fb;
  m2 += m2b + d * d * n * fb;
  n = tot;
}

template <typename T> __device__ void block_welford(T& n, T& mean, T& m2, T* buf) {
  // buf: 3 * 32 shared slots
  const int lane = threadIdx.x & (AD_WARP - 1), warp = threadIdx.x / AD_WARP;
  const int nwarps = blockDim.x / AD_WARP;
  for (int o = AD_WARP / 2; o > 0; o >>= 1) {
    T nb = __shfl_xor_sync(AD_FULL_MASK, n, o);
    T mb = __shfl_xor_sync(AD_FULL_MASK, mean, o);
    T qb = __shfl_xor_sync(AD_FULL_MASK, m2, o);
    welford_merge(n, mean, m2, nb, mb, qb);
  }
  __syncthreads();
  if (lane == 0) { buf[warp] = n; buf[32 + warp] = mean; buf[64 + warp] = m2; }
  __syncthreads();
  if (warp == 0) {
    n = lane < nwarps ? buf[lane] : T(0);
    mean = lane < nwarps ? buf[32 + lane] : T(0);
    m2 = lane < nwarps ? buf[64 + lane] : T(0);
    for (int o = AD_WARP / 2; o > 0; o >>= 1) {
      T nb = __shfl_xor_sync(AD_FULL_MASK, n, o);
      T mb = __shfl_xor_sync(AD_FULL_MASK, mean, o);
      T qb = __shfl_xor_sync(AD_FULL_MASK, m2, o);
      welford_merge(n, mean, m2, nb, mb, qb);
    }
    if (lane == 0) { buf[0] = n; buf[32] = mean; buf[64] = m2; }
  }
  __syncthreads();
  n = buf[0];
  mean = buf[32];
  m2 = buf[64];
}

#endif  // AUTODIFF_CUDA_COMMON_CUH
