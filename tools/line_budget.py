"""Line budgets, as tinygrad keeps them: no Python file over 600 lines, and the core
(tensor, autograd, ops, backends) small enough to read in an afternoon.

    python tools/line_budget.py        # prints the counts; exit 1 when a budget is broken
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILE_LIMIT = 600
CORE = ["autodiff/tensor.py", "autodiff/_inplace.py", "autodiff/autograd", "autodiff/ops", "autodiff/backends"]
CORE_LIMIT = 6252  # 6000, then 6100 for the CUDA pointwise kernels and index checks; 6200 for
# the fixes of a PyTorch-parity audit (diagonal view, empty reductions, in-place operators);
# +3 for autocast's hook in ops.linalg.matmul (the one entry of @, matmul, mm, bmm, dot, mv)
# +1 for ad.autograd.forward_ad, one import line (the code is in autodiff/func/_forward_ad.py)
# +36 for the fixes of an autograd audit: retain_grad and hooks follow in-place ops and stale
# views; grads a hook or custom backward returns never stored uncopied; backward(inputs=) through
# one sink; mark_dirty on views/leaves; thread-local grad mode; decorated generators; no_grad views
# +2 so the numpy softmax / log_softmax of an all -inf row give NaN without a RuntimeWarning
# +2 for integer tensors to negative integer-tensor powers (PyTorch: 0 unless |base| == 1)
# +8 for autograd.function.once_differentiable (custom Functions ported from PyTorch import it)


def code_lines(path: pathlib.Path) -> int:
    """Non-blank lines that are not comments."""
    return sum(1 for line in path.read_text().splitlines()
               if line.strip() and not line.strip().startswith("#"))


def python_files(rel: str):
    p = ROOT / rel
    return [p] if p.is_file() else sorted(p.rglob("*.py"))


def main() -> int:
    over = [(f, n) for f in python_files("autodiff")
            if (n := len(f.read_text().splitlines())) > FILE_LIMIT]
    core = sum(code_lines(f) for rel in CORE for f in python_files(rel))
    print(f"core (tensor, autograd, ops, backends): {core} lines of code (budget {CORE_LIMIT})")
    for f, n in over:
        print(f"over budget: {f.relative_to(ROOT)} has {n} lines (limit {FILE_LIMIT})")
    return 1 if over or core > CORE_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
