"""Compile-check every CUDA source of the CuPy backend without a GPU.

Two compilers, each skipped when absent:
  * nvcc:  ``nvcc --ptx -arch=sm_80 -Werror all-warnings`` on a copy of each file that takes
    the address of every kernel instantiation the backend uses (so each template is
    instantiated and type-checked, not just parsed);
  * NVRTC: what ``cupy.RawModule`` runs at import of a kernel, with the same name
    expressions, through CuPy's NVRTC binding (needs CuPy and libnvrtc, not a GPU).
Reproduce by hand:  nvcc --ptx -arch=sm_80 -I autodiff/backends/cuda_kernels FILE.cu
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from autodiff.backends import cuda_kernels

FILES = sorted(cuda_kernels.KERNELS)


def test_every_kernel_file_is_registered():
    on_disk = sorted(p.name for p in cuda_kernels.DIR.glob("*.cu"))
    assert on_disk == FILES
    for file in FILES:
        text = (cuda_kernels.DIR / file).read_text()
        for expr in cuda_kernels.KERNELS[file]:
            assert f" {expr.split('<')[0]}(" in text, f"{expr} is not defined in {file}"


@pytest.mark.parametrize("file", FILES)
def test_nvcc_compiles(file, tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on PATH")
    src = tmp_path / file
    src.write_text(cuda_kernels.instantiation_source(file))
    r = subprocess.run([nvcc, "--ptx", "-arch=sm_80", "-Werror", "all-warnings",
                        "-o", str(tmp_path / "out.ptx"), str(src)],
                       capture_output=True, text=True, check=False, timeout=300)
    assert r.returncode == 0, r.stderr
    ptx = (tmp_path / "out.ptx").read_text()
    n = sum(len(cuda_kernels.name_expressions(file, ct)) for ct in cuda_kernels.CTYPES.values())
    assert ptx.count(".entry") == n


def _nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as exc:  # noqa: BLE001 (no CuPy, or no libnvrtc: any error means skip)
        pytest.skip(f"NVRTC is not usable here ({type(exc).__name__}: {exc})")
    return nvrtc


@pytest.mark.parametrize("ctype", sorted(cuda_kernels.CTYPES.values()))
@pytest.mark.parametrize("file", FILES)
def test_nvrtc_compiles_like_cupy(file, ctype):
    nvrtc = _nvrtc()
    names = cuda_kernels.name_expressions(file, ctype)
    prog = nvrtc.createProgram(cuda_kernels.source(file), file, [], [])
    try:
        for n in names:
            nvrtc.addNameExpression(prog, n)
        try:
            nvrtc.compileProgram(prog, ["--gpu-architecture=compute_80", "--std=c++14"])
        except Exception:  # noqa: BLE001 (the log says what failed)
            pytest.fail(nvrtc.getProgramLog(prog))
        for n in names:
            assert nvrtc.getLoweredName(prog, n).startswith("_Z")
        assert nvrtc.getPTX(prog)
    finally:
        nvrtc.destroyProgram(prog)
