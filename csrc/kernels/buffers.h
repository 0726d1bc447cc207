// 64-byte-aligned scratch memory for the kernel drivers (GEMM packs, convolution images,
// recurrent-layer workspaces).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace autodiff::kernels {

// Grow-only buffer, contents uninitialised.
template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { get(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(p_); }

  // At least n elements (the old contents are not kept when it grows).
  T* get(size_t n) {
    if (n > cap_ || !p_) {
      std::free(p_);
      p_ = nullptr;
      cap_ = 0;
      const size_t bytes = (std::max<size_t>(n, 1) * sizeof(T) + 63) / 64 * 64;
      p_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (!p_) throw std::bad_alloc();
      cap_ = n;
    }
    return p_;
  }
  T* get() const { return p_; }

 private:
  T* p_ = nullptr;
  size_t cap_ = 0;
};

// Who owns a per-thread buffer: one role per buffer a driver holds at the same time (a
// convolution calls the GEMM packers while holding its own buffers).
enum BufferRole {
  kGemmPackA,
  kGemmPackB,
  kConvImage,
  kConvPackA,
  kConvPackB,
  kConvCols,
  kSoftmaxExps
};

// A per-thread buffer per (T, role), reused across calls so that large packs and images do
// not page-fault fresh memory on every call.
template <typename T, BufferRole Role>
T* thread_buffer(size_t n) {
  thread_local AlignedBuffer<T> buf;
  return buf.get(n);
}

}  // namespace autodiff::kernels
