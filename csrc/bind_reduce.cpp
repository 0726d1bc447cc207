// Bindings: sum / mean / amax / var over any axes, sum_to (the backward of broadcasting)
// and batch_norm_stats (per-channel mean and biased variance).
#include <algorithm>
#include <optional>

#include "bind_util.h"
#include "kernels/index.h"
#include "kernels/reduce.h"
#include "kernels/sort.h"

namespace autodiff::bind {

using kernels::ReduceOp;

namespace {

template <typename T>
py::array reduce_typed(const py::array& x, int64_t outer, int64_t n, int64_t inner, ReduceOp op,
                       double correction) {
  auto out = empty<T>({outer * inner});
  const T* px = static_cast<const T*>(x.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::reduce_axis<T>(op, px, outer, n, inner, po, correction);
  }
  return out;
}

py::array reduce_call(const py::array& x, int64_t outer, int64_t n, int64_t inner, ReduceOp op,
                      double correction, DType dt) {
  return dt == DType::kF32 ? reduce_typed<float>(x, outer, n, inner, op, correction)
                           : reduce_typed<double>(x, outer, n, inner, op, correction);
}

template <typename T>
py::tuple channel_stats_typed(const py::array& x, int64_t outer, int64_t c, int64_t inner,
                              const Shape& keep) {
  auto mean = empty<T>(keep), var = empty<T>(keep);
  const T* px = static_cast<const T*>(x.data());
  T* pm = mean.mutable_data();
  T* pv = var.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::channel_stats<T>(px, outer, c, inner, pm, pv);
  }
  return py::make_tuple(mean, var);
}

py::array reshape(const py::array& a, const Shape& s) {
  return a.attr("reshape")(py::tuple(py::cast(s))).cast<py::array>();
}

struct Group {
  int64_t size;
  bool reduced;
};

// Reduce x over the sorted axes.  One reduced block of adjacent dims is one kernel call;
// several blocks are reduced one after the other (sum/mean/max) or moved together first (var).
py::array reduce_impl(const py::array& x0, const std::vector<int>& axes, ReduceOp op,
                      double correction, bool keepdims, const char* name) {
  const DType dt = dtype_of(x0, name);
  py::array x = contiguous(x0);
  const Shape s = shape_of(x);
  const int nd = int(s.size());
  std::vector<bool> red(nd, false);
  for (int a : axes) red[a] = true;
  Shape out_shape, keep_shape;
  int64_t n_red = 1;
  for (int d = 0; d < nd; ++d) {
    keep_shape.push_back(red[d] ? 1 : s[d]);
    if (!red[d]) out_shape.push_back(s[d]);
    if (red[d]) n_red *= s[d];
  }
  const Shape& final_shape = keepdims ? keep_shape : out_shape;
  if (n_red == 1 && op != ReduceOp::kVar)  // one element per output: the sum, mean or max is a copy
    return reshape(x.attr("copy")().cast<py::array>(), final_shape);
  if (op == ReduceOp::kMax && n_red == 0 && numel(out_shape) > 0)
    throw py::value_error(std::string(name) +
                          ": zero-size array to reduction operation maximum which has no identity");
  std::vector<Group> g;
  for (int d = 0; d < nd; ++d) {
    if (s[d] == 1) continue;
    if (!g.empty() && g.back().reduced == red[d])
      g.back().size *= s[d];
    else
      g.push_back({s[d], red[d]});
  }
  int n_groups = 0;
  for (auto& gr : g) n_groups += gr.reduced;
  if (numel(s) == 0 || n_groups == 0) {  // nothing to walk across: n = n_red (0 or 1)
    return reshape(reduce_call(x, numel(out_shape), n_red, 1, op, correction, dt), final_shape);
  }
  if (n_groups > 1 && op == ReduceOp::kVar && g.size() == 3 && g[0].reduced) {
    // (reduced, kept, reduced): batch norm's per-channel statistics, without a transpose
    const py::tuple mv =
        dt == DType::kF32
            ? channel_stats_typed<float>(x, g[0].size, g[1].size, g[2].size, {g[1].size})
            : channel_stats_typed<double>(x, g[0].size, g[1].size, g[2].size, {g[1].size});
    const double nr = double(n_red);
    py::array v = mv[1].cast<py::array>();
    return reshape(v.attr("__mul__")(nr / std::max(nr - correction, 0.0)).cast<py::array>(),
                   final_shape);
  }
  // var, prod: move the reduced axes last, then one call (prod: rounded once, not per group)
  if (n_groups > 1 && (op == ReduceOp::kVar || op == ReduceOp::kProd)) {
    std::vector<int> perm;
    for (int d = 0; d < nd; ++d)
      if (!red[d]) perm.push_back(d);
    for (int d = 0; d < nd; ++d)
      if (red[d]) perm.push_back(d);
    py::array xt = contiguous(x.attr("transpose")(py::tuple(py::cast(perm))).cast<py::array>());
    return reshape(reduce_call(xt, numel(out_shape), n_red, 1, op, correction, dt), final_shape);
  }
  py::array cur = x;
  while (true) {
    int last = -1;
    for (int i = 0; i < int(g.size()); ++i)
      if (g[i].reduced) last = i;
    if (last < 0) break;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < last; ++i) outer *= g[i].size;
    for (int i = last + 1; i < int(g.size()); ++i) inner *= g[i].size;
    cur = reduce_call(cur, outer, g[last].size, inner, op, correction, dt);
    g.erase(g.begin() + last);
    // merge the kept neighbours that became adjacent
    if (last > 0 && last < int(g.size()) && !g[last - 1].reduced && !g[last].reduced) {
      g[last - 1].size *= g[last].size;
      g.erase(g.begin() + last);
    }
  }
  return reshape(cur, final_shape);
}

