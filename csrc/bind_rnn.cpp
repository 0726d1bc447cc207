// Bindings: the LSTM and GRU layers' forward and backpropagation through time (kernels/rnn.h).
#include <optional>

#include "bind_util.h"
#include "kernels/rnn.h"

namespace autodiff::bind {

namespace {

void expect_shape(const py::array& a, const Shape& want, const char* op, const char* name) {
  if (shape_of(a) != want)
    throw py::value_error(std::string(op) + ": expected " + name + " of shape " + shape_str(want) +
                          ", got " + shape_str(shape_of(a)));
}

// (L, N, H) from the (L, N, G*H) gates-shaped array.
void gate_dims(const py::array& a, int G, const char* op, const char* name, int64_t& L, int64_t& N,
               int64_t& H) {
  if (a.ndim() != 3 || a.shape(2) % G != 0)
    throw py::value_error(std::string(op) + ": expected " + name + " of shape (L, N, " +
                          std::to_string(G) + "*H), got " + shape_str(shape_of(a)));
  L = a.shape(0);
  N = a.shape(1);
  H = a.shape(2) / G;
}

void check_dtypes(const std::vector<const py::array*>& arrays, const char* op) {
  for (const py::array* a : arrays) same_dtype(*arrays[0], *a, op);
}

template <typename T>
const T* ptr(const py::array& a) {
  return static_cast<const T*>(a.data());
}

template <typename T>
py::tuple forward_typed(const py::array& xs, const py::array& h0, const py::array& c0,
                        const py::array& w, const py::array* b, bool reverse, int64_t L, int64_t N,
                        int64_t H) {
  auto y = empty<T>({L, N, 2 * H});
  auto act = empty<T>({L, N, 4 * H});
  auto tc = empty<T>({L, N, H});
  const T* pb = b ? ptr<T>(*b) : nullptr;
  T *py_ = y.mutable_data(), *pact = act.mutable_data(), *ptc = tc.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::lstm_forward<T>(L, N, H, ptr<T>(xs), ptr<T>(h0), ptr<T>(c0), ptr<T>(w), pb, reverse,
                             py_, pact, ptc);
  }
  return py::make_tuple(y, act, tc);
}

py::tuple forward(const py::array& xs0, const py::array& h00, const py::array& c00,
                  const py::array& w0, const std::optional<py::array>& b0, bool reverse) {
  const char* op = "lstm_forward";
  int64_t L, N, H;
  gate_dims(xs0, 4, op, "xproj", L, N, H);
  expect_shape(h00, {N, H}, op, "h0");
  expect_shape(c00, {N, H}, op, "c0");
  expect_shape(w0, {4 * H, H}, op, "w_hh");
  std::vector<const py::array*> all = {&xs0, &h00, &c00, &w0};
  if (b0) {
    expect_shape(*b0, {4 * H}, op, "b_hh");
    all.push_back(&*b0);
  }
  check_dtypes(all, op);
  const DType dt = dtype_of(xs0, op);
  py::array xs = contiguous(xs0), h0 = contiguous(h00), c0 = contiguous(c00), w = contiguous(w0);
  std::optional<py::array> b;
  if (b0) b = contiguous(*b0);
  const py::array* pb = b ? &*b : nullptr;
  return dt == DType::kF32 ? forward_typed<float>(xs, h0, c0, w, pb, reverse, L, N, H)
                           : forward_typed<double>(xs, h0, c0, w, pb, reverse, L, N, H);
}

template <typename T>
py::tuple backward_typed(const std::vector<py::array>& in, bool reverse, int64_t L, int64_t N,
                         int64_t H) {
  auto dx = empty<T>({L, N, 4 * H});
  auto dh0 = empty<T>({N, H});
  auto dc0 = empty<T>({N, H});
  auto dw = empty<T>({4 * H, H});
  auto db = empty<T>({4 * H});
  T *pdx = dx.mutable_data(), *pdh0 = dh0.mutable_data(), *pdc0 = dc0.mutable_data();
  T *pdw = dw.mutable_data(), *pdb = db.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::lstm_backward<T>(L, N, H, ptr<T>(in[0]), ptr<T>(in[1]), ptr<T>(in[2]), ptr<T>(in[3]),
                              ptr<T>(in[4]), ptr<T>(in[5]), ptr<T>(in[6]), reverse, pdx, pdh0, pdc0,
                              pdw, pdb);
  }
  return py::make_tuple(dx, dh0, dc0, dw, db);
}

py::tuple backward(const py::array& gy, const py::array& y, const py::array& act,
                   const py::array& tc, const py::array& h0, const py::array& c0,
                   const py::array& w, bool reverse) {
  const char* op = "lstm_backward";
  int64_t L, N, H;
  gate_dims(act, 4, op, "act", L, N, H);
  expect_shape(gy, {L, N, 2 * H}, op, "gy");
  expect_shape(y, {L, N, 2 * H}, op, "y");
  expect_shape(tc, {L, N, H}, op, "tc");
  expect_shape(h0, {N, H}, op, "h0");
  expect_shape(c0, {N, H}, op, "c0");
  expect_shape(w, {4 * H, H}, op, "w_hh");
  check_dtypes({&act, &gy, &y, &tc, &h0, &c0, &w}, op);
  const DType dt = dtype_of(act, op);
  std::vector<py::array> in;
  for (const py::array* a : {&gy, &y, &act, &tc, &h0, &c0, &w}) in.push_back(contiguous(*a));
  return dt == DType::kF32 ? backward_typed<float>(in, reverse, L, N, H)
                           : backward_typed<double>(in, reverse, L, N, H);
}

