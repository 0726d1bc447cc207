// Recurrent layers: the LSTM's and GRU's whole time loop (forward and backpropagation through time)
// in C++.  Each step is one hidden-to-hidden GEMM on a W_hh packed once per call (the
// GEMM's own packing and micro-kernel from the table) fused with the cell's element-wise
// math on the same block of hidden units, so a step costs one barrier and no Python.
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

template <typename T>
void fill_rnn_scalar(KernelTable<T>& t);
template <typename T>
void fill_rnn_avx2(KernelTable<T>& t);
template <typename T>
void fill_rnn_neon(KernelTable<T>& t);

// One LSTM layer over L steps (reverse: from the last step down).  All arrays C-contiguous:
// xs (L, N, 4H) input projections x W_ih^T + b_ih; h0, c0 (N, H); w (4H, H) = W_hh;
// b (4H) = b_hh or null.  Outputs: y (L, N, 2H) = [h | c] per step; act (L, N, 4H) the
// activated gates [sig i, sig f, tanh g, sig o]; tc (L, N, H) = tanh(c).
template <typename T>
void lstm_forward(int64_t L, int64_t N, int64_t H, const T* xs, const T* h0, const T* c0,
                  const T* w, const T* b, bool reverse, T* y, T* act, T* tc);

// Backpropagation through time for lstm_forward, given gy (L, N, 2H) = d[h | c] and the
// forward's y, act, tc.  Outputs: dx (L, N, 4H) d gate pre-activations (= d xs);
// dh0, dc0 (N, H); dw (4H, H) = d W_hh; db (4H) = d b_hh.
template <typename T>
void lstm_backward(int64_t L, int64_t N, int64_t H, const T* gy, const T* y, const T* act,
                   const T* tc, const T* h0, const T* c0, const T* w, bool reverse, T* dx, T* dh0,
                   T* dc0, T* dw, T* db);

// One GRU layer (gates r, z, n): xs (L, N, 3H), h0 (N, H), w (3H, H), b (3H) or null.
// Outputs: y (L, N, H) the hidden states; act (L, N, 3H) = [r, z, n]; hn (L, N, H) the n part
// of h W_hh^T + b_hh.
template <typename T>
void gru_forward(int64_t L, int64_t N, int64_t H, const T* xs, const T* h0, const T* w, const T* b,
                 bool reverse, T* y, T* act, T* hn);

// Backpropagation through time for gru_forward: dx (L, N, 3H) = d xs; dh0 (N, H);
// dw (3H, H) = d W_hh; db (3H) = d b_hh.
template <typename T>
void gru_backward(int64_t L, int64_t N, int64_t H, const T* gy, const T* y, const T* act,
                  const T* hn, const T* h0, const T* w, bool reverse, T* dx, T* dh0, T* dw, T* db);

}  // namespace autodiff::kernels
