// One place for CPU feature detection and the (op, dtype) -> kernel table.
//
// The table is filled once at import (best level the CPU supports) and again on
// set_simd(level).  Drivers (loops, strides, OpenMP) are generic C++ and call the
// per-ISA row kernels through this table; the SIMD files hold only those kernels.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/kernels.h"

namespace autodiff::kernels {

// kNeon: AArch64 Advanced SIMD (mandatory in ARMv8-A, so always available there).
// kAvx512 (F, DQ, BW, VL) runs AVX2's kernels where it has none of its own.
enum class SimdLevel : int { kScalar = 0, kAvx2 = 1, kNeon = 2, kAvx512 = 3 };

// Whether a level includes AVX2+FMA (for the drivers' own x86 fast paths).
inline bool has_avx2(SimdLevel level) {
  return level == SimdLevel::kAvx2 || level == SimdLevel::kAvx512;
}

// Kernels of one dtype at one SIMD level.
template <typename T>
struct KernelTable {
  BinaryFn<T> binary[kNumBinaryOps];         // indexed by BinaryOp
  BinaryFn<T> binary_stream[kNumBinaryOps];  // same, non-temporal stores (large outputs)
  UnaryFn<T> unary[kNumUnaryOps];            // indexed by UnaryOp
  GradFn<T> grad[kNumGradOps];               // indexed by GradOp
  ClampFn<T> clamp;
  LerpFn<T> lerp;
  ActFn<T> act[kNumActOps];      // forward, indexed by ActOp (null: kHardtanh)
  ActFn<T> act_bwd[kNumActOps];  // backward
  RowSumFn<T> row_sum;
  RowMaxFn<T> row_max;
  RowWelfordFn<T> row_welford;
  RowDotFn<T> row_dot;
  RowProdFn<T> row_prod;  // products in float64
  ColProdFn<T> col_prod;
  ColSumFn<T> col_sum;  // acc[j] += sum_r x[r * step + j] (* y[r * step + j])
  ColMaxFn<T> col_max;  // acc[j] = max(acc[j], x[r * step + j] for r < rows), NaN wins
  ColWelfordFn<T> col_welford;
  FmaLoopFn<T> fma_loop;
  SoftmaxRowFn<T> softmax_row;
  SoftmaxRowFn<T> log_softmax_row;
  SoftmaxBwdRowFn<T> softmax_bwd_row;
  SoftmaxBwdRowFn<T> log_softmax_bwd_row;
  LayerNormRowFn<T> layer_norm_row;
  LayerNormBwdRowFn<T> layer_norm_bwd_row;
  // Pipelined forms over contiguous rows (row_pipeline.h); null on the scalar level.
  SoftmaxRowsFn<T> softmax_rows;      // float only
  SoftmaxRowsFn<T> log_softmax_rows;  // float only
  SoftmaxBwdRowsFn<T> softmax_bwd_rows;
  SoftmaxBwdRowsFn<T> log_softmax_bwd_rows;  // float only
  LayerNormRowsFn<T> layer_norm_rows;
  LayerNormBwdRowsFn<T> layer_norm_bwd_rows;
  LstmFwdRowFn<T> lstm_fwd_row;
  LstmBwdRowFn<T> lstm_bwd_row;
  GruFwdRowFn<T> gru_fwd_row;
  GruBwdRowFn<T> gru_bwd_row;
  GemmUkernelFn<T> gemm_ukernel;
  GemmSmallUkernelFn<T> gemm_small_ukernel;  // a gemm_small_mr x gemm_nr tile
  GemmDotFn<T> gemm_dot_kernel;
  GemvRowFn<T> gemv_row_kernel;
  GemvColFn<T> gemv_col_kernel;
  int gemm_mr;
  int gemm_nr;
  int gemm_small_mr;
  // Convolution's micro-kernel of the same tile, used only while conv_mr/nr equal
  // gemm_mr/nr (a level may set a GEMM tile and no convolution kernel).
  ConvUkernelFn<T> conv_ukernel;
  int conv_mr;
  int conv_nr;
  // A second tile of the same NR (AVX2's 6 rows where AVX-512 has 16; else the same), for
  // M it pads less (gemm_tile, gemm.h); conv2_ukernel may be null.
  GemmUkernelFn<T> gemm2_ukernel;
  int gemm2_mr;
  ConvUkernelFn<T> conv2_ukernel;
};

// The active tables (read by every driver).
const KernelTable<float>& table_f32();
const KernelTable<double>& table_f64();

// CPU support and the active level.
bool cpu_supports(SimdLevel level);
SimdLevel best_level();
SimdLevel simd_level();
void set_simd(SimdLevel level);  // throws std::invalid_argument if unsupported
std::string simd_level_name(SimdLevel level);
SimdLevel parse_simd_level(const std::string& name);  // throws std::invalid_argument

// Threads for the OpenMP drivers' next region: the configured number, or 1 while the
// contention guard finds the workers kept waiting by other processes (dispatch.cpp).
int get_num_threads();
int configured_num_threads();
void set_num_threads(int n);                                // throws std::invalid_argument if n < 1
void set_contention_guard(bool on, int64_t late_us = 400);  // std::invalid_argument if < 1
bool contention_guard();
int64_t contention_late_probes();  // probes that found a late worker, since import

template <typename T>
const KernelTable<T>& table();
template <>
inline const KernelTable<float>& table<float>() {
  return table_f32();
}
template <>
inline const KernelTable<double>& table<double>() {
  return table_f64();
}

// Table fillers, one per ISA file group.
void fill_scalar(KernelTable<float>& t);
void fill_scalar(KernelTable<double>& t);
void fill_avx2(KernelTable<float>& t);
void fill_avx2(KernelTable<double>& t);
void fill_avx512(KernelTable<float>& t);
void fill_avx512(KernelTable<double>& t);

}  // namespace autodiff::kernels
