// Bindings: special functions with a C++ pass (kernels/special.h).
#include "bind_util.h"
#include "kernels/special.h"

namespace autodiff::bind {

void init_special(py::module_& m) {
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