py::array reduce_entry(const py::array& x, const py::object& axis, bool keepdims, ReduceOp op,
                       double correction, const char* name) {
  dtype_of(x, name);
  return reduce_impl(x, normalize_axes(axis, x.ndim(), name), op, correction, keepdims, name);
}

// The axes of g (shape gs) that sum_to(g, shape) reduces; throws if shape cannot be
// broadcast to gs.
std::vector<int> sum_to_axes(const Shape& gs, const Shape& shape, const char* name) {
  const int64_t lead = int64_t(gs.size()) - int64_t(shape.size());
  bool ok = lead >= 0;
  std::vector<int> axes;
  for (int64_t d = 0; ok && d < int64_t(gs.size()); ++d) {
    if (d < lead) {
      axes.push_back(int(d));
    } else if (shape[d - lead] != gs[d]) {
      if (shape[d - lead] != 1) ok = false;
      axes.push_back(int(d));
    }
  }
  if (!ok)
    throw py::value_error(std::string(name) + ": cannot reduce an array of shape " + shape_str(gs) +
                          " to shape " + shape_str(shape));
  return axes;
}

py::array sum_to(const py::array& g, const Shape& shape) {
  dtype_of(g, "sum_to");
  auto axes = sum_to_axes(shape_of(g), shape, "sum_to");
  return reshape(reduce_impl(g, axes, ReduceOp::kSum, 0.0, false, "sum_to"), shape);
}

template <typename T>
py::array mul_sum_typed(const py::array& g, const py::array& h, int64_t outer, int64_t n,
                        int64_t inner, const Shape& keep) {
  auto out = empty<T>(keep);
  const T* pg = static_cast<const T*>(g.data());
  const T* ph = static_cast<const T*>(h.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::mul_sum_axis<T>(pg, ph, outer, n, inner, po);
  }
  return out;
}

