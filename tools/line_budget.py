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
# PyTorch's module paths that live inside core packages but hold no engine code: the
# torch.backends flag modules, the legacy autograd.Variable / autograd.profiler shims and
# autograd.graph's context managers (the packing they switch on is in autograd/saved.py, core).
NOT_CORE = {f"autodiff/backends/{m}.py" for m in ("cuda", "cudnn", "mkl", "mps", "openmp")} | {
    "autodiff/autograd/variable.py", "autodiff/autograd/profiler.py", "autodiff/autograd/graph.py"}
CORE_LIMIT = 7667  # 6000, then 6100 for the CUDA pointwise kernels and index checks; 6200 for
# the fixes of a PyTorch-parity audit (diagonal view, empty reductions, in-place operators);
# +3 for autocast's hook in ops.linalg.matmul (the one entry of @, matmul, mm, bmm, dot, mv)
# +1 for ad.autograd.forward_ad, one import line (the code is in autodiff/func/_forward_ad.py)
# +36 for the fixes of an autograd audit: retain_grad and hooks follow in-place ops and stale
# views; grads a hook or custom backward returns never stored uncopied; backward(inputs=) through
# one sink; mark_dirty on views/leaves; thread-local grad mode; decorated generators; no_grad views
# +2 so the numpy softmax / log_softmax of an all -inf row give NaN without a RuntimeWarning
# +2 for integer tensors to negative integer-tensor powers (PyTorch: 0 unless |base| == 1)
# +8 for autograd.function.once_differentiable (custom Functions ported from PyTorch import it)
# +58, ninth session: 22 for an indexing audit against PyTorch (setitem dtype and leading ones,
# 0-d gather, tril/triu and unflatten checks, one-argument repeat_interleave, masked_fill);
# 26 for the dtype gaps (Python ints wrap into small dtypes, int / int via float, PyTorch's
# errors for bools in -, //, %, **, x % 0.0 silent); 6 for forward AD under no_grad and
# grad(is_grads_batched=); 3 for post-accumulate-grad hooks; 1 for autograd.Variable
# +43, ninth session's audits: 33 for element-wise special values (NumPy's floating-point
# warnings off through a 0.2-0.4 us context-variable switch, not np.errstate's 2 us, abs'
# and pow(x, -0.5) as PyTorch), 7 for reductions (var/std gradients when correction >= N,
# empty norm with p < 0, topk of 0-d), 3 for conv_transpose with output_padding >= stride
# -2 when remainder, div rounding and tensor-bound clamp moved to math_functions (exact, as torch)
# +6 for sum(dtype=bool) as an any, any/all keeping uint8, and a silent mean of no elements
# +3 for PyTorch's repeated '...' in an index (the rule is in autodiff/_index_items.py)
# +2 for autograd.functional.as_lists, grad's argument checks, shared with is_grads_batched
# +24, twelfth session: sum_to / mul_sum_to fold the axes along which a gradient is a stride-0
# broadcast (that of .sum() or .mean()) instead of filling out or multiplying a whole array
# +12, thirteenth session: the cpp backend's binary ops and reductions fall back to NumPy in one
# Python call, not three (tiny graphs on cpp had cost 4-7% more than on numpy); +5 for the
# cpp backend's one-pass C++ index range check (gather, scatter_add, cross-entropy targets)
# +20, fourteenth session, a PyTorch-parity audit: var/std(input, unbiased), a bool refused as
# a dim, float16 var/std/norm accumulated in float32, bare @no_grad / @enable_grad; +5 for
# x.flip(0, 2) and x.numpy(force=True); +7 for a tensor hook that changes the gradient's shape
# +17, fifteenth session: .grad assignment checks size, dtype and device, and ._version is an
# int (the counter shared with views moved to ._vc), both as in PyTorch; +13 for the functional
# ops' first argument named `input` as PyTorch's (F.layer_norm(input=x, ...)), aliased to x;
# +8 for normal_ / uniform_ refusing std < 0, from > to and integer tensors, as PyTorch;
# +11 for adaptive pools to an output size of 0 (empty, as PyTorch; ZeroDivisionError before)
# and conv1d's dtype error naming conv1d; +13 for composite_grads' alias nodes (a weight used
# twice under create_graph was counted twice) and anomaly mode's separate NaN check, as PyTorch;
# +21 for PyTorch's argument checks in autograd.grad / backward / save_for_backward, a custom
# backward's broadcast gradient summed to its input's shape, and autograd.functional's lazy
# import of vjp/jvp/jacobian/hessian/vhp/hvp (their code is in autodiff/func); +9 for
# autograd.Function's setup_context style (forward without ctx), as PyTorch 2's; +4 for a
# tensor hook that changes the gradient's dtype raising, as PyTorch (it was cast back)
# +64, sixteenth session: average pooling as a primitive with its adjoint (NumPy/CuPy kernels,
# the cpp backend's one-pass C++ kernels; it was unfold + sum, 1.7x PyTorch's time)
# +139, sixteenth session's audits against PyTorch: float32 var / BatchNorm statistics from
# shifted float64 sums on numpy (15); PyTorch's legacy Tensor(*sizes) constructor, f"{t}", size()
# as Size, `in` (35); axis= / keepdims= / input= on the reductions, cat and stack (32); float
# results keep uint8 / negative operands (10); uint8 masks, view(dtype), einsum sublists (30);
# gather's fast path and index check, int pow at -128, float16 sums (17); +9 for PyTorch's
# exception types (int() of a many-element tensor, -bool) and MulBackward0-style node names;
# +9 for PyTorch's parameter names input= / other= / exponent= on the binary ops and matmul
# +3, seventeenth session: PyTorch's parameter names as keywords (input=, dim=, index=, mat2=,
# shape=, dims=, ... on ~270 functions, renamed in place): swapaxes(input, axis0, axis1) its own
# function (transpose takes dim0 / dim1), two messages wrapped at 100 columns
# +12 so the cpp gather checks PyTorch's index range in its kernel, not in a pass before it
# +1, seventeenth session: view(size=) / view(dtype=) as PyTorch's keywords (the names of the
# functions its docstrings give no signature for, checked against the ATen schemas)
# +203, eighteenth session: 28 for pow with a constant exponent (PyTorch's products, NumPy's
# power on |x| with the sign put back: 30-100x faster on negative bases) and Tensor.shape as a
# Size; 94 for array-level activations (backends/activation_kernels.py and the Activation op:
# leaky ReLU, the ELU family, the hard family, softplus and log-sigmoid in a few backend
# passes instead of a node per where / clamp / exp, 3-9x slower than PyTorch before); 28 for
# their differentiable backward (the same formulas on Tensors) and NumPy's quiet-FP switch in
# a module of its own (the activation kernels and the sigmoid backward use it); 23 for the
# cpp backend's entries to the C++ activation kernels and quiet sums (inf - inf is NaN, as
# PyTorch, without NumPy's warning); 15 for cumsum as a backend kernel (C++ on cpp, threaded,
# in double, no flips for its backward: 6x -> 1x PyTorch's time along rows); 14 for Huber /
# smooth L1 as an activation of d = input - target (one kernel each way)
# +3, nineteenth session: the cpp backend's entries to the C++ softplus, log-sigmoid and ELU
# +23, nineteenth session: hardshrink, softshrink and threshold as activations (array-level
# formulas with PyTorch's vectorised conditions, C++ kernels on cpp; 3.5-15x PyTorch's time)
# +16, nineteenth session (helper): triu / tril zero strips of 64 rows by slices and 64-wide masks
# +21, nineteenth session: the gradient of a gather along any one axis (x[:, cols], nearest and
# linear upsampling) by a row scatter, C++ on cpp (it was np.add.at: 81 -> 24 ms for nearest 2x)
# +41, nineteenth session: linear upsampling as one lerp along each axis (LerpAlong and its
# adjoint; backends/resample_kernels.py, C++ on cpp): bilinear 2x fwd+bwd 211 -> 16 ms
# +10, twentieth session: x ** 3 as the activation "cube" (one C++ kernel each way on cpp,
# PyTorch's products bit for bit): forward 2.6-3.4x -> 0.8-1.0x PyTorch's time
# +6, twentieth session: lerp with a number weight as one backend pass (C++ fma on cpp, PyTorch's
# vectorised result bit for bit): forward 3.5x -> 0.7-1.1x PyTorch's time
# +1, nineteenth session (helper): flip copies when the flipped dims have size 1 (it aliased x)
# +8, twenty-second session: batch norm's normalization as one C++ pass (channel_affine):
# the forward of a CIFAR-size CNN's three batch norms 3.2 -> 0.6 ms a step
# +100, op-survey session: reflect / replicate / circular padding as a primitive with its
# adjoint and slice-filling pad kernels (backends/pad_kernels.py): reflect fwd+bwd of a
# (32, 64, 32, 32) batch 13.8 -> 3.7 ms (it was an integer-array gather per dim)
# +66, op-survey session: two-operand einsum with a contraction as one (batched) matmul
# (backends/einsum_matmul.py, plans cached per shapes): 'bij,bjk->bik' fwd+bwd 1.57 -> 0.17 ms
# +1, op-survey session: x[:, cols] by xp.take (contiguous; a[idx] then a copy was 4x slower)
# +14, op-survey session: rsqrt from the backend's sqrt divided in place, its gradient's products
# in place (array-level backward): (256, 1024) fwd 0.122 -> 0.079 ms, fwd+bwd 0.31 -> 0.20
# +3, op-survey session: stack as one Cat node (stacked=True), not an unsqueeze node per tensor
# +78, ported tutorials 2: autograd.graph.saved_tensors_hooks (pack at record time, unpack per
# backward, relinked under create_graph) in autograd/saved.py and its hooks in the engine
# +32, ported tutorials 2: gradcheck's PyTorch keywords and check_forward_ad; custom Functions'
# jvp (forward AD takes it over backward, as PyTorch) and ctx.save_for_forward
# +14, ported tutorials 2: Tensor.__deepcopy__ as PyTorch's (a leaf's data, requires_grad and
# grad; a tensor with a grad_fn refused), not a deep copy of its graph, hooks and base
# +9, twenty-second session: Tensor-scalar arithmetic without the promotion walk (x + 1,
# 2 * x, x / 2: 3.3-3.9 us a call, from 3.4-5.4)
# +10, twenty-second session: Tensor.expand's strides computed here, one as_strided (9.3 -> 7.5 us)
# +3, twenty-second session: mul_sum_to of small unbroadcast arrays without folding checks
# +4, twenty-second session: the cpp backend's sgd_update (one C++ pass for SGD with momentum)
# +2, twenty-second session: the cpp backend's cumprod (the C++ scan, threaded)
# +2, twenty-second session: batched dots (M x N <= 16, M <= 4) to NumPy's matmul: 0.39 -> 0.011 ms
# +59, twenty-third session: conv_transpose2d as one C++ kernel (conv2d's input gradient) on the
# cpp device, its backward two conv2d kernels: 3.4x -> 0.44x PyTorch's forward time
# +47, twenty-third session: nll_loss of (N, C) as one node (21 -> 7.7 us on (64, 128))
# +71, twenty-third session: split/chunk/unbind as one multi-output node (ops/split.py) with a
# cat backward, cat/stack fast paths, Slice (a view op without checks): x.split(32, 1) 113 -> 47 us
# +2, twenty-third session: AUTODIFF_CONTENTION_GUARD applied at the extension's import
# +2, twenty-third session: the cpp backend's erfinv_float32 (_C.erfinv, one threaded pass)
# +6, twenty-third session: the cpp backend's tril/triu (_C.tri): (256, 1024) 3.3x -> 0.44x PyTorch
# +5, twenty-third session: adaptive pooling's averaging matrices cached (small pool 110 -> 48 us)
# +27, twenty-third session: backends/cpp_copy.py, the cpp backend's copy kernels moved out of
# cpp_backend.py (600 lines) and _C.edge_pad2d padding: reflect (256, 1024)-size 2.8x -> 0.8-1.05x
# +5, twenty-third session: the cpp backend's addc (addcmul/addcdiv in one C++ pass): 2.3x -> 1.17x
# +5, twenty-third session (helper): Prod's backward with zeros from the backend's cumulative
# products both ways (C++ in float64 on cpp, no flips): 2.2 -> 0.8 ms fwd+bwd on (256, 1024)
# +4, twenty-third session (helper): the cpp backend's float_remainder (fmod and remainder as one
# exact C++ pass): 3.1-3.2x -> 0.9x PyTorch's forward time on (256, 1024)


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
    core = sum(code_lines(f) for rel in CORE for f in python_files(rel)
               if str(f.relative_to(ROOT)) not in NOT_CORE)
    print(f"core (tensor, autograd, ops, backends): {core} lines of code (budget {CORE_LIMIT})")
    for f, n in over:
        print(f"over budget: {f.relative_to(ROOT)} has {n} lines (limit {FILE_LIMIT})")
    return 1 if over or core > CORE_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
