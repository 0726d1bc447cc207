// Binding: matmul with NumPy semantics (1-D operands, broadcast batch dims), any strides.
#include <chrono>

#include "bind_util.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace autodiff::bind {

namespace {

struct Operand {
  py::array arr;
  Shape shape;                  // at least 2-D after 1-D promotion
  std::vector<int64_t> stride;  // elements
};

Operand promote(const py::array& a, bool is_left) {
  Operand o;
  o.arr = element_strided(a, o.stride);
  o.shape = shape_of(o.arr);
  if (o.shape.size() == 1) {  // (K,) -> (1, K) on the left, (K, 1) on the right
    if (is_left) {
      o.shape.insert(o.shape.begin(), 1);
      o.stride.insert(o.stride.begin(), 0);
    } else {
      o.shape.push_back(1);
      o.stride.push_back(0);
    }
  }
  return o;
}

template <typename T>
py::array matmul_typed(const Operand& A, const Operand& B, const Shape& batch,
                       const Shape& out_shape, int64_t M, int64_t N, int64_t K) {
  auto out = empty<T>(out_shape);
  T* pc = out.mutable_data();
  const T* pa = static_cast<const T*>(A.arr.data());
  const T* pb = static_cast<const T*>(B.arr.data());
  const int na = int(A.shape.size()), nb = int(B.shape.size()), nbat = int(batch.size());
  const int64_t rsa = A.stride[na - 2], csa = A.stride[na - 1];
  const int64_t rsb = B.stride[nb - 2], csb = B.stride[nb - 1];
  const int64_t nbatch = numel(batch);
  // Batch strides aligned to `batch`, 0 where an operand is broadcast.
  std::vector<int64_t> sa(nbat, 0), sb(nbat, 0);
  for (int d = 0; d < na - 2; ++d)
    if (A.shape[d] != 1) sa[nbat - (na - 2) + d] = A.stride[d];
  for (int d = 0; d < nb - 2; ++d)
    if (B.shape[d] != 1) sb[nbat - (nb - 2) + d] = B.stride[d];
  {
    py::gil_scoped_release nogil;
    if (nbatch == 0 || M == 0 || N == 0) {
    } else if (nbatch == 1) {
      kernels::gemm<T>(M, N, K, pa, rsa, csa, pb, rsb, csb, pc, N);
    } else {
      auto offsets = [&](int64_t bi, int64_t& oa, int64_t& ob) {
        oa = ob = 0;
        for (int d = nbat - 1; d >= 0; --d) {
          int64_t idx = bi % batch[d];
          bi /= batch[d];
          oa += idx * sa[d];
          ob += idx * sb[d];
        }
      };
      const double flops = 2.0 * double(M) * double(N) * double(K);
      const int nt = kernels::get_num_threads();
      if (flops < 2.0 * 128 * 128 * 128 && nt > 1 && nbatch >= nt) {  // many small GEMMs
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (int64_t bi = 0; bi < nbatch; ++bi) {
          int64_t oa, ob;
          offsets(bi, oa, ob);
          kernels::gemm<T>(M, N, K, pa + oa, rsa, csa, pb + ob, rsb, csb, pc + bi * M * N, N, 1);
        }
      } else {
        for (int64_t bi = 0; bi < nbatch; ++bi) {
          int64_t oa, ob;
          offsets(bi, oa, ob);
          kernels::gemm<T>(M, N, K, pa + oa, rsa, csa, pb + ob, rsb, csb, pc + bi * M * N, N);
        }
      }
    }
  }
  return out;
}

py::array matmul(const py::array& a0, const py::array& b0) {
  const DType dt = same_dtype(a0, b0, "matmul");
  if (a0.ndim() == 0 || b0.ndim() == 0)
    throw py::value_error("matmul: operands must be at least 1-D, got shapes " +
                          shape_str(shape_of(a0)) + " and " + shape_str(shape_of(b0)));
  Operand A = promote(a0, true), B = promote(b0, false);
  const int na = int(A.shape.size()), nb = int(B.shape.size());
  const int64_t M = A.shape[na - 2], K = A.shape[na - 1], N = B.shape[nb - 1];
  if (B.shape[nb - 2] != K)
    throw py::value_error("matmul: shapes " + shape_str(shape_of(a0)) + " and " +
                          shape_str(shape_of(b0)) + " are not aligned: " + std::to_string(K) +
                          " != " + std::to_string(B.shape[nb - 2]));
  const int nbat = std::max(na, nb) - 2;
  Shape batch(nbat);
  for (int d = 0; d < nbat; ++d) {
    int ia = d - (nbat - (na - 2)), ib = d - (nbat - (nb - 2));
    int64_t da = ia >= 0 ? A.shape[ia] : 1, db = ib >= 0 ? B.shape[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw py::value_error("matmul: batch dims of shapes " + shape_str(shape_of(a0)) + " and " +
                            shape_str(shape_of(b0)) + " cannot be broadcast");
    batch[d] = da == 1 ? db : da;
  }
  Shape out_shape = batch;
  if (a0.ndim() > 1) out_shape.push_back(M);
  if (b0.ndim() > 1) out_shape.push_back(N);
  // Fold (batch..., M, K) @ (K, N) into one (batch*M, K) @ (K, N) GEMM when A's rows are
  // evenly spaced across the batch (e.g. a contiguous activation times a weight).
  if (nb == 2 && na > 2) {
    bool folds = true;
    int64_t expect = A.stride[na - 2] * M;
    for (int d = na - 3; d >= 0 && folds; --d) {
      if (A.shape[d] == 1) continue;
      folds = A.stride[d] == expect;
      expect = A.stride[d] * A.shape[d];
    }
    if (folds) {
      int64_t rows = M;
      for (int d = 0; d < na - 2; ++d) rows *= A.shape[d];
      Operand A2{A.arr, {rows, K}, {A.stride[na - 2], A.stride[na - 1]}};
      py::array r = dt == DType::kF32 ? matmul_typed<float>(A2, B, {}, {rows, N}, rows, N, K)
                                      : matmul_typed<double>(A2, B, {}, {rows, N}, rows, N, K);
      return r.attr("reshape")(py::tuple(py::cast(out_shape))).cast<py::array>();
    }
  }
  return dt == DType::kF32 ? matmul_typed<float>(A, B, batch, out_shape, M, N, K)
                           : matmul_typed<double>(A, B, batch, out_shape, M, N, K);
}

// GFLOP/s of `threads` threads (0: the extension's count) each running the float32 FMA loop
// of the dispatched level (12 independent vector chains, no memory traffic): the limit the
// benchmarks hold GEMM against.  The best of repeated runs of ~5 ms over `seconds`.
double fma_peak(int threads, double seconds) {
  const int nt = threads > 0 ? threads : kernels::get_num_threads();
  const auto loop = kernels::table<float>().fma_loop;
  using Clock = std::chrono::steady_clock;
  py::gil_scoped_release nogil;
  int64_t iters = 1 << 14;
  double best = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(std::max(seconds, 0.0));
  do {
    double flops = 0;
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(nt) reduction(+ : flops) if (nt > 1)
    {
      float sink;
      flops += loop(iters, &sink);
    }
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, flops / dt / 1e9);
    if (dt < 5e-3) iters *= 2;
  } while (Clock::now() < end);
  return best;
}

}  // namespace

void init_gemm(py::module_& m) {
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"),
        "a @ b with NumPy matmul semantics (1-D operands, broadcast batch dims, any strides); "
        "packed-panel GEMM with an AVX2 6x16 micro-kernel.");
  m.def(
      "_set_gemm_blocking",
      [](int64_t mc, int64_t kc, int64_t nc, bool f64) {
        f64 ? kernels::set_gemm_blocking<double>(mc, kc, nc)
            : kernels::set_gemm_blocking<float>(mc, kc, nc);
      },
      py::arg("mc") = 0, py::arg("kc") = 0, py::arg("nc") = 0, py::arg("float64") = false,
      "Tuning only: override GEMM cache blocking (0 restores the built-in constant).");
  m.def("_fma_peak", &fma_peak, py::arg("threads") = 0, py::arg("seconds") = 0.2,
        "Benchmarks only: GFLOP/s of `threads` threads running a float32 FMA loop at the "
        "dispatched SIMD level (the FMA limit GEMM is measured against).");
}

}  // namespace autodiff::bind