// sum_to(g * h, shape) for g, h of one shape: the last block of adjacent reduced dims is
// reduced by the fused kernel (g * h never stored), any other reduced dims by sum_to.
py::array mul_sum_to(const py::array& g0, const py::array& h0, const Shape& shape) {
  const DType dt = same_dtype(g0, h0, "mul_sum_to");
  const Shape gs = shape_of(g0);
  if (shape_of(h0) != gs)
    throw py::value_error("mul_sum_to: g and h must have one shape, got " + shape_str(gs) +
                          " and " + shape_str(shape_of(h0)));
  auto axes = sum_to_axes(gs, shape, "mul_sum_to");
  int last = -1;  // last reduced dim of size != 1
  for (int a : axes)
    if (gs[a] != 1) last = a;
  if (last < 0)  // only size-1 dims reduced: a product and a reshape
    return reshape(g0.attr("__mul__")(h0).cast<py::array>(), shape);
  int first = last;  // extend left over reduced (or size-1) dims
  std::vector<bool> red(gs.size(), false);
  for (int a : axes) red[a] = true;
  while (first > 0 && (red[first - 1] || gs[first - 1] == 1)) --first;
  py::array g = contiguous(g0), h = contiguous(h0);
  int64_t outer = 1, n = 1, inner = 1;
  Shape keep = gs;
  for (int d = 0; d < int(gs.size()); ++d) {
    if (d < first)
      outer *= gs[d];
    else if (d <= last)
      n *= gs[d], keep[d] = 1;
    else
      inner *= gs[d];
  }
  py::array part = dt == DType::kF32 ? mul_sum_typed<float>(g, h, outer, n, inner, keep)
                                     : mul_sum_typed<double>(g, h, outer, n, inner, keep);
  return sum_to(part, shape);
}

py::tuple batch_norm_stats(const py::array& x0, const py::object& axes_obj) {
  const DType dt = dtype_of(x0, "batch_norm_stats");
  const int nd = int(x0.ndim());
  auto axes = normalize_axes(axes_obj, nd, "batch_norm_stats");
  if (nd < 2 || int(axes.size()) != nd - 1)
    throw py::value_error(
        "batch_norm_stats: expected axes to be all but one axis of an array "
        "with ndim >= 2, got " +
        std::to_string(axes.size()) + " axes of an array of shape " + shape_str(shape_of(x0)));
  int c_axis = 0;
  while (c_axis < int(axes.size()) && axes[c_axis] == c_axis) ++c_axis;
  py::array x = contiguous(x0);
  const Shape s = shape_of(x);
  int64_t outer, c, inner;
  split_at(s, c_axis, outer, c, inner);
  Shape keep(nd, 1);
  keep[c_axis] = c;
  return dt == DType::kF32 ? channel_stats_typed<float>(x, outer, c, inner, keep)
                           : channel_stats_typed<double>(x, outer, c, inner, keep);
}

template <typename T>
py::array scan_typed(const py::array& x, int64_t outer, int64_t n, int64_t inner, bool reverse,
                     bool prod) {
  auto out = empty<T>(shape_of(x));
  const T* px = static_cast<const T*>(x.data());
  T* po = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    if (prod)
      kernels::cumprod_axis<T>(px, outer, n, inner, po, reverse);
    else
      kernels::cumsum_axis<T>(px, outer, n, inner, po, reverse);
  }
  return out;
}

py::array scan(const py::array& x0, int axis, bool reverse, bool prod) {
  const std::string name = prod ? "cumprod" : "cumsum";
  const DType dt = dtype_of(x0, name.c_str());
  const int nd = int(x0.ndim());
  if (axis < -nd || axis >= std::max(nd, 1))
    throw py::value_error(name + ": axis " + std::to_string(axis) + " out of range for an " +
                          "array of shape " + shape_str(shape_of(x0)));
  if (nd == 0) return contiguous(x0.attr("copy")().cast<py::array>());
  py::array x = contiguous(x0);
  int64_t outer, n, inner;
  split_at(shape_of(x), axis < 0 ? axis + nd : axis, outer, n, inner);
  return dt == DType::kF32 ? scan_typed<float>(x, outer, n, inner, reverse, prod)
                           : scan_typed<double>(x, outer, n, inner, reverse, prod);
}

py::array cumsum(const py::array& x0, int axis, bool reverse) {
  return scan(x0, axis, reverse, false);
}

py::array cumprod(const py::array& x0, int axis, bool reverse) {
  return scan(x0, axis, reverse, true);
}

}  // namespace

template <typename T>
void index_add_rows_typed(py::array& out, const py::array_t<int64_t>& rows, const py::array& g,
                          int64_t outer, int64_t n, int64_t width) {
  T* po = static_cast<T*>(out.mutable_data());
  const T* pg = static_cast<const T*>(g.data());
  const int64_t* pr = rows.data();
  py::gil_scoped_release nogil;
  kernels::scatter_add_rows<T>(po, pr, int64_t(rows.size()), pg, width, outer, n);
}

