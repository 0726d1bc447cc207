// Bindings: special functions and fused pointwise ops with a C++ pass (kernels/special.h).
#include "bind_util.h"
#include "kernels/special.h"

namespace autodiff::bind {

namespace {

template <typename T>
py::array addc_typed(const py::array& x, const py::array& a, const py::array& b, double value,
                     bool div) {
  auto out = empty<T>(shape_of(x));
  const auto* px = static_cast<const T*>(x.data());
  const auto* pa = static_cast<const T*>(a.data());
  const auto* pb = static_cast<const T*>(b.data());
  T* po = out.mutable_data();
  const int64_t n = int64_t(x.size());
  {
    py::gil_scoped_release nogil;
    kernels::addc<T>(px, pa, pb, T(value), div, po, n);
  }
  return out;  // (with the GIL: array_t to array is a new reference)
}

}  // namespace

void init_special(py::module_& m) {
  m.def(
      "addc",
      [](const py::array& x0, const py::array& a0, const py::array& b0, double value, bool div) {
        const DType dt = same_dtype(x0, a0, "addc");
        same_dtype(x0, b0, "addc");
        if (shape_of(a0) != shape_of(x0) || shape_of(b0) != shape_of(x0))
          throw py::value_error("addc: operands must have one shape, got " +
                                shape_str(shape_of(x0)) + ", " + shape_str(shape_of(a0)) + " and " +
                                shape_str(shape_of(b0)));
        py::array x = contiguous(x0), a = contiguous(a0), b = contiguous(b0);
        return dt == DType::kF32 ? addc_typed<float>(x, a, b, value, div)
                                 : addc_typed<double>(x, a, b, value, div);
      },
      py::arg("x"), py::arg("a"), py::arg("b"), py::arg("value"), py::arg("div"),
      "x + (a * b) * value (div: (a / b) * value), rounded as NumPy's ufunc sequence (the "
      "scaling skipped when value == 1): addcmul / addcdiv in one threaded pass.");
  m.def(
      "erfinv",
      [](const py::array& y0) {
        if (!same_type(y0.dtype(), py::dtype::of<float>()))
          throw py::type_error("erfinv: expected a float32 array, got " + dtype_str(y0));
        py::array y = contiguous(y0);
        auto out = empty<float>(shape_of(y));
        const auto* py_ = static_cast<const float*>(y.data());
        float* po = out.mutable_data();
        const int64_t n = int64_t(y.size());
        {
          py::gil_scoped_release nogil;
          kernels::erfinv_f32(py_, po, n);
        }
        return out;
      },
      py::arg("y"),
      "erfinv of a float32 array (Acklam's rational in float64, within an ulp), threaded.");
}

}  // namespace autodiff::bind
