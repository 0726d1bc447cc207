// Bindings: softmax / log_softmax over any axis and their fused backward.
#include "bind_util.h"
#include "kernels/cross_entropy.h"
#include "kernels/softmax.h"

namespace autodiff::bind {

namespace {

template <typename T>
py::array forward_typed(const py::array& x, int axis, bool log) {
  const Shape s = shape_of(x);
  int64_t outer, n, inner;
  split_at(s, axis, outer, n, inner);
  auto y = empty_apart<T>(s, {&x});
  const T* px = static_cast<const T*>(x.data());
  T* py_ = y.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::softmax_axis<T>(px, py_, outer, n, inner, log);
  }
  return y;
}

py::array forward(const py::array& x0, int64_t axis, bool log, const char* name) {
  const DType dt = dtype_of(x0, name);
  if (x0.ndim() == 0) throw py::value_error(std::string(name) + ": expected at least a 1-D array");
  const int ax = normalize_axis(axis, x0.ndim(), name);
  py::array x = contiguous(x0);
  return dt == DType::kF32 ? forward_typed<float>(x, ax, log) : forward_typed<double>(x, ax, log);
}

template <typename T>
py::array backward_typed(const py::array& y, const py::array& gy, int axis, bool log) {
  const Shape s = shape_of(y);
  int64_t outer, n, inner;
  split_at(s, axis, outer, n, inner);
  auto gx = empty_apart<T>(s, {&y, &gy});
  const T* py_ = static_cast<const T*>(y.data());
  const T* pg = static_cast<const T*>(gy.data());
  T* po = gx.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::softmax_backward_axis<T>(py_, pg, po, outer, n, inner, log);
  }
  return gx;
}

py::array backward(const py::array& y0, const py::array& gy0, int64_t axis, bool log,
                   const char* name) {
  const DType dt = same_dtype(y0, gy0, name);
  if (shape_of(y0) != shape_of(gy0))
    throw py::value_error(std::string(name) + ": y and gy must have the same shape, got " +
                          shape_str(shape_of(y0)) + " and " + shape_str(shape_of(gy0)));
  if (y0.ndim() == 0) throw py::value_error(std::string(name) + ": expected at least a 1-D array");
  const int ax = normalize_axis(axis, y0.ndim(), name);
  py::array y = contiguous(y0), gy = contiguous(gy0);
  return dt == DType::kF32 ? backward_typed<float>(y, gy, ax, log)
                           : backward_typed<double>(y, gy, ax, log);
}

// (N,) integer targets as a contiguous int64 array, each in [0, c) or == ignore.
py::array_t<int64_t> checked_targets(const py::array& t0, int64_t n, int64_t c, int64_t ignore) {
  const char kind = t0.dtype().kind();
  if ((kind != 'i' && kind != 'u') || t0.ndim() != 1 || t0.shape(0) != n)
    throw py::value_error("cross_entropy: targets must be a 1-D integer array of " +
                          std::to_string(n) + " class indices, got " + dtype_str(t0) +
                          " of shape " + shape_str(shape_of(t0)));
  auto t = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(t0);
  const int64_t* pt = t.data();
  for (int64_t r = 0; r < n; ++r)
    if (pt[r] != ignore && (pt[r] < 0 || pt[r] >= c))
      throw py::index_error("cross_entropy: target values must be in [0, " + std::to_string(c) +
                            ") or ignore_index " + std::to_string(ignore));
  return t;
}

void check_logits(const py::array& x, const char* name) {
  if (x.ndim() != 2)
    throw py::value_error(std::string(name) + ": logits must be 2-D (N, C), got shape " +
                          shape_str(shape_of(x)));
}

template <typename T>
py::tuple cross_entropy_typed(const py::array& x, const py::array_t<int64_t>& t, int64_t ignore) {
  const int64_t n = x.shape(0), c = x.shape(1);
  auto loss = empty<T>({n}), stats = empty<T>({n, 2});
  const T* px = static_cast<const T*>(x.data());
  const int64_t* pt = t.data();
  T *pl = loss.mutable_data(), *ps = stats.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::cross_entropy_rows<T>(px, pt, n, c, ignore, pl, ps);
  }
  return py::make_tuple(loss, stats);
}