// out[(:,) * axis + (rows[i],)] += g[(:,) * axis + (i,)] in place (out C-contiguous; rows
// any shape of integers, negative ones counted from the end; g of shape out.shape[:axis] +
// rows.shape + out.shape[axis + 1:]).
void index_add_rows(py::array out, const py::array& rows0, const py::array& g0, int64_t axis) {
  const char* name = "index_add_rows";
  const DType dt = same_dtype(out, g0, name);
  const char kind = rows0.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(std::string(name) + ": rows must be integers, got " + dtype_str(rows0));
  if (out.ndim() == 0 || !out.writeable() || !(out.flags() & py::array::c_style))
    throw py::value_error(std::string(name) +
                          ": out must be a writeable C-contiguous array of at least 1 dim");
  if (axis < 0 || axis >= out.ndim())
    throw py::value_error(std::string(name) + ": axis " + std::to_string(axis) +
                          " is out of range for out of shape " + shape_str(shape_of(out)));
  int64_t outer, n, width;
  split_at(shape_of(out), int(axis), outer, n, width);
  Shape want = shape_of(out), rshape = shape_of(rows0);
  want.resize(size_t(axis));
  want.insert(want.end(), rshape.begin(), rshape.end());
  for (py::ssize_t d = axis + 1; d < out.ndim(); ++d) want.push_back(out.shape(d));
  if (shape_of(g0) != want)
    throw py::value_error(std::string(name) + ": g must have shape " + shape_str(want) +
                          " (out's dims before axis, rows' shape, out's after it), got " +
                          shape_str(shape_of(g0)));
  auto rows = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(rows0);
  if (!rows) throw py::type_error(std::string(name) + ": rows could not be read as int64");
  rows = py::array_t<int64_t>(rows.attr("copy")());
  int64_t* pr = rows.mutable_data();
  for (py::ssize_t i = 0; i < rows.size(); ++i) {
    if (pr[i] < -n || pr[i] >= n)
      throw py::index_error(std::string(name) + ": index " + std::to_string(pr[i]) +
                            " is out of bounds for dimension " + std::to_string(axis) +
                            " with size " + std::to_string(n));
    if (pr[i] < 0) pr[i] += n;
  }
  py::array g = contiguous(g0);
  if (dt == DType::kF32)
    index_add_rows_typed<float>(out, rows, g, outer, n, width);
  else
    index_add_rows_typed<double>(out, rows, g, outer, n, width);
}

// lo, hi as int64 vectors of one length m with every entry in [0, n), frac as m weights of T.
struct LerpIndex {
  py::array_t<int64_t> lo, hi;
  py::array frac;
  int64_t m = 0;
};

LerpIndex lerp_index(const py::array& lo0, const py::array& hi0, const py::array& frac0, int64_t n,
                     py::dtype dt, const char* name) {
  LerpIndex li;
  for (auto* p : {&lo0, &hi0})
    if (p->dtype().kind() != 'i' && p->dtype().kind() != 'u')
      throw py::type_error(std::string(name) + ": lo and hi must be integers, got " +
                           dtype_str(*p));
  li.lo = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(lo0);
  li.hi = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(hi0);
  li.frac = py::array::ensure(frac0.attr("astype")(dt), py::array::c_style);
  li.m = int64_t(li.lo.size());
  if (li.lo.ndim() != 1 || li.hi.ndim() != 1 || li.frac.ndim() != 1 ||
      int64_t(li.hi.size()) != li.m || int64_t(li.frac.size()) != li.m)
    throw py::value_error(std::string(name) +
                          ": lo, hi and frac must be vectors of one length, "
                          "got shapes " +
                          shape_str(shape_of(lo0)) + ", " + shape_str(shape_of(hi0)) + " and " +
                          shape_str(shape_of(frac0)));
  for (int64_t j = 0; j < li.m; ++j)
    if (li.lo.data()[j] < 0 || li.lo.data()[j] >= n || li.hi.data()[j] < 0 || li.hi.data()[j] >= n)
      throw py::index_error(std::string(name) + ": index " +
                            std::to_string(std::min(li.lo.data()[j], li.hi.data()[j])) + " or " +
                            std::to_string(std::max(li.lo.data()[j], li.hi.data()[j])) +
                            " is out of bounds for an axis of size " + std::to_string(n));
  return li;
}

