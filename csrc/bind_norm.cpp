// Bindings: fused layer norm forward and backward over the last n_norm_dims dims.
#include "bind_util.h"
#include "kernels/norm.h"

namespace autodiff::bind {

namespace {

struct Rows {
  int64_t rows, n;
  Shape stat_shape;
};

Rows split_rows(const Shape& s, int64_t k, const char* name) {
  if (k < 1 || k > int64_t(s.size()))
    throw py::value_error(std::string(name) + ": n_norm_dims must be in [1, " +
                          std::to_string(s.size()) + "] for an array of shape " + shape_str(s) +
                          ", got " + std::to_string(k));
  Rows r{1, 1, {}};
  for (size_t d = 0; d < s.size(); ++d) {
    if (int64_t(d) < int64_t(s.size()) - k) {
      r.rows *= s[d];
      r.stat_shape.push_back(s[d]);
    } else {
      r.n *= s[d];
    }
  }
  return r;
}

// weight / bias: None or an array of shape x.shape[-k:] and x's dtype (made contiguous).
py::object param(const py::object& p, const Shape& s, int64_t k, DType dt, const char* name,
                 const char* what) {
  if (p.is_none()) return p;
  py::array a = py::array::ensure(p);
  if (!a) throw py::type_error(std::string(name) + ": " + what + " must be an array or None");
  if (dtype_of(a, name) != dt)
    throw py::type_error(std::string(name) + ": " + what + " dtype " + dtype_str(a) +
                         " does not match the input's");
  Shape want(s.end() - k, s.end());
  if (shape_of(a) != want)
    throw py::value_error(std::string(name) + ": expected " + what + " of shape " +
                          shape_str(want) + ", got " + shape_str(shape_of(a)));
  return contiguous(a);
}

template <typename T>
const T* ptr(const py::object& o) {
  return o.is_none() ? nullptr : static_cast<const T*>(o.cast<py::array>().data());
}

template <typename T>
py::tuple forward_typed(const py::array& x, const py::object& w, const py::object& b, const Rows& r,
                        double eps) {
  auto y = empty_apart<T>(shape_of(x), {&x});
  auto mean = empty<T>(r.stat_shape), rstd = empty<T>(r.stat_shape);
  const T *px = static_cast<const T*>(x.data()), *pw = ptr<T>(w), *pb = ptr<T>(b);
  T *py_ = y.mutable_data(), *pm = mean.mutable_data(), *pr = rstd.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::layer_norm_forward<T>(px, pw, pb, py_, pm, pr, r.rows, r.n, T(eps));
  }
  return py::make_tuple(y, mean, rstd);
}

py::tuple layer_norm(const py::array& x0, const py::object& weight, const py::object& bias,
                     int64_t k, double eps) {
  const DType dt = dtype_of(x0, "layer_norm");
  const Shape s = shape_of(x0);
  const Rows r = split_rows(s, k, "layer_norm");
  py::object w = param(weight, s, k, dt, "layer_norm", "weight");
  py::object b = param(bias, s, k, dt, "layer_norm", "bias");
  py::array x = contiguous(x0);
  return dt == DType::kF32 ? forward_typed<float>(x, w, b, r, eps)
                           : forward_typed<double>(x, w, b, r, eps);
}

template <typename T>
py::tuple backward_typed(const py::array& gy, const py::array& x, const py::array& mean,
                         const py::array& rstd, const py::object& w, const Rows& r, int64_t k) {
  const Shape s = shape_of(x);
  auto gx = empty_apart<T>(s, {&gy, &x});
  py::object gw = py::none(), gb = py::none();
  T *pgw = nullptr, *pgb = nullptr;
  if (!w.is_none()) {
    Shape ps(s.end() - k, s.end());
    auto aw = empty<T>(ps), ab = empty<T>(ps);
    pgw = aw.mutable_data();
    pgb = ab.mutable_data();
    gw = aw;
    gb = ab;
  }
  const T *pg = static_cast<const T*>(gy.data()), *px = static_cast<const T*>(x.data());
  const T *pm = static_cast<const T*>(mean.data()), *pr = static_cast<const T*>(rstd.data());
  const T* pw = ptr<T>(w);
  T* pgx = gx.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::layer_norm_backward<T>(pg, px, pm, pr, pw, pgx, pgw, pgb, r.rows, r.n);
  }
  return py::make_tuple(gx, gw, gb);
}

py::tuple layer_norm_backward(const py::array& gy0, const py::array& x0, const py::array& mean0,
                              const py::array& rstd0, const py::object& weight, int64_t k) {
  const char* name = "layer_norm_backward";
  const DType dt = same_dtype(gy0, x0, name);
  same_dtype(x0, mean0, name);
  same_dtype(x0, rstd0, name);
  const Shape s = shape_of(x0);
  if (shape_of(gy0) != s)
    throw py::value_error(std::string(name) + ": gy and x must have the same shape, got " +
                          shape_str(shape_of(gy0)) + " and " + shape_str(s));
  const Rows r = split_rows(s, k, name);
  if (mean0.size() != r.rows || rstd0.size() != r.rows)
    throw py::value_error(std::string(name) + ": mean and rstd need " + std::to_string(r.rows) +
                          " elements (shape " + shape_str(r.stat_shape) + "), got shapes " +
                          shape_str(shape_of(mean0)) + " and " + shape_str(shape_of(rstd0)));
  py::object w = param(weight, s, k, dt, name, "weight");
  py::array gy = contiguous(gy0), x = contiguous(x0), mean = contiguous(mean0),
            rstd = contiguous(rstd0);
  return dt == DType::kF32 ? backward_typed<float>(gy, x, mean, rstd, w, r, k)
                           : backward_typed<double>(gy, x, mean, rstd, w, r, k);
}