template <typename T>
py::tuple gru_forward_typed(const std::vector<py::array>& in, const py::array* b, bool reverse,
                            int64_t L, int64_t N, int64_t H) {
  auto y = empty<T>({L, N, H});
  auto act = empty<T>({L, N, 3 * H});
  auto hn = empty<T>({L, N, H});
  const T* pb = b ? ptr<T>(*b) : nullptr;
  T *py_ = y.mutable_data(), *pact = act.mutable_data(), *phn = hn.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::gru_forward<T>(L, N, H, ptr<T>(in[0]), ptr<T>(in[1]), ptr<T>(in[2]), pb, reverse, py_,
                            pact, phn);
  }
  return py::make_tuple(y, act, hn);
}

py::tuple gru_forward(const py::array& xs, const py::array& h0, const py::array& w,
                      const std::optional<py::array>& b0, bool reverse) {
  const char* op = "gru_forward";
  int64_t L, N, H;
  gate_dims(xs, 3, op, "xproj", L, N, H);
  expect_shape(h0, {N, H}, op, "h0");
  expect_shape(w, {3 * H, H}, op, "w_hh");
  std::vector<const py::array*> all = {&xs, &h0, &w};
  if (b0) {
    expect_shape(*b0, {3 * H}, op, "b_hh");
    all.push_back(&*b0);
  }
  check_dtypes(all, op);
  const DType dt = dtype_of(xs, op);
  std::vector<py::array> in = {contiguous(xs), contiguous(h0), contiguous(w)};
  std::optional<py::array> b;
  if (b0) b = contiguous(*b0);
  const py::array* pb = b ? &*b : nullptr;
  return dt == DType::kF32 ? gru_forward_typed<float>(in, pb, reverse, L, N, H)
                           : gru_forward_typed<double>(in, pb, reverse, L, N, H);
}

template <typename T>
py::tuple gru_backward_typed(const std::vector<py::array>& in, bool reverse, int64_t L, int64_t N,
                             int64_t H) {
  auto dx = empty<T>({L, N, 3 * H});
  auto dh0 = empty<T>({N, H});
  auto dw = empty<T>({3 * H, H});
  auto db = empty<T>({3 * H});
  T *pdx = dx.mutable_data(), *pdh0 = dh0.mutable_data(), *pdw = dw.mutable_data();
  T* pdb = db.mutable_data();
  {
    py::gil_scoped_release nogil;
    kernels::gru_backward<T>(L, N, H, ptr<T>(in[0]), ptr<T>(in[1]), ptr<T>(in[2]), ptr<T>(in[3]),
                             ptr<T>(in[4]), ptr<T>(in[5]), reverse, pdx, pdh0, pdw, pdb);
  }
  return py::make_tuple(dx, dh0, dw, db);
}

py::tuple gru_backward(const py::array& gy, const py::array& y, const py::array& act,
                       const py::array& hn, const py::array& h0, const py::array& w, bool reverse) {
  const char* op = "gru_backward";
  int64_t L, N, H;
  gate_dims(act, 3, op, "act", L, N, H);
  expect_shape(gy, {L, N, H}, op, "gy");
  expect_shape(y, {L, N, H}, op, "y");
  expect_shape(hn, {L, N, H}, op, "hn");
  expect_shape(h0, {N, H}, op, "h0");
  expect_shape(w, {3 * H, H}, op, "w_hh");
  check_dtypes({&act, &gy, &y, &hn, &h0, &w}, op);
  const DType dt = dtype_of(act, op);
  std::vector<py::array> in;
  for (const py::array* a : {&gy, &y, &act, &hn, &h0, &w}) in.push_back(contiguous(*a));
  return dt == DType::kF32 ? gru_backward_typed<float>(in, reverse, L, N, H)
                           : gru_backward_typed<double>(in, reverse, L, N, H);
}

}  // namespace

void init_rnn(py::module_& m) {
  m.def("lstm_forward", &forward, py::arg("xproj"), py::arg("h0"), py::arg("c0"), py::arg("w_hh"),
        py::arg("b_hh") = py::none(), py::arg("reverse") = false,
        "One LSTM layer over (L, N, 4H) input projections: returns (y, act, tc) with y the\n"
        "(L, N, 2H) [h | c] states, act the activated gates [i, f, g, o], tc = tanh(c).");
  m.def("lstm_backward", &backward, py::arg("gy"), py::arg("y"), py::arg("act"), py::arg("tc"),
        py::arg("h0"), py::arg("c0"), py::arg("w_hh"), py::arg("reverse") = false,
        "Backpropagation through time for lstm_forward: returns (d xproj, d h0, d c0,\n"
        "d w_hh, d b_hh).");
  m.def("gru_forward", &gru_forward, py::arg("xproj"), py::arg("h0"), py::arg("w_hh"),
        py::arg("b_hh") = py::none(), py::arg("reverse") = false,
        "One GRU layer over (L, N, 3H) input projections: returns (y, act, hn) with y the\n"
        "(L, N, H) states, act the gates [r, z, n], hn the n part of h W_hh^T + b_hh.");
  m.def("gru_backward", &gru_backward, py::arg("gy"), py::arg("y"), py::arg("act"), py::arg("hn"),
        py::arg("h0"), py::arg("w_hh"), py::arg("reverse") = false,
        "Backpropagation through time for gru_forward: returns (d xproj, d h0, d w_hh, "
        "d b_hh).");
}

}  // namespace autodiff::bind