int64_t checked_axis(const py::array& a, int64_t axis, const char* name) {
  if (axis < 0 || axis >= a.ndim())
    throw py::value_error(std::string(name) + ": axis " + std::to_string(axis) +
                          " is out of range for an array of shape " + shape_str(shape_of(a)));
  return axis;
}

// y = x[lo] (1 - frac) + x[hi] frac along `axis` (float32 / float64), or with `adjoint` its
// adjoint: zeros with n rows along `axis`, each row of src (g) added back with its weights.
py::array lerp_rows_run(const py::array& src0, int64_t axis, const py::array& lo,
                        const py::array& hi, const py::array& frac, int64_t n_adjoint, bool adjoint,
                        const char* name) {
  const DType dt = dtype_of(src0, name);
  py::array src = contiguous(src0);
  int64_t outer, rows, inner;
  split_at(shape_of(src), int(checked_axis(src, axis, name)), outer, rows, inner);
  const int64_t n = adjoint ? n_adjoint : rows;  // the rows of x
  const LerpIndex li = lerp_index(lo, hi, frac, n, src.dtype(), name);
  if (adjoint && li.m != rows)
    throw py::value_error(std::string(name) + ": g has " + std::to_string(rows) +
                          " rows along axis " + std::to_string(axis) + ", the index " +
                          std::to_string(li.m));
  Shape shape = shape_of(src);
  shape[size_t(axis)] = adjoint ? n : li.m;
  py::array out = adjoint ? py::module_::import("numpy").attr("zeros")(shape, src.dtype())
                          : py::array(src.dtype(), shape);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* ps = static_cast<const T*>(src.data());
    const T* pf = static_cast<const T*>(li.frac.data());
    T* po = static_cast<T*>(out.mutable_data());
    py::gil_scoped_release nogil;
    (adjoint ? kernels::lerp_rows_backward<T> : kernels::lerp_rows<T>)(ps, li.lo.data(),
                                                                       li.hi.data(), pf, po, outer,
                                                                       n, li.m, inner);
  };
  dt == DType::kF32 ? run(float()) : run(double());
  return out;
}

// idx as a C-contiguous int64 array whose shape is lead + (any m,), for x or out of shape
// lead + (n,): the row layout of the last-axis gather and scatter-add.
py::array_t<int64_t> last_axis_index(const py::array& idx0, const py::array& x, const char* name) {
  const char kind = idx0.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(std::string(name) + ": index must be integers, got " + dtype_str(idx0));
  Shape xs = shape_of(x), is = shape_of(idx0);
  if (xs.empty() || is.size() != xs.size() || !std::equal(xs.begin(), xs.end() - 1, is.begin()))
    throw py::value_error(std::string(name) + ": index of shape " + shape_str(is) +
                          " must match the array's shape " + shape_str(xs) +
                          " in every dimension but the last");
  return py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(idx0);
}

[[noreturn]] void index_out_of_range(const char* name, int64_t bad, int64_t n) {
  throw py::index_error(std::string(name) + ": index " + std::to_string(bad) +
                        " is out of bounds for the last dimension, of size " + std::to_string(n));
}

template <typename T>
py::array gather_last_typed(const py::array& x, const py::array_t<int64_t>& idx) {
  const Shape is = shape_of(idx);
  auto out = empty<T>(is);
  const int64_t n = x.shape(x.ndim() - 1), m = is.back(), rows = m ? numel(is) / m : 0;
  const T* px = static_cast<const T*>(x.data());
  T* po = out.mutable_data();
  int64_t bad = 0;
  bool ok;
  {
    py::gil_scoped_release nogil;
    ok = kernels::gather_last<T>(px, rows, n, idx.data(), m, po, &bad);
  }
  if (!ok) index_out_of_range("gather_last", bad, n);
  return out;
}

// out[..., j] = x[..., idx[..., j]] (np.take_along_axis on the last axis), threaded.
py::array gather_last(const py::array& x0, const py::array& idx0) {
  const DType dt = dtype_of(x0, "gather_last");
  auto idx = last_axis_index(idx0, x0, "gather_last");
  py::array x = contiguous(x0);
  return dt == DType::kF32 ? gather_last_typed<float>(x, idx) : gather_last_typed<double>(x, idx);
}

