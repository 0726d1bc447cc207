"""Where the host time of one op of benchmarks/ops.py goes on a device: cProfile of the op's
forward + backward called back to back, the top functions by own time.

    python3 tools/gpu_op_profile.py "max dim 1" var --device cuda --calls 300
"""

from __future__ import annotations

import argparse
import cProfile
import pathlib
import pstats
import sys

import autodiff as ad

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
import ops


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ops", nargs="+", help="op names (or unique prefixes) of benchmarks/ops.py")
    p.add_argument("--device", default="cuda")
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--top", type=int, default=14)
    args = p.parse_args()
    ops.DEVICES["ours"] = args.device
    for want in args.ops:
        name = next(n for n in ops.CASES if n.startswith(want))
        fn, arrays = ops.CASES[name]
        ts = [ad.tensor(a, device=args.device, requires_grad=a.dtype.kind == "f")
              for a in arrays]

        def step(fn=fn, ts=ts):
            for t in ts:
                t.grad = None
            fn(ad, *ts).sum().backward()

        for _ in range(20):
            step()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.calls):
            step()
        ad.cuda.synchronize() if args.device.startswith("cuda") else None
        prof.disable()
        st = pstats.Stats(prof)
        print(f"== {name}: {st.total_tt / args.calls * 1e6:.0f} us of host time per fwd+bwd")
        st.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
