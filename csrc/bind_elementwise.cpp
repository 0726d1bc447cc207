// Bindings: binary ops with NumPy broadcasting (add, sub, mul, div) and unary math.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "bind_util.h"
#include "kernels/copy.h"
#include "kernels/elementwise.h"
#include "kernels/optim.h"

namespace autodiff::bind {

using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

// Broadcast shape of a and b by NumPy's rules, else ValueError.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    if (da != db && da != 1 && db != 1)
      throw py::value_error(std::string(op) +
                            ": operands could not be broadcast together with shapes " +
                            shape_str(a) + " and " + shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides of x (elements) aligned to out_shape, 0 on broadcast dims.
std::vector<int64_t> broadcast_strides(const Shape& xs, const std::vector<int64_t>& st,
                                       const Shape& out) {
  std::vector<int64_t> r(out.size(), 0);
  const size_t off = out.size() - xs.size();
  for (size_t d = 0; d < xs.size(); ++d) r[off + d] = xs[d] == 1 ? 0 : st[d];
  return r;
}

// Operands whose last dim is strided are copied, so the kernel streams (a broadcast one,
// stride 0, is read as a scalar per row: no copy).
py::array streamable(const py::array& x, std::vector<int64_t>& st) {
  py::array a = element_strided(x, st);
  if (a.ndim() > 0 && a.shape(a.ndim() - 1) > 1 && st.back() != 1 && st.back() != 0) {
    a = contiguous(a);
    for (py::ssize_t d = 0; d < a.ndim(); ++d) st[d] = a.strides(d) / a.itemsize();
  }
  return a;
}

template <typename T>
py::array binary_typed(BinaryOp op, const py::array& a0, const py::array& b0, const char* name) {
  std::vector<int64_t> sa, sb;
  py::array a = streamable(a0, sa), b = streamable(b0, sb);
  const Shape as = shape_of(a), bs = shape_of(b);
  const Shape os = broadcast_shapes(as, bs, name);
  auto out = empty_apart<T>(os, {&a, &b});
  const auto ba = broadcast_strides(as, sa, os), bb = broadcast_strides(bs, sb, os);
  const T* pa = static_cast<const T*>(a.data());
  const T* pb = static_cast<const T*>(b.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::binary_broadcast<T>(op, pa, ba, pb, bb, po, os);
  }
  return out;
}

py::array binary(BinaryOp op, const py::array& a, const py::array& b, const char* name) {
  return same_dtype(a, b, name) == DType::kF32 ? binary_typed<float>(op, a, b, name)
                                               : binary_typed<double>(op, a, b, name);
}

// out = kernel(x) elementwise: kernel(px, pout, n) on x made contiguous, without the GIL.
template <typename T, typename Kernel>
py::array map_typed(const py::array& x0, Kernel kernel) {
  py::array x = contiguous(x0);
  auto out = empty_apart<T>(shape_of(x), {&x});
  const T* px = static_cast<const T*>(x.data());
  T* po = out.mutable_data();
  const int64_t n = x.size();
  {
    py::gil_scoped_release nogil;
    kernel(px, po, n);
  }
  return out;
}

template <typename T>
py::array unary_typed(UnaryOp op, const py::array& x) {
  return map_typed<T>(
      x, [op](const T* px, T* po, int64_t n) { kernels::unary_contiguous<T>(op, px, po, n); });
}

py::array unary(UnaryOp op, const py::array& x, const char* name) {
  return dtype_of(x, name) == DType::kF32 ? unary_typed<float>(op, x) : unary_typed<double>(op, x);
}

template <typename T>
py::array clamp_typed(const py::array& x, double lo, double hi) {
  return map_typed<T>(x, [lo, hi](const T* px, T* po, int64_t n) {
    kernels::clamp_contiguous<T>(px, po, n, T(lo), T(hi));
  });
}

py::array clamp(const py::array& x, std::optional<double> lo, std::optional<double> hi) {
  if ((lo && std::isnan(*lo)) || (hi && std::isnan(*hi)))
    throw py::value_error("clamp: a NaN bound (NumPy's clip handles it: the result is NaN)");
  const double l = lo.value_or(-INFINITY), h = hi.value_or(INFINITY);
  return dtype_of(x, "clamp") == DType::kF32 ? clamp_typed<float>(x, l, h)
                                             : clamp_typed<double>(x, l, h);
}

template <typename T>
py::array lerp_typed(const py::array& a0, const py::array& b0, double w) {
  py::array a = contiguous(a0), b = contiguous(b0);
  auto out = empty_apart<T>(shape_of(a), {&a, &b});
  const T *pa = static_cast<const T*>(a.data()), *pb = static_cast<const T*>(b.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::lerp_contiguous<T>(pa, pb, po, int64_t(a.size()), T(w));
  }
  return out;
}

py::array lerp(const py::array& a, const py::array& b, double w) {
  const DType dt = same_dtype(a, b, "lerp");
  if (shape_of(a) != shape_of(b))
    throw py::value_error("lerp: start and end must have the same shape, got " +
                          shape_str(shape_of(a)) + " and " + shape_str(shape_of(b)));
  return dt == DType::kF32 ? lerp_typed<float>(a, b, w) : lerp_typed<double>(a, b, w);
}

// Every stride 0 and at least one element: one value broadcast (the gradient of .sum()).
bool broadcast_scalar(const py::array& a) {
  for (py::ssize_t d = 0; d < a.ndim(); ++d)
    if (a.strides(d) != 0 && a.shape(d) != 1) return false;
  return a.size() > 0;
}

// out = kernel(px, pg, pout, n, g_repeats) on x made contiguous and g (x's shape), without
// the GIL: the gradient kernels' binding.
template <typename T, typename Kernel>
py::array grad_map(const py::array& x0, const py::array& g0, Kernel kernel) {
  py::array x = contiguous(x0);
  // A broadcast scalar g is read from one chunk's worth of copies, not filled out to x's size.
  const bool repeats =
      broadcast_scalar(g0) && reinterpret_cast<uintptr_t>(g0.data()) % sizeof(T) == 0;
  std::vector<T> block;
  py::array g = repeats ? g0 : contiguous(g0);
  if (repeats)
    block.assign(size_t(std::min<int64_t>(int64_t(x.size()), kernels::kGradChunk)),
                 *static_cast<const T*>(g0.data()));
  auto out = empty_apart<T>(shape_of(x), {&x, &g});
  const T* px = static_cast<const T*>(x.data());
  const T* pg = repeats ? block.data() : static_cast<const T*>(g.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernel(px, pg, po, int64_t(x.size()), repeats);
  }
  return out;
}

template <typename T>
py::array grad_typed(kernels::GradOp op, const py::array& x, const py::array& g) {
  return grad_map<T>(x, g, [op](const T* px, const T* pg, T* po, int64_t n, bool repeats) {
    kernels::grad_contiguous<T>(op, px, pg, po, n, repeats);
  });
}

kernels::ActOp act_op(const std::string& name) {
  using kernels::ActOp;
  if (name == "leaky_relu") return ActOp::kLeakyRelu;
  if (name == "hardtanh") return ActOp::kHardtanh;
  if (name == "hardsigmoid") return ActOp::kHardsigmoid;
  if (name == "hardswish") return ActOp::kHardswish;
  if (name == "huber") return ActOp::kHuber;
  if (name == "hardshrink") return ActOp::kHardshrink;
  if (name == "softshrink") return ActOp::kSoftshrink;
  if (name == "threshold") return ActOp::kThreshold;
  if (name == "cube") return ActOp::kCube;
  if (name == "softplus") return ActOp::kSoftplus;
  if (name == "logsigmoid") return ActOp::kLogSigmoid;
  if (name == "elu") return ActOp::kElu;
  throw py::value_error(
      "activation: op must be 'leaky_relu', 'hardtanh', 'hardsigmoid', "
      "'hardswish', 'huber', 'hardshrink', 'softshrink', 'threshold', "
      "'softplus', 'logsigmoid', 'elu' or 'cube', got '" +
      name + "'");
}

template <typename T>
py::array activation_typed(kernels::ActOp op, const py::array& x,
                           const T (&p)[kernels::kNumActParams]) {
  return map_typed<T>(x, [op, p](const T* px, T* po, int64_t n) {
    kernels::act_contiguous<T>(op, px, nullptr, po, n, p);
  });
}

py::array activation(const std::string& name, const py::array& x, double p0, double p1, double p2) {
  const kernels::ActOp op = act_op(name);
  if (op == kernels::ActOp::kHardtanh)
    throw py::value_error("activation: hardtanh's forward is clamp");
  if (dtype_of(x, "activation") == DType::kF32)
    return activation_typed<float>(op, x, {float(p0), float(p1), float(p2)});
  return activation_typed<double>(op, x, {p0, p1, p2});
}

template <typename T>
py::array activation_backward_typed(kernels::ActOp op, const py::array& x, const py::array& g,
                                    const T (&p)[kernels::kNumActParams]) {
  return grad_map<T>(x, g, [op, p](const T* px, const T* pg, T* po, int64_t n, bool repeats) {
    kernels::act_contiguous<T>(op, px, pg, po, n, p, repeats);
  });
}

py::array activation_backward(const std::string& name, const py::array& x, const py::array& g,
                              double p0, double p1, double p2) {
  const kernels::ActOp op = act_op(name);
  const char* what = "activation_backward";
  const DType dt = same_dtype(x, g, what);
  if (shape_of(x) != shape_of(g))
    throw py::value_error(std::string(what) + ": x and g must have the same shape, got " +
                          shape_str(shape_of(x)) + " and " + shape_str(shape_of(g)));
  if (dt == DType::kF32)
    return activation_backward_typed<float>(op, x, g, {float(p0), float(p1), float(p2)});
  return activation_backward_typed<double>(op, x, g, {p0, p1, p2});
}

// approximate: "none" (the erf form) or "tanh", as torch.nn.functional.gelu.
bool gelu_tanh(const std::string& approximate, const char* name) {
  if (approximate != "none" && approximate != "tanh")
    throw py::value_error(std::string(name) + ": approximate must be 'none' or 'tanh', got '" +
                          approximate + "'");
  return approximate == "tanh";
}

py::array gelu(const py::array& x, const std::string& approximate) {
  return unary(gelu_tanh(approximate, "gelu") ? UnaryOp::kGeluTanh : UnaryOp::kGelu, x, "gelu");
}

py::array grad(kernels::GradOp op, const py::array& x, const py::array& g, const char* name) {
  const DType dt = same_dtype(x, g, name);
  if (shape_of(x) != shape_of(g))
    throw py::value_error(std::string(name) + ": x and g must have the same shape, got " +
                          shape_str(shape_of(x)) + " and " + shape_str(shape_of(g)));
  return dt == DType::kF32 ? grad_typed<float>(op, x, g) : grad_typed<double>(op, x, g);
}

py::array gelu_backward(const py::array& x, const py::array& g, const std::string& approximate) {
  const char* name = "gelu_backward";
  return grad(gelu_tanh(approximate, name) ? kernels::GradOp::kGeluTanh : kernels::GradOp::kGelu, x,
              g, name);
}

// A C-contiguous copy of any strided numeric array (bits moved as unsigned integers of the
// item size); other dtypes (objects, strings, 16-byte items) and misaligned views go
// through NumPy.
py::array copy_contiguous(const py::array& a) {
  const int64_t isz = a.itemsize();
  const char kind = a.dtype().kind();
  bool ok = (kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b' || kind == 'c') &&
            (isz == 1 || isz == 2 || isz == 4 || isz == 8) &&
            reinterpret_cast<uintptr_t>(a.data()) % isz == 0;
  for (py::ssize_t d = 0; d < a.ndim() && ok; ++d) ok = a.strides(d) % isz == 0;
  if (!ok) return a.attr("copy")("C").cast<py::array>();
  Shape shape = shape_of(a);
  std::vector<int64_t> st(a.ndim());
  for (py::ssize_t d = 0; d < a.ndim(); ++d) st[d] = a.strides(d) / isz;
  py::array out(a.dtype(), std::vector<py::ssize_t>(shape.begin(), shape.end()));
  const void* src = a.data();
  void* dst = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    switch (isz) {
      case 1:
        kernels::copy_to_contiguous(static_cast<const uint8_t*>(src), shape, st,
                                    static_cast<uint8_t*>(dst));
        break;
      case 2:
        kernels::copy_to_contiguous(static_cast<const uint16_t*>(src), shape, st,
                                    static_cast<uint16_t*>(dst));
        break;
      case 4:
        kernels::copy_to_contiguous(static_cast<const uint32_t*>(src), shape, st,
                                    static_cast<uint32_t*>(dst));
        break;
      default:
        kernels::copy_to_contiguous(static_cast<const uint64_t*>(src), shape, st,
                                    static_cast<uint64_t*>(dst));
    }
  }
  return out;
}

// where(cond, a, b) with NumPy broadcasting: cond bool, a and b one numeric dtype of 4 or 8
// bytes (the select moves bits).  A branch-free loop: NumPy's np.where branches per
// element and takes 4 ns per element on a random mask.
py::array where(const py::array& cond0, const py::array& a0, const py::array& b0) {
  const char* name = "where";
  if (cond0.dtype().kind() != 'b')
    throw py::type_error(std::string(name) + ": cond must be a bool array, got " +
                         dtype_str(cond0));
  const char kind = a0.dtype().kind();
  if (!same_type(a0.dtype(), b0.dtype()) || (kind != 'f' && kind != 'i' && kind != 'u') ||
      (a0.itemsize() != 4 && a0.itemsize() != 8))
    throw py::type_error(std::string(name) +
                         ": a and b must share one 4- or 8-byte numeric "
                         "dtype, got " +
                         dtype_str(a0) + " and " + dtype_str(b0));
  std::vector<int64_t> sa, sb, sc;
  py::array a = element_strided(a0, sa), b = element_strided(b0, sb);
  py::array cond = element_strided(cond0, sc);
  const Shape os =
      broadcast_shapes(broadcast_shapes(shape_of(cond), shape_of(a), name), shape_of(b), name);
  const auto bc = broadcast_strides(shape_of(cond), sc, os);
  const auto ba = broadcast_strides(shape_of(a), sa, os);
  const auto bb = broadcast_strides(shape_of(b), sb, os);
  py::array out(a.dtype(), std::vector<py::ssize_t>(os.begin(), os.end()));
  const auto* pc = static_cast<const uint8_t*>(cond.data());
  const void* pa = a.data();
  const void* pb = b.data();
  void* po = out.mutable_data();
  const bool four_bytes = a.itemsize() == 4;  // with the GIL: itemsize() touches refcounts
  py::gil_scoped_release nogil;
  if (four_bytes)
    kernels::where_strided(pc, bc, static_cast<const uint32_t*>(pa), ba,
                           static_cast<const uint32_t*>(pb), bb, static_cast<uint32_t*>(po), os);
  else
    kernels::where_strided(pc, bc, static_cast<const uint64_t*>(pa), ba,
                           static_cast<const uint64_t*>(pb), bb, static_cast<uint64_t*>(po), os);
  return out;
}

// The byte stride between the rows of `a` (a row: its dims from `axis` on) when each row is
// C-contiguous and the rows are evenly spaced (a slice along the axis, a broadcast), so it
// is read in place; else a C-contiguous copy of `a` is made (`copy`) and its stride given.
int64_t row_stride(const py::array& a, int axis, py::array& copy) {
  int64_t row = a.itemsize(), rs = 0, next = 0;
  bool ok = true, outer = false;
  for (int d = int(a.ndim()) - 1; d >= axis; --d) {
    ok = ok && (a.shape(d) == 1 || a.strides(d) == row);
    row *= a.shape(d);
  }
  for (int d = axis - 1; ok && d >= 0; --d) {
    if (a.shape(d) == 1) continue;
    if (!outer) {
      outer = true, rs = a.strides(d), next = rs * a.shape(d);
    } else {
      ok = a.strides(d) == next;
      next *= a.shape(d);
    }
  }
  copy = ok ? a : contiguous(a);
  return ok && outer ? rs : row;
}

// np.concatenate of arrays of one dtype, threaded; inputs whose rows (the dims from the axis
// on) are C-contiguous and evenly spaced are read in place, others copied C-contiguous
// first.  ValueError (NumPy's wording) when the shapes differ off the axis.
py::array concatenate(const std::vector<py::array>& arrays0, int64_t axis0) {
  if (arrays0.empty()) throw py::value_error("need at least one array to concatenate");
  if (arrays0[0].dtype().kind() == 'O')  // bytes are copied: no reference counts
    throw py::type_error("concatenate: object arrays are not supported");
  const int nd = int(arrays0[0].ndim());
  const int axis = normalize_axis(axis0, nd, "concatenate");
  std::vector<py::array> arrays;
  Shape out = shape_of(arrays0[0]);
  out[axis] = 0;
  for (const auto& a0 : arrays0) {
    const Shape s = shape_of(a0);
    bool ok = same_type(a0.dtype(), arrays0[0].dtype()) && int(s.size()) == nd;
    for (int d = 0; ok && d < nd; ++d) ok = d == axis || s[d] == out[d];
    if (!ok)
      throw py::value_error(
          "all the input array dimensions except for the concatenation axis "
          "must match exactly (and the dtypes be equal), got " +
          shape_str(shape_of(arrays0[0])) + " and " + shape_str(s));
    out[axis] += s[axis];
  }
  py::array res(arrays0[0].dtype(), std::vector<py::ssize_t>(out.begin(), out.end()));
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out[d];
  std::vector<const uint8_t*> src;
  std::vector<int64_t> piece, stride;
  for (const auto& a0 : arrays0) {
    py::array a;
    stride.push_back(row_stride(a0, axis, a));
    arrays.push_back(a);  // (keeps a copy alive)
    src.push_back(static_cast<const uint8_t*>(a.data()));
    piece.push_back(outer ? int64_t(a.nbytes()) / outer : 0);
  }
  auto* dst = static_cast<uint8_t*>(res.mutable_data());
  py::gil_scoped_release nogil;
  kernels::concat_rows(src, piece, stride, outer, dst);
  return res;
}

// tril (upper false) / triu of the last two dims of an array of any fixed-size dtype: a
// C-contiguous copy zeroed outside the band, threaded (NumPy's is a mask and a where).
py::array tri(const py::array& a0, int64_t k, bool upper) {
  if (a0.ndim() < 2 || a0.dtype().kind() == 'O')
    throw py::value_error(std::string(upper ? "triu" : "tril") +
                          ": expected a numeric array of at least 2 dims, got shape " +
                          shape_str(shape_of(a0)) + " and dtype " + dtype_str(a0));
  py::array a = contiguous(a0);
  const Shape s = shape_of(a);
  const int64_t n = s[s.size() - 2], m = s[s.size() - 1];
  const int64_t batch = n > 0 && m > 0 ? numel(s) / (n * m) : 0;
  py::array out(a.dtype(), std::vector<py::ssize_t>(s.begin(), s.end()));
  const auto* src = static_cast<const uint8_t*>(a.data());
  auto* dst = static_cast<uint8_t*>(out.mutable_data());
  const int64_t item = a.itemsize();
  {
    py::gil_scoped_release nogil;
    kernels::tri_rows(src, batch, n, m, item, k, upper, dst);
  }
  return out;
}

// Source indices of a dim of size n padded by (lo, hi): mode 0 reflect (needs lo, hi < n),
// 1 replicate (n >= 1), 2 circular (lo, hi <= n), 3 constant (-1 in the pads); ValueError
// otherwise.
std::vector<int64_t> edge_map(int64_t n, int64_t lo, int64_t hi, int mode) {
  const bool fits = mode == 0   ? lo < n && hi < n
                    : mode == 1 ? n >= 1
                    : mode == 2 ? lo <= n && hi <= n
                                : mode == 3;
  if (lo < 0 || hi < 0 || mode < 0 || mode > 3 || !(fits || (lo == 0 && hi == 0)))
    throw py::value_error("edge_pad: pads (" + std::to_string(lo) + ", " + std::to_string(hi) +
                          ") do not fit a dim of size " + std::to_string(n) + " in mode " +
                          std::to_string(mode) + " (0 reflect: pads < size; 1 replicate: size " +
                          ">= 1; 2 circular: pads <= size; 3 constant)");
  std::vector<int64_t> map(size_t(n + lo + hi));
  for (int64_t p = 0; p < n + lo + hi; ++p) {
    const int64_t q = p - lo;
    int64_t src = q;
    if (q < 0 || q >= n) {
      if (mode == 0) src = q < 0 ? -q : 2 * (n - 1) - q;
      if (mode == 1) src = std::clamp<int64_t>(q, 0, n - 1);
      if (mode == 2) src = ((q % n) + n) % n;
      if (mode == 3) src = -1;
    }
    map[size_t(p)] = src;
  }
  return map;
}

// Reflect / replicate / circular / constant padding of the last two dims (pads = top, bottom,
// left, right), any 1/2/4/8-byte dtype: one threaded pass (the NumPy kernels: a copy per
// border).  Constant mode takes `value` as a 1-element array of a's dtype.
py::array edge_pad2d(const py::array& a0, const std::array<int64_t, 4>& pads, int mode,
                     const py::object& value) {
  if (a0.ndim() < 2 || a0.dtype().kind() == 'O' ||
      (a0.itemsize() != 1 && a0.itemsize() != 2 && a0.itemsize() != 4 && a0.itemsize() != 8))
    throw py::value_error("edge_pad2d: expected a numeric array of at least 2 dims, got shape " +
                          shape_str(shape_of(a0)) + " and dtype " + dtype_str(a0));
  py::array a = contiguous(a0);
  Shape s = shape_of(a);
  const size_t nd = s.size();
  const int64_t h = s[nd - 2], w = s[nd - 1];
  const std::vector<int64_t> rmap = edge_map(h, pads[0], pads[1], mode);
  const std::vector<int64_t> cmap = edge_map(w, pads[2], pads[3], mode);
  py::array fill;
  if (mode == 3) {
    if (!py::isinstance<py::array>(value) || value.cast<py::array>().size() != 1 ||
        !same_type(value.cast<py::array>().dtype(), a.dtype()))
      throw py::type_error(
          "edge_pad2d: constant mode needs the value as a 1-element array of "
          "the input's dtype " +
          dtype_str(a));
    fill = contiguous(value.cast<py::array>());
  }
  int64_t planes = 1;  // the leading dims' product (all-fill rows when h or w is 0)
  for (size_t d = 0; d + 2 < nd; ++d) planes *= s[d];
  s[nd - 2] = int64_t(rmap.size()), s[nd - 1] = int64_t(cmap.size());
  py::array out(a.dtype(), std::vector<py::ssize_t>(s.begin(), s.end()));
  const auto* src = static_cast<const uint8_t*>(a.data());
  const auto* pf = mode == 3 ? static_cast<const uint8_t*>(fill.data()) : nullptr;
  auto* dst = static_cast<uint8_t*>(out.mutable_data());
  const int64_t item = a.itemsize(), oh = s[nd - 2], ow = s[nd - 1];
  {
    py::gil_scoped_release nogil;
    kernels::edge_pad_rows(src, planes, h, w, item, rmap.data(), oh, cmap.data(), ow, pads[2], pf,
                           dst);
  }
  return out;
}

// a[rows] for integer rows of any shape (negative ones from the end): rows of a (made
// C-contiguous) copied in threads.  IndexError names the first index out of range.
py::array take_rows(const py::array& a0, const py::array& rows0) {
  const char* name = "take_rows";
  if (a0.ndim() == 0 || a0.dtype().kind() == 'O')
    throw py::type_error(std::string(name) + ": expected a numeric array of at least 1 dim");
  const char kind = rows0.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(std::string(name) + ": rows must be integers, got " + dtype_str(rows0));
  py::array a = contiguous(a0);
  auto rows = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(rows0);
  const int64_t n = a.shape(0), k = int64_t(rows.size());
  std::vector<int64_t> r(rows.data(), rows.data() + k);
  for (auto& v : r) {
    if (v < -n || v >= n)
      throw py::index_error("index " + std::to_string(v) +
                            " is out of bounds for axis 0 with "
                            "size " +
                            std::to_string(n));
    if (v < 0) v += n;
  }
  Shape out = shape_of(rows0);
  for (py::ssize_t d = 1; d < a.ndim(); ++d) out.push_back(a.shape(d));
  py::array res(a.dtype(), std::vector<py::ssize_t>(out.begin(), out.end()));
  const int64_t row_bytes = n ? int64_t(a.nbytes()) / n : 0;
  const auto* src = static_cast<const uint8_t*>(a.data());
  auto* dst = static_cast<uint8_t*>(res.mutable_data());
  py::gil_scoped_release nogil;
  kernels::gather_rows(src, row_bytes, r.data(), k, dst);
  return res;
}

}  // namespace

// The arrays an optimizer step updates in place (writeable, C-contiguous, of p's float dtype
// and shape) and its gradient g (same dtype and shape, any layout): g contiguous, copied when
// it overlaps one of them.
py::array checked_step(const char* name, const std::vector<py::array*>& state,
                       const py::array& g0) {
  const py::array& p = *state[0];
  dtype_of(p, name);
  const Shape shape = shape_of(p);
  for (py::array* a : state) {
    same_dtype(p, *a, name);
    if (shape_of(*a) != shape || !a->writeable() || !(a->flags() & py::array::c_style))
      throw py::value_error(std::string(name) +
                            ": the parameter and its state must be "
                            "writeable C-contiguous arrays of one shape, got " +
                            shape_str(shape_of(*a)) + " for " + shape_str(shape));
  }
  same_dtype(p, g0, name);
  if (shape_of(g0) != shape)
    throw py::value_error(std::string(name) + ": g of shape " + shape_str(shape_of(g0)) +
                          " for a parameter of shape " + shape_str(shape));
  py::array g = contiguous(g0);
  const auto may_share = py::module_::import("numpy").attr("may_share_memory");
  for (py::array* a : state)
    if (may_share(*a, g).cast<bool>()) return g.attr("copy")();
  return g;
}

// One Adam step in place: p, m, v (and vmax) writeable C-contiguous arrays of one float
// dtype and shape, g of the same dtype and shape (any layout; copied when it overlaps them).
void adam_update(py::array p, const py::array& g0, py::array m, py::array v,
                 std::optional<py::array> vmax, double beta1, double beta2, double step_size,
                 double inv_sqrt_bc2, double eps) {
  std::vector<py::array*> state = {&p, &m, &v};
  if (vmax) state.push_back(&*vmax);
  const py::array g = checked_step("adam_update", state, g0);
  const kernels::AdamStep st{beta1, beta2, step_size, inv_sqrt_bc2, eps};
  const int64_t n = numel(shape_of(p));
  auto run = [&](auto tag) {
    using T = decltype(tag);
    auto ptr = [](py::array* a) { return a ? static_cast<T*>(a->mutable_data()) : nullptr; };
    T *pp = ptr(&p), *pm = ptr(&m), *pv = ptr(&v), *pmax = vmax ? ptr(&*vmax) : nullptr;
    const T* pg = static_cast<const T*>(g.data());
    py::gil_scoped_release nogil;
    kernels::adam_update<T>(pp, pg, pm, pv, pmax, n, st);
  };
  if (dtype_of(p, "adam_update") == DType::kF32)
    run(float());
  else
    run(double());
}

// One SGD-with-momentum step in place: p and the momentum buffer b writeable C-contiguous
// arrays of one float dtype and shape, g likewise (any layout).  first: b = g.
void sgd_update(py::array p, const py::array& g0, py::array b, double lr, double momentum,
                double dampening, bool nesterov, bool first) {
  const py::array g = checked_step("sgd_update", {&p, &b}, g0);
  const kernels::SgdStep st{lr, momentum, dampening, nesterov, first};
  const int64_t n = numel(shape_of(p));
  auto run = [&](auto tag) {
    using T = decltype(tag);
    T* pp = static_cast<T*>(p.mutable_data());
    T* pb = static_cast<T*>(b.mutable_data());
    const T* pg = static_cast<const T*>(g.data());
    py::gil_scoped_release nogil;
    kernels::sgd_update<T>(pp, pg, pb, n, st);
  };
  if (dtype_of(p, "sgd_update") == DType::kF32)
    run(float());
  else
    run(double());
}

void init_elementwise(py::module_& m) {
  m.def("adam_update", &adam_update, py::arg("p"), py::arg("g"), py::arg("m"), py::arg("v"),
        py::arg("vmax"), py::arg("beta1"), py::arg("beta2"), py::arg("step_size"),
        py::arg("inv_sqrt_bc2"), py::arg("eps"),
        "One Adam step in place, in one pass: m += (1 - beta1)(g - m); v = beta2 v + "
        "(1 - beta2) g^2; vmax = max(vmax, v) when given; p -= step_size m / (sqrt(v) "
        "inv_sqrt_bc2 + eps).");
  m.def("sgd_update", &sgd_update, py::arg("p"), py::arg("g"), py::arg("buf"), py::arg("lr"),
        py::arg("momentum"), py::arg("dampening"), py::arg("nesterov"), py::arg("first"),
        "One SGD-with-momentum step in place, in one pass: buf = g (first) or momentum buf + "
        "(1 - dampening) g; p -= lr (momentum buf + g if nesterov else buf).");
  m.def("take_rows", &take_rows, py::arg("a"), py::arg("rows"),
        "a[rows] along the first axis for integer rows, threaded (a copy).");
  m.def("concatenate", &concatenate, py::arg("arrays"), py::arg("axis"),
        "np.concatenate for arrays of one dtype, threaded (the inputs made C-contiguous).");
  m.def("edge_pad2d", &edge_pad2d, py::arg("a"), py::arg("pads"), py::arg("mode"),
        py::arg("value") = py::none(),
        "Reflect (0), replicate (1), circular (2) or constant (3: `value`, a 1-element array "
        "of a's dtype) padding of the last two dims by pads = (top, bottom, left, right): one "
        "threaded pass.");
  m.def("tri", &tri, py::arg("a"), py::arg("k"), py::arg("upper"),
        "tril (upper=False) or triu of the last two dims: a C-contiguous copy, threaded.");
  m.def("where", &where, py::arg("cond"), py::arg("a"), py::arg("b"),
        "cond ? a : b with NumPy broadcasting (cond bool; a, b one 4/8-byte numeric dtype).");
  m.def("copy_contiguous", &copy_contiguous, py::arg("a"),
        "A C-contiguous copy of a (np.ascontiguousarray, but threaded and tiled for "
        "transposed views); always a new array.");
  m.def(
      "add", [](py::array a, py::array b) { return binary(BinaryOp::kAdd, a, b, "add"); },
      py::arg("a"), py::arg("b"), "a + b with NumPy broadcasting (float32/float64).");
  m.def(
      "sub", [](py::array a, py::array b) { return binary(BinaryOp::kSub, a, b, "sub"); },
      py::arg("a"), py::arg("b"), "a - b with NumPy broadcasting (float32/float64).");
  m.def(
      "mul", [](py::array a, py::array b) { return binary(BinaryOp::kMul, a, b, "mul"); },
      py::arg("a"), py::arg("b"), "a * b with NumPy broadcasting (float32/float64).");
  m.def(
      "div", [](py::array a, py::array b) { return binary(BinaryOp::kDiv, a, b, "div"); },
      py::arg("a"), py::arg("b"), "a / b with NumPy broadcasting (float32/float64).");
  m.def(
      "fmod", [](py::array a, py::array b) { return binary(BinaryOp::kFmod, a, b, "fmod"); },
      py::arg("a"), py::arg("b"),
      "C's fmod(a, b) (the sign of a; b = 0 gives NaN) with NumPy broadcasting, exact, as "
      "PyTorch's (float32/float64).");
  m.def(
      "remainder",
      [](py::array a, py::array b) { return binary(BinaryOp::kRemainder, a, b, "remainder"); },
      py::arg("a"), py::arg("b"),
      "Python's a % b (the sign of b: fmod, plus b where that is nonzero and of the other "
      "sign) with NumPy broadcasting, exact, as PyTorch's (float32/float64).");
  m.def(
      "relu_backward",
      [](py::array y, py::array g) { return binary(BinaryOp::kReluBwd, y, g, "relu_backward"); },
      py::arg("y"), py::arg("g"),
      "g where not y <= 0, else 0: the gradient of relu from its output y (a NaN y passes g, "
      "an inf g where y <= 0 gives 0, as PyTorch's threshold_backward).");
  m.def(
      "exp", [](py::array x) { return unary(UnaryOp::kExp, x, "exp"); }, py::arg("x"),
      "exp(x); float32 vectorised (<= 2 ulp), float64 via libm.");
  m.def(
      "log", [](py::array x) { return unary(UnaryOp::kLog, x, "log"); }, py::arg("x"),
      "log(x); float32 vectorised, float64 via libm.");
  m.def(
      "tanh", [](py::array x) { return unary(UnaryOp::kTanh, x, "tanh"); }, py::arg("x"),
      "tanh(x); float32 vectorised, float64 via libm.");
  m.def(
      "sigmoid", [](py::array x) { return unary(UnaryOp::kSigmoid, x, "sigmoid"); }, py::arg("x"),
      "1 / (1 + exp(-x)), evaluated without overflow.");
  m.def(
      "sqrt", [](py::array x) { return unary(UnaryOp::kSqrt, x, "sqrt"); }, py::arg("x"),
      "sqrt(x), correctly rounded (NaN for x < 0, as NumPy without the warning).");
  m.def(
      "erf", [](py::array x) { return unary(UnaryOp::kErf, x, "erf"); }, py::arg("x"),
      "erf(x); float32 vectorised (<= 3 ulp measured), float64 via libm.");
  m.def("gelu", &gelu, py::arg("x"), py::arg("approximate") = "none",
        "x * Phi(x) (approximate='tanh': PyTorch's tanh form); float32 vectorised.");
  m.def("gelu_backward", &gelu_backward, py::arg("x"), py::arg("g"),
        py::arg("approximate") = "none", "g * d gelu(x) / dx.");
  m.def(
      "silu", [](py::array x) { return unary(UnaryOp::kSilu, x, "silu"); }, py::arg("x"),
      "x * sigmoid(x).");
  m.def(
      "silu_backward",
      [](py::array x, py::array g) { return grad(kernels::GradOp::kSilu, x, g, "silu_backward"); },
      py::arg("x"), py::arg("g"), "g * d silu(x) / dx.");
  m.def(
      "output_backward",
      [](const std::string& op, py::array y, py::array g) {
        using kernels::GradOp;
        const GradOp k = op == "sigmoid" ? GradOp::kSigmoidOut
                         : op == "tanh"  ? GradOp::kTanhOut
                         : op == "sqrt"  ? GradOp::kSqrtOut
                                         : throw py::value_error(
                                               "output_backward: op must be 'sigmoid', 'tanh' "
                                               "or 'sqrt', got '" +
                                               op + "'");
        return grad(k, y, g, "output_backward");
      },
      py::arg("op"), py::arg("y"), py::arg("g"),
      "The gradient of sigmoid / tanh / sqrt from their output y: g y (1 - y), g (1 - y^2), "
      "g / (2 y).");
  m.def(
      "abs_backward",
      [](py::array x, py::array g) { return grad(kernels::GradOp::kAbs, x, g, "abs_backward"); },
      py::arg("x"), py::arg("g"), "g * sign(x) (0 at 0, NaN at NaN).");
  m.def(
      "relu", [](py::array x) { return unary(UnaryOp::kRelu, x, "relu"); }, py::arg("x"),
      "max(x, 0) (NaN propagates, as np.maximum).");
  m.def(
      "abs", [](py::array x) { return unary(UnaryOp::kAbs, x, "abs"); }, py::arg("x"),
      "|x| (the sign bit cleared: NaN stays NaN).");
  m.def("activation", &activation, py::arg("op"), py::arg("x"), py::arg("p0") = 0.0,
        py::arg("p1") = 0.0, py::arg("p2") = 0.0,
        "op(x) for op 'leaky_relu' (p0 the slope), 'hardsigmoid', 'hardswish', 'huber' (p0 "
        "delta, p1 a scale), 'hardshrink' and 'softshrink' (p0 lambda), 'threshold' (p0 the "
        "threshold, p1 the value), 'softplus' (p0 beta, p1 the threshold), 'logsigmoid', 'elu' "
        "(p0 alpha, p1 scale, p2 input_scale), with PyTorch's formulas (NaN propagates).");
  m.def("activation_backward", &activation_backward, py::arg("op"), py::arg("x"), py::arg("g"),
        py::arg("p0") = 0.0, py::arg("p1") = 0.0, py::arg("p2") = 0.0,
        "g * op'(x) for op 'leaky_relu' (p0 the slope), 'hardtanh' (p0, p1 the bounds; 0 at "
        "them), 'hardsigmoid', 'hardswish', 'huber', 'hardshrink', 'softshrink', 'threshold', "
        "'softplus', 'logsigmoid', 'elu' (the parameters of activation), with PyTorch's "
        "conditions (NaN x: its branch).");
  m.def("lerp", &lerp, py::arg("start"), py::arg("end"), py::arg("weight"),
        "start + weight (end - start) for one weight, as PyTorch's vectorised lerp: "
        "fma(weight, end - start, start) where |weight| < 0.5, else "
        "fma(weight - 1, end - start, end).");
  m.def("clamp", &clamp, py::arg("x"), py::arg("min") = py::none(), py::arg("max") = py::none(),
        "min(max(x, min), max) (max when min > max; NaN x stays NaN), as np.clip; a bound "
        "of None is no bound.");
}

}  // namespace autodiff::bind