// Whether an element of integer array a other than skip lies outside [lo, hi): one pass,
// branch-free within blocks of 4096 (NumPy's a.min(), a.max() or its four temporaries with a
// skip cost 3-5 us on an index of a few thousand).
template <typename I>
bool index_outside_typed(const I* p, int64_t n, int64_t lo, int64_t hi, bool has_skip,
                         int64_t skip) {
  const uint64_t span = uint64_t(hi) - uint64_t(lo), base = uint64_t(lo);  // (no overflow)
  for (int64_t b0 = 0; b0 < n; b0 += 4096) {
    const int64_t b1 = std::min<int64_t>(n, b0 + 4096);
    bool bad = false;
    for (int64_t i = b0; i < b1; ++i) {
      const int64_t v = int64_t(p[i]);
      bad |= (uint64_t(v) - base >= span) & !(has_skip & (v == skip));
    }
    if (bad) return true;
  }
  return false;
}

bool index_outside(const py::array& a, int64_t lo, int64_t hi, std::optional<int64_t> skip) {
  const auto dt = a.dtype();
  if (!(a.flags() & py::array::c_style) || dt.kind() != 'i' ||
      (dt.itemsize() != 4 && dt.itemsize() != 8))
    throw py::type_error("index_outside: expected a C-contiguous int32 or int64 array, got " +
                         dtype_str(a));
  if (hi < lo) hi = lo;
  const int64_t n = int64_t(a.size());
  const bool has = skip.has_value();
  const int64_t s = skip.value_or(0);
  py::gil_scoped_release nogil;
  return dt.itemsize() == 8
             ? index_outside_typed(static_cast<const int64_t*>(a.data()), n, lo, hi, has, s)
             : index_outside_typed(static_cast<const int32_t*>(a.data()), n, lo, hi, has, s);
}

template <typename T>
void scatter_add_last_typed(py::array& out, const py::array_t<int64_t>& idx, const py::array& src) {
  const int64_t n = out.shape(out.ndim() - 1), m = src.shape(src.ndim() - 1);
  const int64_t rows = m ? int64_t(src.size()) / m : 0;
  T* po = static_cast<T*>(out.mutable_data());
  const T* ps = static_cast<const T*>(src.data());
  int64_t bad = 0;
  bool ok;
  {
    py::gil_scoped_release nogil;
    ok = kernels::scatter_add_last<T>(po, rows, n, idx.data(), ps, m, &bad);
  }
  if (!ok) index_out_of_range("scatter_add_last", bad, n);
}

// out[..., idx[..., j]] += src[..., j] in place (out C-contiguous, src of idx's shape).
void scatter_add_last(py::array out, const py::array& idx0, const py::array& src0) {
  const char* name = "scatter_add_last";
  const DType dt = same_dtype(out, src0, name);
  if (out.ndim() == 0 || !out.writeable() || !(out.flags() & py::array::c_style))
    throw py::value_error(std::string(name) +
                          ": out must be a writeable C-contiguous array of at least 1 dim");
  auto idx = last_axis_index(idx0, out, name);
  if (shape_of(src0) != shape_of(idx))
    throw py::value_error(std::string(name) + ": src of shape " + shape_str(shape_of(src0)) +
                          " must have the index's shape " + shape_str(shape_of(idx)));
  py::array src = contiguous(src0);
  if (py::module_::import("numpy").attr("may_share_memory")(out, src).cast<bool>())
    src = src.attr("copy")();  // read src as it was, not as the adds leave it
  if (dt == DType::kF32)
    scatter_add_last_typed<float>(out, idx, src);
  else
    scatter_add_last_typed<double>(out, idx, src);
}

// (values of T, int64 indices), both of out_shape, filled by kernel(x's data, values,
// indices) without the GIL.
template <typename T, typename Kernel>
py::tuple values_and_indices(const py::array& x, const Shape& out_shape, Kernel kernel) {
  auto vals = empty<T>(out_shape);
  py::array_t<int64_t> idx(std::vector<py::ssize_t>(out_shape.begin(), out_shape.end()));
  const T* px = static_cast<const T*>(x.data());
  T* pv = vals.mutable_data();
  int64_t* pi = idx.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernel(px, pv, pi);
  }
  return py::make_tuple(vals, idx);
}

