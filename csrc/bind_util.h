// Validation helpers shared by the bindings: dtype, shape, strides, axis normalisation.
// Everything a user can get wrong raises a Python exception naming the op and the values.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace autodiff::bind {

namespace py = pybind11;
using Shape = std::vector<int64_t>;

enum class DType { kF32, kF64 };

// "(3, 4)", "(5,)", "()".  Plain string appends, no std::ostringstream: on the GPU machine
// (Python 3.12 venv with CuPy and PyTorch loaded) formatting through a stream segfaulted
// inside the error path of every binding that names a shape.
inline std::string shape_str(const Shape& s) {
  std::string o = "(";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + (s.size() == 1 ? ",)" : ")");
}

inline Shape shape_of(const py::array& a) { return Shape(a.shape(), a.shape() + a.ndim()); }

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// Equivalent dtypes (same type and byte order), not only one dtype object: np.frombuffer and
// newbyteorder("=") give dtypes equal to float32's that are other objects.
inline bool same_type(const py::dtype& a, const py::dtype& b) {
  return a.is(b) || py::detail::npy_api::get().PyArray_EquivTypes_(a.ptr(), b.ptr());
}

// float32 or float64 in native byte order, else TypeError.
inline DType dtype_of(const py::array& a, const char* op) {
  if (same_type(a.dtype(), py::dtype::of<float>())) return DType::kF32;
  if (same_type(a.dtype(), py::dtype::of<double>())) return DType::kF64;
  throw py::type_error(std::string(op) + ": expected a float32 or float64 array, got " +
                       dtype_str(a));
}

inline DType same_dtype(const py::array& a, const py::array& b, const char* op) {
  DType da = dtype_of(a, op), db = dtype_of(b, op);
  if (da != db)
    throw py::type_error(std::string(op) + ": operands must have the same dtype, got " +
                         dtype_str(a) + " and " + dtype_str(b));
  return da;
}

// A C-contiguous, aligned array with the same values (no copy when it already is one).
inline py::array contiguous(const py::array& a) {
  const int flags = py::array::c_style;
  if ((a.flags() & flags) == flags && (reinterpret_cast<uintptr_t>(a.data()) % a.itemsize()) == 0)
    return a;
  return py::module_::import("numpy").attr("ascontiguousarray")(a).cast<py::array>();
}

// Element strides, or a copy made first when some stride is not a multiple of the item size
// (or the data is misaligned).  Negative and zero strides are fine.
inline py::array element_strided(const py::array& a, std::vector<int64_t>& strides) {
  const int64_t isz = a.itemsize();
  bool ok = reinterpret_cast<uintptr_t>(a.data()) % isz == 0;
  for (py::ssize_t d = 0; d < a.ndim() && ok; ++d) ok = a.strides(d) % isz == 0;
  py::array arr = ok ? a : contiguous(a);
  strides.resize(arr.ndim());
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) strides[d] = arr.strides(d) / isz;
  return arr;
}

inline int normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  if (axis < -ndim || axis >= ndim || (ndim == 0 && axis != 0 && axis != -1)) {
    throw py::value_error(std::string(op) + ": axis " + std::to_string(axis) +
                          " is out of bounds for an array of dimension " + std::to_string(ndim));
  }
  return int(axis < 0 ? axis + ndim : axis);
}

// None -> all axes; int or sequence of ints -> sorted unique normalized axes.
inline std::vector<int> normalize_axes(const py::object& axis, int64_t ndim, const char* op) {
  std::vector<int> axes;
  if (axis.is_none()) {
    for (int d = 0; d < ndim; ++d) axes.push_back(d);
    return axes;
  }
  std::vector<int64_t> raw;
  if (py::isinstance<py::int_>(axis)) {
    raw.push_back(axis.cast<int64_t>());
  } else {
    try {
      raw = axis.cast<std::vector<int64_t>>();
    } catch (const py::cast_error&) {
      throw py::type_error(std::string(op) + ": axis must be None, an int or a tuple of ints");
    }
  }
  std::vector<bool> seen(ndim, false);
  for (int64_t r : raw) {
    if (r < -ndim || r >= ndim)
      throw py::value_error(std::string(op) + ": axis " + std::to_string(r) +
                            " is out of bounds for an array of dimension " + std::to_string(ndim));
    int d = int(r < 0 ? r + ndim : r);
    if (seen[d]) throw py::value_error(std::string(op) + ": duplicate value in axis");
    seen[d] = true;
  }
  for (int d = 0; d < ndim; ++d)
    if (seen[d]) axes.push_back(d);
  return axes;
}

template <typename T>
py::array_t<T> empty(const Shape& shape) {
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()));
}

// An uninitialised C-contiguous output for a kernel that streams `inputs` (arrays of any
// layout; none allowed).  From 1 MiB on, its address modulo 4 KiB lies as far as it can from
// every input's: a load whose address agrees with a pending store's in the low 12 bits waits
// on that store (4K aliasing), and glibc places consecutive large allocations 16 bytes apart
// modulo 4 KiB, which made streaming kernels 1.3-1.8x slower when the output landed just
// after an input.  The array is a view of a uint8 buffer it alone holds (so it still counts
// as owned), 64-byte aligned.
template <typename T>
py::array_t<T> empty_apart(const Shape& shape, std::initializer_list<const py::array*> inputs) {
  const int64_t bytes = numel(shape) * int64_t(sizeof(T));
  if (bytes < (int64_t(1) << 20)) return empty<T>(shape);
  int64_t best = 0, best_gap = -1;
  for (int64_t off = 0; off < 4096; off += 64) {  // the offset farthest from every input's
    int64_t gap = 4096;
    for (const py::array* in : inputs) {
      const auto at = int64_t(reinterpret_cast<uintptr_t>(in->data()) % 4096);
      const int64_t d = (off - at + 4096) % 4096;
      gap = std::min(gap, std::min(d, 4096 - d));
    }
    if (gap > best_gap) best = off, best_gap = gap;
  }
  py::array_t<uint8_t> buf(bytes + 4096);
  const auto base = reinterpret_cast<uintptr_t>(buf.data());
  auto* data = reinterpret_cast<T*>(base + (best - int64_t(base % 4096) + 4096) % 4096);
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()), data, buf);
}

// (outer, n, inner) of a contiguous shape around one axis.
inline void split_at(const Shape& s, int axis, int64_t& outer, int64_t& n, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  n = s[axis];
}

}  // namespace autodiff::bind
