"""Build script: the C++ kernel extension ``autodiff._C`` (pybind11).

Metadata lives in pyproject.toml; this file only declares the extension.
Environment:
  AUTODIFF_REQUIRE_EXT=1  fail the install when the extension does not build (CI sets it)
  AUTODIFF_SANITIZE=1     build with AddressSanitizer + UndefinedBehaviorSanitizer; run the
                          kernel tests with the runtime preloaded (Python itself is not
                          instrumented, and ASan must see libstdc++'s __cxa_throw):
      LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libstdc++.so)" \
      ASAN_OPTIONS=detect_leaks=0 python -m pytest tests/cpp
  AUTODIFF_NO_OPENMP=1    build without OpenMP
"""

from __future__ import annotations

import os
import sys
from glob import glob

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ParallelCompile("AUTODIFF_BUILD_JOBS", default=2).install()

REQUIRE_EXT = os.environ.get("AUTODIFF_REQUIRE_EXT", "0") == "1"
SANITIZE = os.environ.get("AUTODIFF_SANITIZE", "0") == "1"
USE_OPENMP = os.environ.get("AUTODIFF_NO_OPENMP", "0") != "1" and sys.platform.startswith("linux")

compile_args = ["-O3", "-fno-math-errno", "-fvisibility=hidden"]
link_args: list[str] = []
if USE_OPENMP:
    compile_args.append("-fopenmp")
    link_args.append("-fopenmp")
if SANITIZE:
    # -UNDEBUG keeps pybind11's checks, e.g. that no refcount changes without the GIL held
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g", "-UNDEBUG"]
    compile_args = [a for a in compile_args if a != "-O3"] + ["-O1"] + san
    link_args += san

sources = sorted(glob("csrc/**/*.cpp", recursive=True))
ext_modules = []
if sources:
    ext_modules.append(
        Pybind11Extension(
            "autodiff._C",
            sources,
            include_dirs=["csrc"],
            # headers too: otherwise a header-only edit leaves the built module "up to date"
            depends=sorted(glob("csrc/**/*.h", recursive=True)),
            cxx_std=17,
            extra_compile_args=compile_args,
            extra_link_args=link_args,
        )
    )
    for ext in ext_modules:
        ext.optional = not REQUIRE_EXT  # a failed build degrades to the NumPy backend

setup(ext_modules=ext_modules, cmdclass={"build_ext": build_ext})