template <typename T>
py::tuple topk_typed(const py::array& x, int64_t rows, int64_t n, int64_t k, bool largest,
                     Shape out_shape) {
  return values_and_indices<T>(x, out_shape, [&](const T* px, T* pv, int64_t* pi) {
    kernels::topk_rows<T>(px, rows, n, k, largest, pv, pi);
  });
}

// (values, int64 indices) of the k largest (or smallest) along the last axis, sorted.
py::tuple topk(const py::array& x0, int64_t k, bool largest) {
  const DType dt = dtype_of(x0, "topk");
  if (x0.ndim() == 0) throw py::value_error("topk: expected at least a 1-D array");
  const int64_t n = x0.shape(x0.ndim() - 1);
  if (k < 0 || k > n)
    throw py::value_error("topk: k (" + std::to_string(k) +
                          ") is out of range for a last "
                          "dimension of size " +
                          std::to_string(n));
  py::array x = contiguous(x0);
  Shape out = shape_of(x);
  out.back() = k;
  const int64_t rows = n ? int64_t(x.size()) / n : numel(out) / std::max<int64_t>(k, 1);
  return dt == DType::kF32 ? topk_typed<float>(x, rows, n, k, largest, out)
                           : topk_typed<double>(x, rows, n, k, largest, out);
}

template <typename T>
py::tuple sort_typed(const py::array& x, int64_t rows, int64_t n, bool descending) {
  return values_and_indices<T>(x, shape_of(x), [&](const T* px, T* pv, int64_t* pi) {
    kernels::sort_rows<T>(px, rows, n, descending, pv, pi);
  });
}

// (values, int64 indices) of each row sorted along the last axis, stably: float32/64 and
// int32/64 arrays.
py::tuple sort(const py::array& x0, bool descending) {
  const char kind = x0.dtype().kind();
  const auto size = x0.dtype().itemsize();
  if (!((kind == 'f' || kind == 'i') && (size == 4 || size == 8)))
    throw py::type_error("sort: expected a float32, float64, int32 or int64 array, got " +
                         dtype_str(x0));
  if (x0.ndim() == 0) throw py::value_error("sort: expected at least a 1-D array");
  const int64_t n = x0.shape(x0.ndim() - 1);
  if (n >= (int64_t(1) << 32))
    throw py::value_error("sort: rows of 2^32 elements or more are not supported, got " +
                          std::to_string(n));
  py::array x = contiguous(x0);
  const int64_t rows = n ? int64_t(x.size()) / n : 0;
  if (kind == 'i')
    return size == 4 ? sort_typed<int32_t>(x, rows, n, descending)
                     : sort_typed<int64_t>(x, rows, n, descending);
  return size == 4 ? sort_typed<float>(x, rows, n, descending)
                   : sort_typed<double>(x, rows, n, descending);
}