py::tuple cross_entropy(const py::array& x0, const py::array& t0, int64_t ignore) {
  const DType dt = dtype_of(x0, "cross_entropy");
  check_logits(x0, "cross_entropy");
  if (x0.shape(1) == 0) throw py::value_error("cross_entropy: logits have no classes (C = 0)");
  auto t = checked_targets(t0, x0.shape(0), x0.shape(1), ignore);
  py::array x = contiguous(x0);
  return dt == DType::kF32 ? cross_entropy_typed<float>(x, t, ignore)
                           : cross_entropy_typed<double>(x, t, ignore);
}

template <typename T>
py::array ce_backward_typed(const py::array& x, const py::array_t<int64_t>& t, const py::array& stats,
                            const py::array& g, int64_t ignore) {
  const int64_t n = x.shape(0), c = x.shape(1);
  auto out = empty<T>({n, c});
  const T* px = static_cast<const T*>(x.data());
  const T* pl = static_cast<const T*>(stats.data());
  const T* pg = static_cast<const T*>(g.data());
  const int64_t gs = g.ndim() == 0 ? 0 : 1;
  const int64_t* pt = t.data();
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::cross_entropy_backward_rows<T>(px, pt, pl, pg, gs, n, c, ignore, po);
  }
  return out;
}

py::array cross_entropy_backward(const py::array& x0, const py::array& t0, const py::array& stats0,
                                 const py::array& g0, int64_t ignore) {
  const char* name = "cross_entropy_backward";
  const DType dt = same_dtype(x0, stats0, name);
  same_dtype(x0, g0, name);
  check_logits(x0, name);
  const int64_t n = x0.shape(0), c = x0.shape(1);
  if (stats0.ndim() != 2 || stats0.shape(0) != n || stats0.shape(1) != 2)
    throw py::value_error(std::string(name) + ": stats (the forward's row max and log-sum) must "
                          "have shape (" + std::to_string(n) + ", 2), got " +
                          shape_str(shape_of(stats0)));
  if (!(g0.ndim() == 0 || (g0.ndim() == 1 && g0.shape(0) == n)))
    throw py::value_error(std::string(name) + ": the loss gradient must be a scalar or of shape (" +
                          std::to_string(n) + ",), got " + shape_str(shape_of(g0)));
  if (c == 0) throw py::value_error(std::string(name) + ": logits have no classes (C = 0)");
  auto t = checked_targets(t0, n, c, ignore);
  py::array x = contiguous(x0), stats = contiguous(stats0), g = contiguous(g0);
  return dt == DType::kF32 ? ce_backward_typed<float>(x, t, stats, g, ignore)
                           : ce_backward_typed<double>(x, t, stats, g, ignore);
}

}  // namespace

void init_softmax(py::module_& m) {
  m.def(
      "softmax", [](py::array x, int64_t axis) { return forward(x, axis, false, "softmax"); },
      py::arg("x"), py::arg("axis") = -1,
      "exp(x - max) / sum(exp(x - max)) along axis; online max+sum, two passes.");
  m.def(
      "log_softmax",
      [](py::array x, int64_t axis) { return forward(x, axis, true, "log_softmax"); }, py::arg("x"),
      py::arg("axis") = -1, "x - max - log(sum(exp(x - max))) along axis.");
  m.def(
      "softmax_backward",
      [](py::array y, py::array gy, int64_t axis) {
        return backward(y, gy, axis, false, "softmax_backward");
      },
      py::arg("y"), py::arg("gy"), py::arg("axis") = -1,
      "y * (gy - sum(gy * y, axis, keepdims)), y the softmax output.");
  m.def(
      "log_softmax_backward",
      [](py::array y, py::array gy, int64_t axis) {
        return backward(y, gy, axis, true, "log_softmax_backward");
      },
      py::arg("y"), py::arg("gy"), py::arg("axis") = -1,
      "gy - exp(y) * sum(gy, axis, keepdims), y the log_softmax output.");
  m.def("cross_entropy", &cross_entropy, py::arg("logits"), py::arg("target"),
        py::arg("ignore_index") = -100,
        "(loss, stats) per row of (N, C) logits against integer targets: loss = logsumexp - "
        "x[t], 0 where t == ignore_index; stats (N, 2) = (row max, log(sum(exp(x - max)))) for "
        "the backward; IndexError for targets out of range.");
  m.def("cross_entropy_backward", &cross_entropy_backward, py::arg("logits"), py::arg("target"),
        py::arg("stats"), py::arg("gloss"), py::arg("ignore_index") = -100,
        "(softmax(x) - onehot(t)) * gloss per row (gloss a scalar or (N,)), 0 on ignored rows.");
}

}  // namespace autodiff::bind
