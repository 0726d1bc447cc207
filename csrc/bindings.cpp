// autodiff._C: the C++ kernel extension.  One init_<family>(m) per kernel family.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>

#include "dispatch.h"

namespace py = pybind11;

namespace autodiff::bind {
void init_elementwise(py::module_& m);
void init_reduce(py::module_& m);
void init_softmax(py::module_& m);
void init_norm(py::module_& m);
void init_gemm(py::module_& m);
void init_rnn(py::module_& m);
void init_conv(py::module_& m);
void init_special(py::module_& m);

namespace {
void init_dispatch(py::module_& m) {
  namespace k = autodiff::kernels;
  m.def(
      "set_simd",
      [](const std::string& level) {
        try {
          k::set_simd(k::parse_simd_level(level));
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("level"),
      "Force the SIMD level of every kernel: 'avx2' (x86), 'neon' (AArch64) or 'scalar'.");
  m.def(
      "simd_level", [] { return k::simd_level_name(k::simd_level()); },
      "The SIMD level the kernels run at.");
  m.def(
      "best_simd_level", [] { return k::simd_level_name(k::best_level()); },
      "The best SIMD level this CPU supports (picked at import).");
  m.def(
      "supported_simd_levels",
      [] {
        py::list out;
        for (auto l : {k::SimdLevel::kScalar, k::SimdLevel::kAvx2, k::SimdLevel::kAvx512,
                       k::SimdLevel::kNeon})
          if (k::cpu_supports(l)) out.append(k::simd_level_name(l));
        return out;
      },
      "SIMD levels compiled in and supported by this CPU, lowest first.");
  m.def(
      "set_num_threads",
      [](int n) {
        try {
          k::set_num_threads(n);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("n"), "Threads used by the OpenMP kernels.");
  m.def("get_num_threads", &k::configured_num_threads, "Threads used by the OpenMP kernels.");
  m.def(
      "set_contention_guard",
      [](bool on, int64_t late_us) {
        try {
          k::set_contention_guard(on, late_us);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
      },
      py::arg("on"), py::arg("late_us") = 400,
      "Whether the kernels drop to one thread while other processes keep a worker thread "
      "waiting for a core, late_us microseconds or more at a probe (on by default; "
      "AUTODIFF_CONTENTION_GUARD=0 turns it off).");
  m.def("contention_guard", &k::contention_guard, "Whether the contention guard is on.");
  m.def("contention_late_probes", &k::contention_late_probes,
        "How many of the contention guard's probes found a worker thread late.");
  m.attr("has_openmp") =
#ifdef _OPENMP
      true;
#else
      false;
#endif
}
}  // namespace
}  // namespace autodiff::bind

PYBIND11_MODULE(_C, m) {
  m.doc() = "autodiff C++ kernels (AVX2+FMA, NEON and scalar variants, OpenMP)";
  autodiff::bind::init_dispatch(m);
  autodiff::bind::init_elementwise(m);
  autodiff::bind::init_reduce(m);
  autodiff::bind::init_softmax(m);
  autodiff::bind::init_norm(m);
  autodiff::bind::init_gemm(m);
  autodiff::bind::init_rnn(m);
  autodiff::bind::init_conv(m);
  autodiff::bind::init_special(m);
}
