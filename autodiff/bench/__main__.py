"""Backend parity benchmark: ``python -m autodiff.bench``.

For every primitive op and every available backend: the max error against a float64 NumPy
reference, the forward and forward+backward time, and the speed-up against the numpy backend.

    python -m autodiff.bench [--ops matmul,softmax] [--sizes 256x256,2048x1024]
                             [--backends numpy,cpp] [--json out.json] [--plot out.png]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import autodiff as ad

from .ops import OPS

DEFAULT_SIZES = "256x256,2048x1024"


def _parse_size(text: str) -> tuple[int, int]:
    """ROWSxCOLS, or N for a square N x N."""
    try:
        dims = [int(v) for v in text.lower().split("x")]
    except ValueError:
        dims = []
    if len(dims) == 1:
        dims *= 2
    if len(dims) != 2 or min(dims) < 1:
        raise ValueError(f"size {text!r} must look like ROWSxCOLS (e.g. 1024x512) or N")
    return dims[0], dims[1]


# Seconds to wait before timing: OpenBLAS's idle threads spin for about 0.1 s after a NumPy
# matmul, and a 2-thread C++ kernel timed meanwhile shares a core with one of them (our
# 1024^3 GEMM measured at 75-130 instead of 180 GFLOP/s).
SETTLE = 0.15


def _timeit(fn, min_time: float = 0.2, max_reps: int = 200) -> float:
    """Median milliseconds per call, repeating until ``min_time`` seconds have passed."""
    time.sleep(SETTLE)
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (time.perf_counter() - start < min_time or len(times) < 3):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def measure(op, backend: str, rows: int, cols: int, seed: int = 0) -> dict:
    """One record: errors vs the float64 reference and timings of ``op`` on ``backend``."""
    arrays = op.make(np.random.default_rng(seed), rows, cols)
    ref = np.asarray(op.reference(*[a.astype(np.float64) for a in arrays]))
    leaves = [ad.tensor(a, device=backend, requires_grad=True) for a in arrays]
    with ad.no_grad():
        out = op.run(*leaves)
    got = np.asarray(out.cpu().numpy(), dtype=np.float64)
    abs_err = np.abs(got - ref)
    # relative to each element's magnitude, floored at 1e-3 of the output's RMS so that
    # outputs that cancel to ~0 (matmul, sums) do not turn rounding noise into 100% error
    floor = 1e-3 * float(np.sqrt(np.mean(ref * ref))) if ref.size else 0.0
    rel_err = abs_err / np.maximum(np.abs(ref), max(floor, 1e-30))

    def forward():
        with ad.no_grad():
            op.run(*leaves)

    def forward_backward():
        for t in leaves:
            t.grad = None
        y = op.run(*leaves)
        y.backward(ad.ones_like(y))

    return {
        "op": op.name, "backend": backend, "size": f"{rows}x{cols}",
        "max_abs_err": float(abs_err.max()) if abs_err.size else 0.0,
        "max_rel_err": float(rel_err.max()) if rel_err.size else 0.0,
        "fwd_ms": _timeit(forward), "fwd_bwd_ms": _timeit(forward_backward),
    }


def _table(records: list[dict]) -> str:
    base = {(r["op"], r["size"]): r for r in records if r["backend"] == "numpy"}
    head = (f"{'op':<17}{'size':>11}{'backend':>9}{'max_abs_err':>13}{'max_rel_err':>13}"
            f"{'fwd ms':>10}{'fwd+bwd ms':>12}{'speedup':>9}")
    lines = [head, "-" * len(head)]
    for r in records:
        ref = base.get((r["op"], r["size"]))
        speed = f"{ref['fwd_bwd_ms'] / r['fwd_bwd_ms']:.2f}x" if ref else "-"
        lines.append(f"{r['op']:<17}{r['size']:>11}{r['backend']:>9}{r['max_abs_err']:>13.2e}"
                     f"{r['max_rel_err']:>13.2e}{r['fwd_ms']:>10.3f}{r['fwd_bwd_ms']:>12.3f}"
                     f"{speed:>9}")
    return "\n".join(lines)


def _plot(records: list[dict], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib: pip install 'autodiff[bench]'", file=sys.stderr)
        return
    keys = sorted({(r["op"], r["size"]) for r in records}, key=lambda k: (k[1], k[0]))
    backends = sorted({r["backend"] for r in records})
    by = {(r["op"], r["size"], r["backend"]): r["fwd_bwd_ms"] for r in records}
    fig, ax = plt.subplots(figsize=(max(8, len(keys) * 0.6), 4.5))
    width = 0.8 / len(backends)
    for i, b in enumerate(backends):
        xs = [k + i * width for k in range(len(keys))]
        ax.bar(xs, [by.get((o, s, b), 0) for o, s in keys], width, label=b)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))])
    ax.set_xticklabels([f"{o}\n{s}" for o, s in keys], rotation=60, fontsize=7)
    ax.set_ylabel("forward+backward ms (log)")
    ax.set_yscale("log")
    ax.set_title("autodiff backend parity benchmark")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m autodiff.bench", description=__doc__.split("\n")[0])
    p.add_argument("--ops", default=",".join(OPS), help=f"comma list from {','.join(OPS)}")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="comma list of ROWSxCOLS")
    p.add_argument("--backends", default=",".join(ad.available_devices()),
                   help="comma list of devices (default: every available one)")
    p.add_argument("--json", metavar="PATH", help="write one record per (op, backend, size)")
    p.add_argument("--plot", metavar="PATH", help="write a PNG bar chart (needs matplotlib)")
    args = p.parse_args(argv)
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = [o for o in ops if o not in OPS]
    if unknown:
        p.error(f"unknown op(s) {unknown}; choose from {', '.join(OPS)}")
    if not ops:
        p.error("--ops names no op")
    try:
        sizes = [_parse_size(s) for s in args.sizes.split(",") if s.strip()]
        backends = [str(ad.device(b.strip())) for b in args.backends.split(",") if b.strip()]
    except (ValueError, RuntimeError) as exc:  # bad size; unknown or unavailable device
        p.error(str(exc))
    missing = [b for b in backends if b not in ad.available_devices()]
    if missing or not sizes or not backends:
        p.error(f"--backends: {missing} not available here (available: "
                f"{', '.join(ad.available_devices())})" if missing else "--sizes/--backends empty")
    for path, what in ((args.json, "--json"), (args.plot, "--plot")):
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and not os.path.isdir(folder):  # fail now, not after the benchmark
            p.error(f"{what}: folder {folder} does not exist")
    jobs = [(o, b, s) for s in sizes for o in ops for b in backends]
    try:
        from tqdm import tqdm

        jobs_iter = tqdm(jobs, desc="benchmark", unit="case", file=sys.stderr)
    except ImportError:
        jobs_iter = jobs
    records = [measure(OPS[o], b, *s) for o, b, s in jobs_iter]
    print(ad.info.summary_line())
    print(_table(records))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)
        print(f"json written to {args.json}")
    if args.plot:
        _plot(records, args.plot)
    return records


if __name__ == "__main__":
    main()
