// Binding: 2-D convolution (implicit GEMM, kernels/conv.h) forward and backward on NCHW
// arrays.  x may have any strides; dy, the weight and the bias are made contiguous.
#include <array>
#include <utility>

#include "bind_util.h"
#include "kernels/conv.h"
#include "kernels/pool.h"

namespace autodiff::bind {

namespace {

using Pair = std::pair<int64_t, int64_t>;
using Pads = std::array<int64_t, 4>;

std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")";
}

// Validate shapes and hyper-parameters; the geometry every kernel trusts.
// x is the convolution's input shape (for conv_transpose2d, the transposed one's output).
kernels::ConvGeom geometry(const char* op, const Shape& x, const py::array& w, const Pair& stride,
                           const Pads& pads, const Pair& dilation, int64_t groups) {
  const std::string name(op);
  if (x.size() != 4 || w.ndim() != 4)
    throw py::value_error(name + ": expected a 4-D input (N, C, H, W) and a 4-D weight, got " +
                          shape_str(x) + " and " + shape_str(shape_of(w)));
  if (groups < 1)
    throw py::value_error(name + ": groups must be >= 1, got " + std::to_string(groups));
  if (stride.first < 1 || stride.second < 1 || dilation.first < 1 || dilation.second < 1)
    throw py::value_error(name + ": stride and dilation must be >= 1, got " + pair_str(stride) +
                          " and " + pair_str(dilation));
  for (int64_t p : pads)
    if (p < 0) throw py::value_error(name + ": pads must be >= 0");
  kernels::ConvGeom g{};
  g.n = x[0], g.c = x[1], g.h = x[2], g.w = x[3];
  g.oc = w.shape(0), g.kh = w.shape(2), g.kw = w.shape(3), g.groups = groups;
  g.sh = stride.first, g.sw = stride.second, g.dh = dilation.first, g.dw = dilation.second;
  g.pt = pads[0], g.pb = pads[1], g.pl = pads[2], g.pr = pads[3];
  if (w.shape(1) * groups != g.c || g.oc % groups)
    throw py::value_error(name + ": weight " + shape_str(shape_of(w)) +
                          " with groups=" + std::to_string(groups) + " does not fit input " +
                          shape_str(x) + ": expected C_in = weight.shape[1] * groups " +
                          "and C_out divisible by groups");
  if (g.kh < 1 || g.kw < 1)
    throw py::value_error(name + ": empty kernel in weight " + shape_str(shape_of(w)));
  g.oh = (g.hp() - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (g.wp() - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  if (g.hp() - g.dh * (g.kh - 1) < 1 || g.wp() - g.dw * (g.kw - 1) < 1)
    throw py::value_error(name + ": kernel " + pair_str({g.kh, g.kw}) + " with dilation " +
                          pair_str(dilation) + " does not fit the padded input of " + shape_str(x));
  return g;
}

std::array<int64_t, 4> strides4(const std::vector<int64_t>& s) { return {s[0], s[1], s[2], s[3]}; }

template <typename T>
py::array forward_typed(const kernels::ConvGeom& g, const py::array& x,
                        const std::array<int64_t, 4>& xs, const py::array& w,
                        const py::object& bias) {
  auto y = empty<T>({g.n, g.oc, g.oh, g.ow});
  py::array b;
  if (!bias.is_none()) b = contiguous(bias.cast<py::array>());
  const T* pb = bias.is_none() ? nullptr : static_cast<const T*>(b.data());
  {
    py::gil_scoped_release nogil;
    kernels::conv2d_forward<T>(g, static_cast<const T*>(x.data()), xs.data(),
                               static_cast<const T*>(w.data()), pb, y.mutable_data());
  }
  return y;
}

py::array conv2d(const py::array& x0, const py::array& w0, const py::object& bias,
                 const Pair& stride, const Pads& pads, const Pair& dilation, int64_t groups) {
  const DType dt = same_dtype(x0, w0, "conv2d");
  const kernels::ConvGeom g = geometry("conv2d", shape_of(x0), w0, stride, pads, dilation, groups);
  if (!bias.is_none()) {
    if (!py::isinstance<py::array>(bias))
      throw py::type_error("conv2d: bias must be None or an ndarray");
    py::array b = bias.cast<py::array>();
    same_dtype(x0, b, "conv2d");
    if (b.ndim() != 1 || b.shape(0) != g.oc)
      throw py::value_error("conv2d: expected bias of shape (" + std::to_string(g.oc) + ",), got " +
                            shape_str(shape_of(b)));
  }
  std::vector<int64_t> xs;
  py::array x = element_strided(x0, xs);
  py::array w = contiguous(w0);
  return dt == DType::kF32 ? forward_typed<float>(g, x, strides4(xs), w, bias)
                           : forward_typed<double>(g, x, strides4(xs), w, bias);
}

// dy (N, OC, oh, ow) as it is when its (oh, ow) plane is evenly spaced (contiguous, a slice,
// or broadcast from a sum's backward: a copy here would be one more fresh 2 MB array to
// page-fault in per step on the benchmark), else a contiguous copy; ds its element strides.
py::array plane_strided(const py::array& dy0, const kernels::ConvGeom& g,
                        std::vector<int64_t>& ds) {
  py::array dy = element_strided(dy0, ds);
  if (!(g.oh == 1 || g.ow == 1 || ds[2] == g.ow * ds[3])) dy = element_strided(contiguous(dy), ds);
  return dy;
}

template <typename T>
py::tuple backward_typed(const kernels::ConvGeom& g, const py::array& dy,
                         const std::array<int64_t, 4>& ds, const py::array& x,
                         const std::array<int64_t, 4>& xs, const py::array& w, bool need_x,
                         bool need_w, bool need_b) {
  py::object gx = py::none(), gw = py::none(), gb = py::none();
  T *px = nullptr, *pw = nullptr, *pb = nullptr;
  if (need_x) {
    auto a = empty<T>({g.n, g.c, g.h, g.w});
    px = a.mutable_data();
    gx = a;
  }
  if (need_w) {
    auto a = empty<T>(shape_of(w));
    pw = a.mutable_data();
    gw = a;
  }
  if (need_b) {
    auto a = empty<T>({g.oc});
    pb = a.mutable_data();
    gb = a;
  }
  const T* pdy = static_cast<const T*>(dy.data());
  {
    py::gil_scoped_release nogil;
    if (pw || pb)
      kernels::conv2d_backward_weight<T>(g, pdy, ds.data(), static_cast<const T*>(x.data()),
                                         xs.data(), pw, pb);
    if (px)
      kernels::conv2d_backward_input<T>(g, pdy, ds.data(), static_cast<const T*>(w.data()), px);
  }
  return py::make_tuple(gx, gw, gb);
}

py::tuple conv2d_backward(const py::array& dy0, const py::array& x0, const py::array& w0,
                          const Pair& stride, const Pads& pads, const Pair& dilation,
                          int64_t groups, bool need_x, bool need_w, bool need_b) {
  const DType dt = same_dtype(x0, w0, "conv2d_backward");
  same_dtype(x0, dy0, "conv2d_backward");
  const kernels::ConvGeom g =
      geometry("conv2d_backward", shape_of(x0), w0, stride, pads, dilation, groups);
  const Shape expect{g.n, g.oc, g.oh, g.ow};
  if (shape_of(dy0) != expect)
    throw py::value_error("conv2d_backward: expected dy of shape " + shape_str(expect) + ", got " +
                          shape_str(shape_of(dy0)));
  std::vector<int64_t> xs, ds;
  py::array x = element_strided(x0, xs);
  py::array w = contiguous(w0);
  py::array dy = plane_strided(dy0, g, ds);
  return dt == DType::kF32 ? backward_typed<float>(g, dy, strides4(ds), x, strides4(xs), w, need_x,
                                                   need_w, need_b)
                           : backward_typed<double>(g, dy, strides4(ds), x, strides4(xs), w, need_x,
                                                    need_w, need_b);
}

template <typename T>
py::array transpose_typed(const kernels::ConvGeom& g, const py::array& x,
                          const std::array<int64_t, 4>& xs, const py::array& w,
                          const py::object& b) {
  auto y = empty<T>({g.n, g.c, g.h, g.w});
  const T* pb = b.is_none() ? nullptr : static_cast<const T*>(b.cast<py::array>().data());
  {
    py::gil_scoped_release nogil;
    kernels::conv2d_backward_input<T>(g, static_cast<const T*>(x.data()), xs.data(),
                                      static_cast<const T*>(w.data()), y.mutable_data(), pb);
  }
  return y;
}

// The transposed convolution: conv2d's input gradient of an (N, C_out, *size) input, with x
// in the place of dy, plus the bias.
py::array conv_transpose2d(const py::array& x0, const py::array& w0, const py::object& bias,
                           const Pair& size, const Pair& stride, const Pads& pads,
                           const Pair& dilation, int64_t groups) {
  const char* name = "conv_transpose2d";
  const DType dt = same_dtype(x0, w0, name);
  if (x0.ndim() != 4 || w0.ndim() != 4)
    throw py::value_error("conv_transpose2d: expected a 4-D input and a 4-D weight, got " +
                          shape_str(shape_of(x0)) + " and " + shape_str(shape_of(w0)));
  if (groups < 1)
    throw py::value_error("conv_transpose2d: groups must be >= 1, got " + std::to_string(groups));
  const kernels::ConvGeom g =
      geometry(name, {x0.shape(0), w0.shape(1) * groups, size.first, size.second}, w0, stride, pads,
               dilation, groups);
  const Shape expect{g.n, g.oc, g.oh, g.ow};
  if (shape_of(x0) != expect)
    throw py::value_error("conv_transpose2d: an output of size " + pair_str(size) +
                          " with these strides, pads and dilation needs an input of shape " +
                          shape_str(expect) + ", got " + shape_str(shape_of(x0)));
  py::object b = py::none();
  if (!bias.is_none()) {
    if (!py::isinstance<py::array>(bias))
      throw py::type_error("conv_transpose2d: bias must be None or an ndarray");
    py::array a = contiguous(bias.cast<py::array>());
    same_dtype(x0, a, name);
    b = a;
    if (a.ndim() != 1 || a.shape(0) != g.c)
      throw py::value_error("conv_transpose2d: expected bias of shape (" + std::to_string(g.c) +
                            ",), got " + shape_str(shape_of(a)));
  }
  std::vector<int64_t> xs;
  py::array x = plane_strided(x0, g, xs);
  py::array w = contiguous(w0);
  return dt == DType::kF32 ? transpose_typed<float>(g, x, strides4(xs), w, b)
                           : transpose_typed<double>(g, x, strides4(xs), w, b);
}

}  // namespace

// The pooling geometry of an (N, C, H, W) input; ValueError on bad arguments.
kernels::PoolGeom pool_geom(const Shape& s, Pair kernel, Pair dilation, Pads pads, Pair stride,
                            const char* name) {
  if (s.size() != 4)
    throw py::value_error(std::string(name) + ": expected an (N, C, H, W) array, got shape " +
                          shape_str(s));
  const auto [pt, pb, pl, pr] = pads;  // top, bottom, left, right
  kernels::PoolGeom g{s[0] * s[1],    s[2],         s[3],          0,  0,  kernel.first,
                      kernel.second,  stride.first, stride.second, pt, pl, dilation.first,
                      dilation.second};
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || pt < 0 || pb < 0 ||
      pl < 0 || pr < 0)
    throw py::value_error(std::string(name) +
                          ": kernel, stride and dilation must be >= 1 "
                          "and padding >= 0");
  g.oh = (g.h + pt + pb - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (g.w + pl + pr - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  if (g.h + pt + pb < g.dh * (g.kh - 1) + 1 || g.w + pl + pr < g.dw * (g.kw - 1) + 1)
    throw py::value_error(std::string(name) + ": the window is larger than the padded input " +
                          shape_str(s));
  return g;
}

template <typename T>
py::tuple max_pool_typed(const kernels::PoolGeom& g, const py::array& x, const Shape& s) {
  const Shape ys{s[0], s[1], g.oh, g.ow};
  auto y = empty<T>(ys);
  py::array_t<int64_t> idx(std::vector<py::ssize_t>{s[0], s[1], g.oh, g.ow, 1});
  const T* px = static_cast<const T*>(x.data());
  T* py_ = y.mutable_data();
  int64_t* pi = idx.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::max_pool2d_forward<T>(g, px, py_, pi);
  }
  return py::make_tuple(y, idx);
}

py::tuple max_pool2d(const py::array& x0, Pair kernel, Pair dilation, Pads pads, Pair stride) {
  const DType dt = dtype_of(x0, "max_pool2d");
  py::array x = contiguous(x0);
  const Shape s = shape_of(x);
  const auto g = pool_geom(s, kernel, dilation, pads, stride, "max_pool2d");
  return dt == DType::kF32 ? max_pool_typed<float>(g, x, s) : max_pool_typed<double>(g, x, s);
}

template <typename T>
py::array max_pool_bwd_typed(const kernels::PoolGeom& g, const py::array& gy,
                             const py::array_t<int64_t>& idx, const Shape& xs) {
  py::array_t<T> gx(std::vector<py::ssize_t>(xs.begin(), xs.end()));
  T* po = gx.mutable_data();
  std::fill(po, po + gx.size(), T(0));
  const T* pg = static_cast<const T*>(gy.data());
  const int64_t* pi = idx.data();
  {
    py::gil_scoped_release nogil;
    kernels::max_pool2d_backward<T>(g, pg, pi, po);
  }
  return gx;
}

// dx of max pooling: gy (N, C, oh, ow) added at each window's argmax idx (N, C, oh, ow, 1).
py::array max_pool2d_backward(const py::array& gy0, const py::array& idx0, Pair size, Pair kernel,
                              Pair dilation, Pads pads, Pair stride) {
  const char* name = "max_pool2d_backward";
  const DType dt = dtype_of(gy0, name);
  const Shape gs = shape_of(gy0);
  if (gs.size() != 4)
    throw py::value_error(std::string(name) + ": expected gy of shape (N, C, oh, ow), got " +
                          shape_str(gs));
  const Shape xs{gs[0], gs[1], size.first, size.second};
  const auto g = pool_geom(xs, kernel, dilation, pads, stride, name);
  const Shape is{gs[0], gs[1], g.oh, g.ow, 1};
  if (gs != Shape{gs[0], gs[1], g.oh, g.ow} || shape_of(idx0) != is ||
      (idx0.dtype().kind() != 'i' && idx0.dtype().kind() != 'u'))
    throw py::value_error(std::string(name) + ": expected gy " +
                          shape_str(Shape(is.begin(), is.end() - 1)) + " and integer idx " +
                          shape_str(is) + ", got " + shape_str(gs) + " and " + dtype_str(idx0) +
                          " " + shape_str(shape_of(idx0)));
  auto idx = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(idx0);
  py::array gy = contiguous(gy0);
  return dt == DType::kF32 ? max_pool_bwd_typed<float>(g, gy, idx, xs)
                           : max_pool_bwd_typed<double>(g, gy, idx, xs);
}

// An average pool's divisor factors: int64 arrays of oh and ow entries.
py::array_t<int64_t> divisors_of(const py::array& d0, int64_t n, const char* what,
                                 const char* name) {
  if (d0.ndim() != 1 || d0.shape(0) != n || (d0.dtype().kind() != 'i' && d0.dtype().kind() != 'u'))
    throw py::value_error(std::string(name) + ": expected " + what + " as " + std::to_string(n) +
                          " integers, got " + dtype_str(d0) + " " + shape_str(shape_of(d0)));
  return py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(d0);
}

template <typename T>
py::array avg_pool_typed(bool forward, const kernels::PoolGeom& g, const py::array& a,
                         const py::array_t<int64_t>& dh, const py::array_t<int64_t>& dw,
                         const Shape& out_shape) {
  auto out = empty<T>(out_shape);
  const T* pa = static_cast<const T*>(a.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    if (forward)
      kernels::avg_pool2d_forward<T>(g, pa, dh.data(), dw.data(), po);
    else
      kernels::avg_pool2d_backward<T>(g, pa, dh.data(), dw.data(), po);
  }
  return out;
}

// y of average pooling x (N, C, H, W) (forward), or dx of it from gy (N, C, oh, ow) and the
// input's (H, W) `size` (backward); divisor of output (oy, ox) = div_h[oy] * div_w[ox].
py::array avg_pool2d_any(bool forward, const py::array& a0, Pair size, Pair kernel, Pads pads,
                         Pair stride, const py::array& dh0, const py::array& dw0) {
  const char* name = forward ? "avg_pool2d" : "avg_pool2d_backward";
  const DType dt = dtype_of(a0, name);
  py::array a = contiguous(a0);
  const Shape as = shape_of(a);
  if (as.size() != 4)
    throw py::value_error(std::string(name) + ": expected an array of shape (N, C, " +
                          (forward ? "H, W" : "oh, ow") + "), got " + shape_str(as));
  const Shape xs = forward ? as : Shape{as[0], as[1], size.first, size.second};
  const auto g = pool_geom(xs, kernel, {1, 1}, pads, stride, name);
  const Shape ys{xs[0], xs[1], g.oh, g.ow};
  if (!forward && as != ys)
    throw py::value_error(std::string(name) + ": expected gy of shape " + shape_str(ys) + ", got " +
                          shape_str(as));
  const auto dh = divisors_of(dh0, g.oh, "div_h", name);
  const auto dw = divisors_of(dw0, g.ow, "div_w", name);
  const Shape& out = forward ? ys : xs;
  return dt == DType::kF32 ? avg_pool_typed<float>(forward, g, a, dh, dw, out)
                           : avg_pool_typed<double>(forward, g, a, dh, dw, out);
}

void init_conv(py::module_& m) {
  m.def(
      "avg_pool2d",
      [](const py::array& x, Pair kernel, Pads pads, Pair stride, const py::array& div_h,
         const py::array& div_w) {
        return avg_pool2d_any(true, x, {0, 0}, kernel, pads, stride, div_h, div_w);
      },
      py::arg("x"), py::arg("kernel"), py::arg("pads"), py::arg("stride"), py::arg("div_h"),
      py::arg("div_w"),
      "Average pooling of an (N, C, H, W) array: each window's in-image sum divided by "
      "div_h[oy] * div_w[ox]; pads = (top, bottom, left, right).");
  m.def(
      "avg_pool2d_backward",
      [](const py::array& gy, Pair size, Pair kernel, Pads pads, Pair stride,
         const py::array& div_h, const py::array& div_w) {
        return avg_pool2d_any(false, gy, size, kernel, pads, stride, div_h, div_w);
      },
      py::arg("gy"), py::arg("size"), py::arg("kernel"), py::arg("pads"), py::arg("stride"),
      py::arg("div_h"), py::arg("div_w"),
      "dx of avg_pool2d: each gy / divisor added over its window of an (N, C, *size) array.");
  m.def("max_pool2d", &max_pool2d, py::arg("x"), py::arg("kernel"), py::arg("dilation"),
        py::arg("pads"), py::arg("stride"),
        "(y, idx) of max pooling an (N, C, H, W) array; pads = (top, bottom, left, right); "
        "idx is each window's flat in-window argmax, shape (N, C, oh, ow, 1).");
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("gy"), py::arg("idx"), py::arg("size"),
        py::arg("kernel"), py::arg("dilation"), py::arg("pads"), py::arg("stride"),
        "dx of max_pool2d: gy added at each window's argmax.");
  m.def("set_conv_winograd", &kernels::set_conv_winograd, py::arg("mode"),
        "3x3 stride-1 convolutions by Winograd F(2x2, 3x3): 0 never, 1 where it pays (the "
        "default), 2 wherever the geometry allows (for tests).");
  m.def("conv_winograd_mode", &kernels::conv_winograd_mode, "The set_conv_winograd mode.");
  m.def("conv2d", &conv2d, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"),
        py::arg("pads"), py::arg("dilation"), py::arg("groups"),
        "2-D cross-correlation of x (N, C, H, W) with weight (C_out, C/groups, kh, kw) plus "
        "bias; pads = (top, bottom, left, right). Implicit GEMM: no im2col matrix.");
  m.def("conv2d_backward", &conv2d_backward, py::arg("dy"), py::arg("x"), py::arg("weight"),
        py::arg("stride"), py::arg("pads"), py::arg("dilation"), py::arg("groups"),
        py::arg("need_x"), py::arg("need_w"), py::arg("need_b"),
        "Gradients (dx, dW, db) of conv2d, each None when not needed.");
  m.def("conv_transpose2d", &conv_transpose2d, py::arg("x"), py::arg("weight"), py::arg("bias"),
        py::arg("size"), py::arg("stride"), py::arg("pads"), py::arg("dilation"), py::arg("groups"),
        "Transposed 2-D convolution of x (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw) "
        "to (N, C_out, *size), plus bias: conv2d's input gradient. pads = (top, bottom, left, "
        "right) of the matching conv2d.");
}

}  // namespace autodiff::bind