template <typename T>
py::tuple bn_backward_typed(const py::array& gy, const py::array& x, const py::array& mean,
                            const py::array& rstd, const py::object& w, const Shape& s) {
  const int64_t outer = s[0], c = s[1], inner = numel(s) / std::max<int64_t>(1, outer * c);
  auto gx = empty<T>(s);
  auto gw = empty<T>({c}), gb = empty<T>({c});
  const T* pw = w.is_none() ? nullptr : static_cast<const T*>(w.cast<py::array>().data());
  const T* pg = static_cast<const T*>(gy.data());
  const T* px = static_cast<const T*>(x.data());
  const T* pm = static_cast<const T*>(mean.data());
  const T* pr = static_cast<const T*>(rstd.data());
  T* pgx = gx.mutable_data();
  T* pgw = gw.mutable_data();
  T* pgb = gb.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::batch_norm_backward_channels<T>(pg, px, pm, pr, pw, outer, c, inner, pgx, pgw, pgb);
  }
  return py::make_tuple(gx, gw, gb);
}

// Batch norm backward over (N, C, ...) with per-channel mean, rstd and weight (C values each,
// weight may be None) -> (gx, gweight, gbias), the last two of shape (C,).
py::tuple batch_norm_backward(const py::array& gy0, const py::array& x0, const py::array& mean0,
                              const py::array& rstd0, const py::object& weight) {
  const char* name = "batch_norm_backward";
  const DType dt = same_dtype(gy0, x0, name);
  same_dtype(x0, mean0, name);
  same_dtype(x0, rstd0, name);
  const Shape s = shape_of(x0);
  if (s.size() < 2 || shape_of(gy0) != s)
    throw py::value_error(std::string(name) + ": expected x and gy of one shape (N, C, ...), got " +
                          shape_str(shape_of(gy0)) + " and " + shape_str(s));
  const int64_t c = s[1];
  if (mean0.size() != c || rstd0.size() != c)
    throw py::value_error(std::string(name) + ": mean and rstd need " + std::to_string(c) +
                          " values, got shapes " + shape_str(shape_of(mean0)) + " and " +
                          shape_str(shape_of(rstd0)));
  py::object w = py::none();
  if (!weight.is_none()) {
    py::array wa = contiguous(weight.cast<py::array>());
    same_dtype(x0, wa, name);
    if (wa.size() != c)
      throw py::value_error(std::string(name) + ": weight needs " + std::to_string(c) +
                            " values, got shape " + shape_str(shape_of(wa)));
    w = wa;
  }
  py::array gy = contiguous(gy0), x = contiguous(x0), mean = contiguous(mean0),
            rstd = contiguous(rstd0);
  return dt == DType::kF32 ? bn_backward_typed<float>(gy, x, mean, rstd, w, s)
                           : bn_backward_typed<double>(gy, x, mean, rstd, w, s);
}

template <typename T>
py::array channel_affine_typed(const py::array& x, const py::array& scale, const py::array& shift,
                               const Shape& s) {
  const int64_t outer = s[0], c = s[1], inner = numel(s) / std::max<int64_t>(1, outer * c);
  auto y = empty<T>(s);
  const T* px = static_cast<const T*>(x.data());
  const T* pa = static_cast<const T*>(scale.data());
  const T* pb = static_cast<const T*>(shift.data());
  T* py_ = y.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::channel_affine<T>(px, pa, pb, outer, c, inner, py_);
  }
  return y;
}

// y = x * scale[c] + shift[c] over (N, C, ...), scale and shift C values each.
py::array channel_affine(const py::array& x0, const py::array& scale0, const py::array& shift0) {
  const char* name = "channel_affine";
  const DType dt = same_dtype(x0, scale0, name);
  same_dtype(x0, shift0, name);
  const Shape s = shape_of(x0);
  if (s.size() < 2)
    throw py::value_error(std::string(name) + ": expected x of shape (N, C, ...), got " +
                          shape_str(s));
  if (scale0.size() != s[1] || shift0.size() != s[1])
    throw py::value_error(std::string(name) + ": scale and shift need " + std::to_string(s[1]) +
                          " values for x of shape " + shape_str(s) + ", got shapes " +
                          shape_str(shape_of(scale0)) + " and " + shape_str(shape_of(shift0)));
  py::array x = contiguous(x0), scale = contiguous(scale0), shift = contiguous(shift0);
  return dt == DType::kF32 ? channel_affine_typed<float>(x, scale, shift, s)
                           : channel_affine_typed<double>(x, scale, shift, s);
}

}  // namespace

void init_norm(py::module_& m) {
  m.def("channel_affine", &channel_affine, py::arg("x"), py::arg("scale"), py::arg("shift"),
        "x * scale[c] + shift[c] over (N, C, ...): batch norm's normalization in one pass.");
  m.def("batch_norm_backward", &batch_norm_backward, py::arg("gy"), py::arg("x"), py::arg("mean"),
        py::arg("rstd"), py::arg("weight"),
        "-> (gx, gweight, gbias) of batch norm over (N, C, ...) with per-channel statistics.");
  m.def("layer_norm", &layer_norm, py::arg("x"), py::arg("weight"), py::arg("bias"),
        py::arg("n_norm_dims") = 1, py::arg("eps") = 1e-5,
        "Layer norm over the last n_norm_dims dims -> (y, mean, rstd); mean and rstd have shape "
        "x.shape[:-n_norm_dims].");
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("gy"), py::arg("x"), py::arg("mean"),
        py::arg("rstd"), py::arg("weight"), py::arg("n_norm_dims") = 1,
        "-> (gx, gweight, gbias); gweight and gbias are None when weight is None.");
}

}  // namespace autodiff::bind
