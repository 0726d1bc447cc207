"""A survey of ~100 commonly used ops: autodiff beside PyTorch, sorted by how much slower we are.

Each op runs forward, and forward + backward where it is differentiable (``out.backward(g)``
with a fixed random ``g``; a scalar loss's plain ``backward()``), float32, at a small size
((64, 128); conv, pooling and norms (8, 16, 16, 16)) and a medium one ((256, 1024);
(32, 64, 32, 32)).  The optimizer cases time one ``step()`` over 20 parameters of that size.
Both libraries run on the same number of threads (2 unless ``--threads``).

These machines are shared and noisy, so the two libraries are timed interleaved in the same
process: rounds of (autodiff calls, PyTorch calls), the minimum over rounds kept for each.
Each round runs the op enough times to last about a millisecond.

    python benchmarks/op_survey.py                       # everything, ~3 minutes
    python benchmarks/op_survey.py --filter pool --rounds 9
    python benchmarks/op_survey.py --size medium --json survey.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

import numpy as np

ad = torch = None  # imported by main(), after AUTODIFF_NUM_THREADS is set

SIZES = {  # name -> (2-D shape, 4-D image shape, conv batch)
    "small": ((64, 128), (8, 16, 16, 16)),
    "medium": ((256, 1024), (32, 64, 32, 32)),
}


def arrays(size: str) -> dict:
    """The input arrays of every case at one size, by key."""
    (n, d), (b, c, h, w) = SIZES[size]
    rng = np.random.default_rng(0)

    def randn(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    x = randn(n, d)
    return {
        "x": x, "y": randn(n, d), "z": randn(n, d), "v": randn(d),
        "pos": np.abs(x) + 0.5,
        "prob": (1 / (1 + np.exp(-randn(n, d)))).astype(np.float32),
        "unit": rng.uniform(-0.9, 0.9, (n, d)).astype(np.float32),
        "mask": x > 0.3,
        "rows": rng.integers(0, n, n),  # a permutation-like row index of length n
        "cols": rng.integers(0, d, d // 4),
        "colidx": rng.integers(0, d, (n, 8)),
        "uniqidx": rng.permuted(np.tile(np.arange(d), (n, 1)), axis=1)[:, :8],  # no repeats
        "target": rng.integers(0, d, n),
        "emb_idx": rng.integers(0, n, (n // 4, 16)),
        "w": randn(d, d) * d ** -0.5, "bias": randn(d),
        "a3": randn(n // 16, 16, d // 4), "b3": randn(n // 16, d // 4, 16),
        "img": randn(b, c, h, w), "cvec": randn(c) + 2.0,
        "ker": randn(c, c, 3, 3) * (9 * c) ** -0.5,
        "seq": randn(b, c, 4 * h), "ker1": randn(c, c, 5) * (5 * c) ** -0.5,
        "q": randn(b, 4, h * 2, 32), "k": randn(b, 4, h * 2, 32), "vv": randn(b, 4, h * 2, 32),
    }


def F(m):
    return m.nn.functional


def _cross_entropy(m, a, t):
    return F(m).cross_entropy(a, t)


def _bn(m, x, c):
    return F(m).batch_norm(x, None, None, c, c, training=True)


# name -> (f(module, *tensors), keys of its inputs, differentiable); float inputs need grad
CASES = {
    # ---------------------------------------------------------------- elementwise
    "add": (lambda m, a, b: a + b, ["x", "y"], True),
    "mul broadcast row": (lambda m, a, v: a * v, ["x", "v"], True),
    "div": (lambda m, a, p: a / p, ["x", "pos"], True),
    "pow 2": (lambda m, a: a ** 2, ["x"], True),
    "pow 2.5": (lambda m, p: p ** 2.5, ["pos"], True),
    "pow tensor": (lambda m, p, b: p ** b, ["pos", "y"], True),
    "clamp": (lambda m, a: a.clamp(-0.5, 0.5), ["x"], True),
    "clamp min": (lambda m, a: a.clamp(min=0.0), ["x"], True),
    "where": (lambda m, k, a, b: m.where(k, a, b), ["mask", "x", "y"], True),
    "abs": (lambda m, a: a.abs(), ["x"], True),
    "sqrt": (lambda m, p: p.sqrt(), ["pos"], True),
    "rsqrt": (lambda m, p: p.rsqrt(), ["pos"], True),
    "exp": (lambda m, a: a.exp(), ["x"], True),
    "log": (lambda m, p: p.log(), ["pos"], True),
    "sin": (lambda m, a: a.sin(), ["x"], True),
    "tanh": (lambda m, a: a.tanh(), ["x"], True),
    "sigmoid": (lambda m, a: a.sigmoid(), ["x"], True),
    "erf": (lambda m, a: m.erf(a), ["x"], True),
    "erfinv": (lambda m, u: m.erfinv(u), ["unit"], True),
    "relu": (lambda m, a: F(m).relu(a), ["x"], True),
    "gelu": (lambda m, a: F(m).gelu(a), ["x"], True),
    "gelu tanh": (lambda m, a: F(m).gelu(a, approximate="tanh"), ["x"], True),
    "silu": (lambda m, a: F(m).silu(a), ["x"], True),
    "softplus": (lambda m, a: F(m).softplus(a), ["x"], True),
    "leaky_relu": (lambda m, a: F(m).leaky_relu(a, 0.1), ["x"], True),
    "elu": (lambda m, a: F(m).elu(a), ["x"], True),
    "hardtanh": (lambda m, a: F(m).hardtanh(a), ["x"], True),
    "mish": (lambda m, a: F(m).mish(a), ["x"], True),
    "log1p": (lambda m, p: p.log1p(), ["pos"], True),
    "expm1": (lambda m, a: a.expm1(), ["x"], True),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3), ["x", "y"], True),
    "addcmul": (lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), ["x", "y", "z"], True),
    "addcdiv": (lambda m, a, b, p: m.addcdiv(a, b, p, value=0.5), ["x", "y", "pos"], True),
    "fmod": (lambda m, a: m.fmod(a, 0.7), ["x"], True),
    "remainder": (lambda m, a: m.remainder(a, 0.7), ["x"], True),
    "atan2": (lambda m, a, b: m.atan2(a, b), ["x", "y"], True),
    "maximum": (lambda m, a, b: m.maximum(a, b), ["x", "y"], True),
    "gt + float": (lambda m, a, b: (a > b).float(), ["x", "y"], False),
    "nan_to_num": (lambda m, a: m.nan_to_num(a), ["x"], True),
    # ---------------------------------------------------------------- reductions
    "sum": (lambda m, a: a.sum(), ["x"], True),
    "sum dim 0": (lambda m, a: a.sum(0), ["x"], True),
    "sum dim 1": (lambda m, a: a.sum(1), ["x"], True),
    "mean dim 1": (lambda m, a: a.mean(1), ["x"], True),
    "var dim 1": (lambda m, a: a.var(1), ["x"], True),
    "std dim 0": (lambda m, a: a.std(0), ["x"], True),
    "max dim 1": (lambda m, a: a.max(1).values, ["x"], True),
    "min": (lambda m, a: a.min(), ["x"], True),
    "argmax dim 1": (lambda m, a: a.argmax(1), ["x"], False),
    "logsumexp": (lambda m, a: a.logsumexp(1), ["x"], True),
    "norm": (lambda m, a: a.norm(), ["x"], True),
    "norm dim 1": (lambda m, a: a.norm(dim=1), ["x"], True),
    "cumsum dim 1": (lambda m, a: a.cumsum(1), ["x"], True),
    "cumprod dim 1": (lambda m, u: (u + 1.0).cumprod(1), ["unit"], True),
    "prod dim 1": (lambda m, u: (u * 0.1 + 1.0).prod(1), ["unit"], True),
    "topk 8": (lambda m, a: a.topk(8, 1)[0], ["x"], True),
    "sort": (lambda m, a: a.sort(1)[0], ["x"], True),
    "median dim 1": (lambda m, a: a.median(1)[0], ["x"], True),
    "mode dim 1": (lambda m, a: (a * 4).round().mode(1)[0], ["x"], False),
    "all/any": (lambda m, a: (a > 0).any(1) & (a < 3).all(1), ["x"], False),
    # ---------------------------------------------------------------- indexing
    "gather": (lambda m, a, i: a.gather(1, i), ["x", "colidx"], True),
    "take_along_dim": (lambda m, a, i: m.take_along_dim(a, i, 1), ["x", "colidx"], True),
    "scatter": (lambda m, a, i, s: a.scatter(1, i, s), ["x", "uniqidx", "colidx_src"], True),
    "scatter value": (lambda m, a, i: a.scatter(1, i, 1.0), ["x", "uniqidx"], True),
    "scatter_add": (lambda m, a, i, s: a.scatter_add(1, i, s), ["x", "colidx", "colidx_src"],
                    True),
    "index_select": (lambda m, a, i: a.index_select(1, i), ["x", "cols"], True),
    "index rows": (lambda m, a, i: a[i], ["x", "rows"], True),
    "index cols": (lambda m, a, i: a[:, i], ["x", "cols"], True),
    "boolean mask": (lambda m, a, k: a[k], ["x", "mask"], True),
    "masked_fill": (lambda m, a, k: a.masked_fill(k, 0.0), ["x", "mask"], True),
    "index_add": (lambda m, a, i, s: a.index_add(0, i, s), ["x", "rows", "y"], True),
    "slice [::2, 1:]": (lambda m, a: a[::2, 1:], ["x"], True),
    # ---------------------------------------------------------------- movement
    "cat dim 1": (lambda m, a, b: m.cat([a, b], 1), ["x", "y"], True),
    "cat dim 0": (lambda m, a, b: m.cat([a, b], 0), ["x", "y"], True),
    "stack": (lambda m, a, b: m.stack([a, b], 1), ["x", "y"], True),
    "split + add": (lambda m, a: sum(a.split(32, 1)[1:3]), ["x"], True),
    "chunk 4": (lambda m, a: m.cat(a.chunk(4, 1)[::-1], 1), ["x"], True),
    "t + contiguous": (lambda m, a: a.t().contiguous(), ["x"], True),
    "permute + contiguous": (lambda m, x: x.permute(0, 2, 3, 1).contiguous(), ["img"], True),
    "flip": (lambda m, a: a.flip(1), ["x"], True),
    "roll": (lambda m, a: a.roll(3, 1), ["x"], True),
    "repeat": (lambda m, a: a.repeat(2, 1), ["x"], True),
    "expand + contiguous": (lambda m, v: v.expand(64, -1).contiguous(), ["v"], True),
    "tril": (lambda m, a: a.tril(), ["x"], True),
    "triu": (lambda m, a: a.triu(1), ["x"], True),
    "pad": (lambda m, x: F(m).pad(x, (1, 1, 1, 1)), ["img"], True),
    "pad reflect": (lambda m, x: F(m).pad(x, (1, 1, 1, 1), mode="reflect"), ["img"], True),
    # ---------------------------------------------------------------- losses
    "cross_entropy": (_cross_entropy, ["x", "target"], True),
    "cross_entropy smooth": (lambda m, a, t: F(m).cross_entropy(a, t, label_smoothing=0.1),
                             ["x", "target"], True),
    "nll_loss": (lambda m, a, t: F(m).nll_loss(a, t), ["x", "target"], True),
    "mse_loss": (lambda m, a, b: F(m).mse_loss(a, b), ["x", "y"], True),
    "l1_loss": (lambda m, a, b: F(m).l1_loss(a, b), ["x", "y"], True),
    "smooth_l1_loss": (lambda m, a, b: F(m).smooth_l1_loss(a, b), ["x", "y"], True),
    "huber_loss": (lambda m, a, b: F(m).huber_loss(a, b), ["x", "y"], True),
    "bce": (lambda m, p, q: F(m).binary_cross_entropy(p, q), ["prob", "prob2"], True),
    "bce_with_logits": (lambda m, a, q: F(m).binary_cross_entropy_with_logits(a, q),
                        ["x", "prob"], True),
    "kl_div": (lambda m, a, q: F(m).kl_div(F(m).log_softmax(a, 1), q, reduction="batchmean"),
               ["x", "prob"], True),
    # ---------------------------------------------------------------- nn.functional
    "cosine_similarity": (lambda m, a, b: F(m).cosine_similarity(a, b), ["x", "y"], True),
    "normalize": (lambda m, a: F(m).normalize(a, dim=1), ["x"], True),
    "dropout": (lambda m, a: F(m).dropout(a, 0.1), ["x"], True),
    "embedding": (lambda m, i, w: F(m).embedding(i, w), ["emb_idx", "x"], True),
    "linear": (lambda m, a, w, b: F(m).linear(a, w, b), ["x", "w", "bias"], True),
    "softmax": (lambda m, a: a.softmax(1), ["x"], True),
    "softmax dim 0": (lambda m, a: a.softmax(0), ["x"], True),
    "log_softmax": (lambda m, a: a.log_softmax(1), ["x"], True),
    "layer_norm": (lambda m, a: F(m).layer_norm(a, a.shape[-1:]), ["x"], True),
    "sdpa": (lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v), ["q", "k", "vv"],
             True),
    "sdpa causal": (lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v,
                                                                          is_causal=True),
                    ["q", "k", "vv"], True),
    "conv1d": (lambda m, x, w: F(m).conv1d(x, w, padding=2), ["seq", "ker1"], True),
    "conv2d": (lambda m, x, w: F(m).conv2d(x, w, padding=1), ["img", "ker"], True),
    "conv2d stride 2": (lambda m, x, w: F(m).conv2d(x, w, stride=2, padding=1), ["img", "ker"],
                        True),
    "conv_transpose2d": (lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2, padding=1,
                                                               output_padding=1),
                         ["img", "ker"], True),
    "max_pool2d": (lambda m, x: F(m).max_pool2d(x, 2), ["img"], True),
    "max_pool2d 3/2": (lambda m, x: F(m).max_pool2d(x, 3, 2, 1), ["img"], True),
    "avg_pool2d": (lambda m, x: F(m).avg_pool2d(x, 2), ["img"], True),
    "adaptive_avg_pool2d 1": (lambda m, x: F(m).adaptive_avg_pool2d(x, 1), ["img"], True),
    "adaptive_avg_pool2d 7": (lambda m, x: F(m).adaptive_avg_pool2d(x, 7), ["img"], True),
    "interpolate nearest": (lambda m, x: F(m).interpolate(x, scale_factor=2), ["img"], True),
    "interpolate bilinear": (lambda m, x: F(m).interpolate(x, scale_factor=2, mode="bilinear"),
                             ["img"], True),
    "batch_norm train": (_bn, ["img", "cvec"], True),
    "group_norm": (lambda m, x: F(m).group_norm(x, 4), ["img"], True),
    "instance_norm": (lambda m, x: F(m).instance_norm(x), ["img"], True),
    "layer_norm 4d": (lambda m, x: F(m).layer_norm(x, x.shape[1:]), ["img"], True),
    # ---------------------------------------------------------------- linear algebra
    "matmul": (lambda m, a, w: a @ w, ["x", "w"], True),
    "matmul b.T": (lambda m, a, w: a @ w.t(), ["x", "w"], True),
    "bmm": (lambda m, a, b: m.bmm(a, b), ["a3", "b3"], True),
    "einsum bij,bjk": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b), ["a3", "b3"], True),
    "einsum ij,ij->i": (lambda m, a, b: m.einsum("ij,ij->i", a, b), ["x", "y"], True),
}

OPTIMIZERS = {  # name -> optimizer factory
    "SGD momentum step": lambda m, ps: m.optim.SGD(ps, lr=0.01, momentum=0.9),
    "Adam step": lambda m, ps: m.optim.Adam(ps, lr=1e-3),
    "AdamW step": lambda m, ps: m.optim.AdamW(ps, lr=1e-3, weight_decay=0.01),
}


def _derived(arr: dict) -> dict:
    rng = np.random.default_rng(1)
    arr["colidx_src"] = rng.standard_normal(arr["colidx"].shape, dtype=np.float32)
    arr["prob2"] = rng.uniform(0, 1, arr["prob"].shape).astype(np.float32)
    return arr


def to_lib(m, a: np.ndarray, grad: bool):
    if m is ad:
        return ad.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")


def make_calls(m, name: str, arr: dict, backward: bool):
    """A function of no arguments that runs one forward (+ backward) of the case on m."""
    if name in OPTIMIZERS:
        rng = np.random.default_rng(2)
        ps = [to_lib(m, arr["x"], True) for _ in range(20)]
        for p in ps:
            p.grad = to_lib(m, rng.standard_normal(p.shape, dtype=np.float32), False)
        opt = OPTIMIZERS[name](m, ps)
        return opt.step
    fn, keys, _ = CASES[name]
    ts = [to_lib(m, arr[k], backward) for k in keys]
    if not backward:
        return lambda: fn(m, *ts)
    leaves = [t for t in ts if t.requires_grad]
    out = fn(m, *ts)
    g = None
    if out.ndim:
        g = to_lib(m, np.random.default_rng(3).standard_normal(tuple(out.shape),
                                                               dtype=np.float32), False)

    def fwd_bwd():
        for t in leaves:
            t.grad = None
        fn(m, *ts).backward(g)

    return fwd_bwd


def _time(call, n: int) -> float:
    """Seconds a call, over n calls after an untimed one.  The untimed call waits out the
    other library's OpenMP workers, which spin for a while after each of its parallel
    regions: on two cores they would otherwise hold up our first call by a scheduler tick."""
    call()
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - t0) / n


def interleaved(ours, ref, rounds: int, target_s: float, budget_s: float) -> tuple:
    """(ours, ref) seconds a call: min over alternating rounds of n calls each, n chosen so a
    round of the slower library lasts about target_s."""
    ours(), ref()  # first calls: lazy imports, caches, allocator growth
    t_ours, t_ref = _time(ours, 3), _time(ref, 3)
    n = int(min(500, max(1, target_s / max(t_ours, t_ref, 1e-7))))
    best_ours, best_ref = float("inf"), float("inf")
    start = time.perf_counter()
    for r in range(rounds):
        best_ours = min(best_ours, _time(ours, n))
        best_ref = min(best_ref, _time(ref, n))
        if r >= 2 and time.perf_counter() - start > budget_s:
            break
    return best_ours, best_ref


def measure(name: str, arr: dict, mode: str, rounds, target_s, budget_s) -> tuple:
    calls = [make_calls(m, name, arr, mode == "fwd+bwd") for m in (ad, torch)]
    gc.collect()
    return interleaved(*calls, rounds, target_s, budget_s)


def survey(names, sizes, modes, rounds, target_s, budget_s, recheck=1.3, out=print):
    """A row per (op, size, mode).  Rows at ``recheck``x or worse are measured again after
    the rest and keep each library's better time: another process holding one of two cores
    for a while makes every parallel region of that while wait a scheduler tick (4-8 ms)."""
    rows = []
    for size in sizes:
        arr = _derived(arrays(size))
        for name in names:
            differentiable = name in OPTIMIZERS or CASES[name][2]
            for mode in modes:
                if mode == "fwd+bwd" and (name in OPTIMIZERS or not differentiable):
                    continue
                if mode == "fwd" and name in OPTIMIZERS:
                    mode = "step"
                row = {"op": name, "size": size, "mode": mode}
                try:
                    t = measure(name, arr, mode, rounds, target_s, budget_s)
                    row.update(autodiff_ms=t[0] * 1e3, torch_ms=t[1] * 1e3, ratio=t[0] / t[1])
                except Exception as exc:  # noqa: BLE001 -- an op autodiff lacks: a row, not fatal
                    row["error"] = f"{type(exc).__name__}: {exc}"[:120]
                rows.append(row)
                out(f"  {name} [{size} {mode}] " + (
                    f"{row['ratio']:.2f}x" if "ratio" in row else row["error"]))
        for row in rows:
            if row["size"] == size and row.get("ratio", 0) >= recheck:
                t = measure(row["op"], arr, row["mode"], rounds, target_s, budget_s)
                ours, ref = min(row["autodiff_ms"], t[0] * 1e3), min(row["torch_ms"], t[1] * 1e3)
                row.update(autodiff_ms=ours, torch_ms=ref, ratio=ours / ref)
                out(f"  recheck {row['op']} [{size} {row['mode']}] {row['ratio']:.2f}x")
    return rows


def table(rows, top: int | None = None) -> str:
    ok = sorted((r for r in rows if "ratio" in r), key=lambda r: -r["ratio"])[:top]
    head = f"{'op':24s} {'size':6s} {'mode':7s} {'autodiff ms':>11s} {'torch ms':>9s}"
    lines = [f"{head} {'ratio':>6s}"]
    for r in ok:
        flag = "  <<" if r["ratio"] >= 1.5 else ""
        lines.append(f"{r['op']:24s} {r['size']:6s} {r['mode']:7s} {r['autodiff_ms']:11.4f} "
                     f"{r['torch_ms']:9.4f} {r['ratio']:5.2f}x{flag}")
    for r in rows:
        if "error" in r:
            lines.append(f"{r['op']:24s} {r['size']:6s} {r['mode']:7s} error: {r['error']}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--filter", default="", help="only ops whose name contains this")
    p.add_argument("--size", choices=["small", "medium", "both"], default="both")
    p.add_argument("--mode", choices=["fwd", "fwd+bwd", "both"], default="both")
    p.add_argument("--rounds", type=int, default=7, help="most rounds per op (default 7)")
    p.add_argument("--target-ms", type=float, default=1.0, help="length of a round per lib")
    p.add_argument("--budget-ms", type=float, default=60.0,
                   help="stop an op's rounds (after 3) once this much time has passed")
    p.add_argument("--recheck", type=float, default=1.3,
                   help="measure rows at this ratio or worse again (default 1.3)")
    p.add_argument("--top", type=int, help="print only the N worst ratios")
    p.add_argument("--threads", type=int, default=2, help="for both libraries (default 2)")
    p.add_argument("--json", help="write the rows here")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args()
    global ad, torch
    os.environ["AUTODIFF_NUM_THREADS"] = str(args.threads)  # read once, at import
    import torch

    import autodiff as ad

    torch.set_num_threads(args.threads)
    names = [n for n in list(CASES) + list(OPTIMIZERS) if args.filter in n]
    sizes = list(SIZES) if args.size == "both" else [args.size]
    modes = ["fwd", "fwd+bwd"] if args.mode == "both" else [args.mode]
    print(f"autodiff {ad.__version__} on {ad.get_default_device()} vs torch {torch.__version__}, "
          f"{args.threads} threads, float32; min of <= {args.rounds} interleaved rounds",
          file=sys.stderr)
    t0 = time.perf_counter()
    rows = survey(names, sizes, modes, args.rounds, args.target_ms / 1e3, args.budget_ms / 1e3,
                  args.recheck, out=(lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr)))
    print(table(rows, args.top))
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
