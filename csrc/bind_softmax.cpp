// Bindings: softmax / log_softmax over any axis and their fused backward.
#include "bind_util.h"
#include "kernels/softmax.h"

namespace autodiff::bind {

namespace {

template <typename T>
py::array forward_typed(const py::array& x, int axis, bool log) {
  const Shape s = shape_of(x);
  int64_t outer, n, inner;
  split_at(s, axis, outer, n, inner);
  auto y = empty<T>(s);
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
  auto gx = empty<T>(s);
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
}

}  // namespace autodiff::bind