void init_reduce(py::module_& m) {
  m.def("index_outside", &index_outside, py::arg("a"), py::arg("lo"), py::arg("hi"),
        py::arg("skip") = py::none(),
        "Whether an element of C-contiguous int32/int64 a, other than skip, lies outside "
        "[lo, hi).");
  m.def("gather_last", &gather_last, py::arg("x"), py::arg("index"),
        "x gathered along the last axis at index (np.take_along_axis(x, index, -1)); index "
        "of x's shape but for its last dim; negative indices count from the end.");
  m.def("scatter_add_last", &scatter_add_last, py::arg("out"), py::arg("index"), py::arg("src"),
        "out[..., index[..., j]] += src[..., j] in place, along the last axis (the backward of "
        "gather_last); IndexError for an index out of range.");
  m.def("sort", &sort, py::arg("x"), py::arg("descending") = false,
        "(values, indices) of every row of a float32/64 or int32/64 array sorted along the "
        "last axis (descending: largest first); stable; NaN ranks above every number, as in "
        "PyTorch and NumPy.");
  m.def("topk", &topk, py::arg("x"), py::arg("k"), py::arg("largest") = true,
        "(values, indices) of the k largest (smallest) along the last axis, sorted; NaN "
        "ranks highest; ties keep the lower index first.  For k much smaller than n.");
  m.def(
      "sum",
      [](py::array x, py::object axis, bool keepdims) {
        return reduce_entry(x, axis, keepdims, ReduceOp::kSum, 0.0, "sum");
      },
      py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
      "Sum over axis (None, int or tuple), float64 accumulation for contiguous rows.");
  m.def(
      "mean",
      [](py::array x, py::object axis, bool keepdims) {
        return reduce_entry(x, axis, keepdims, ReduceOp::kMean, 0.0, "mean");
      },
      py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
      "Mean over axis (None, int or tuple).");
  m.def(
      "amax",
      [](py::array x, py::object axis, bool keepdims) {
        return reduce_entry(x, axis, keepdims, ReduceOp::kMax, 0.0, "amax");
      },
      py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
      "Maximum over axis (NaN propagates); ValueError on an empty reduction.");
  m.def(
      "prod",
      [](py::array x, py::object axis, bool keepdims) {
        return reduce_entry(x, axis, keepdims, ReduceOp::kProd, 0.0, "prod");
      },
      py::arg("x"), py::arg("axis") = py::none(), py::arg("keepdims") = false,
      "Product over axis (None, int or tuple), multiplied in float64 and rounded once; 1 "
      "over no elements.");
  m.def(
      "var",
      [](py::array x, py::object axis, double correction, bool keepdims) {
        return reduce_entry(x, axis, keepdims, ReduceOp::kVar, correction, "var");
      },
      py::arg("x"), py::arg("axis") = py::none(), py::arg("correction") = 0.0,
      py::arg("keepdims") = false,
      "Variance over axis: sum of squared deviations / max(N - correction, 0), one pass.");
  m.def("cumsum", &cumsum, py::arg("x"), py::arg("axis"), py::arg("reverse") = false,
        "The cumulative sum along axis (from its end with reverse), added up in float64 and "
        "rounded once, as PyTorch's CPU scan.");
  m.def("cumprod", &cumprod, py::arg("x"), py::arg("axis"), py::arg("reverse") = false,
        "The cumulative product along axis (from its end with reverse: the products of the "
        "others in Prod's backward), multiplied in float64 and rounded once, as PyTorch's CPU "
        "scan.");
  m.def("sum_to", &sum_to, py::arg("g"), py::arg("shape"),
        "Sum g over its leading dims and the dims where shape has 1: the backward of "
        "broadcasting g's operand of `shape`.");
  m.def("mul_sum_to", &mul_sum_to, py::arg("g"), py::arg("h"), py::arg("shape"),
        "sum_to(g * h, shape) in one pass for g and h of one shape (the backward of a "
        "broadcast multiply), without the product in memory.");
  m.def("index_add_rows", &index_add_rows, py::arg("out"), py::arg("rows"), py::arg("g"),
        py::arg("axis") = 0,
        "out[(:,) * axis + (rows[i],)] += g[(:,) * axis + (i,)] in place, repeated rows "
        "accumulating (the backward of x[rows], x[:, rows], ...).");
  m.def(
      "lerp_rows",
      [](const py::array& x, int64_t axis, const py::array& lo, const py::array& hi,
         const py::array& frac) {
        return lerp_rows_run(x, axis, lo, hi, frac, 0, false, "lerp_rows");
      },
      py::arg("x"), py::arg("axis"), py::arg("lo"), py::arg("hi"), py::arg("frac"),
      "x[lo] (1 - frac) + x[hi] frac along axis (linear upsampling's step, PyTorch's order).");
  m.def(
      "lerp_rows_backward",
      [](const py::array& g, int64_t axis, const py::array& lo, const py::array& hi,
         const py::array& frac,
         int64_t n) { return lerp_rows_run(g, axis, lo, hi, frac, n, true, "lerp_rows_backward"); },
      py::arg("g"), py::arg("axis"), py::arg("lo"), py::arg("hi"), py::arg("frac"), py::arg("n"),
      "The adjoint of lerp_rows: g's rows added back at lo and hi (n rows along axis).");
  m.def("batch_norm_stats", &batch_norm_stats, py::arg("x"), py::arg("axes"),
        "Per-channel (mean, biased var) over all axes but one, keepdims shape.");
}

}  // namespace autodiff::bind
