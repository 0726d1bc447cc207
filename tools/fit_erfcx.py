"""The coefficient table of csrc/simd.h's erfc_small_ps: erfcx(a) = erfc(a) exp(a^2) on
[0, 4) as a degree-6 polynomial in u = a - k / 2 on each interval [k / 2, (k + 1) / 2),
fitted by least squares weighted to relative error on Chebyshev nodes (on the first interval
with the constant held at 1, so that erfc(0) = 1), rounded to float32, and checked by
evaluating it as the kernel does (float32 Horner).  Needs SciPy.

    python tools/fit_erfcx.py      # prints the C++ table and the error in float32 ulp
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx

WIDTH, INTERVALS, DEGREE = 0.5, 8, 6


def fit(k: int) -> np.ndarray:
    """float32 coefficients of interval k, highest power first."""
    lo = k * WIDTH
    nodes = lo + WIDTH / 2 * (1 + np.cos(np.pi * (np.arange(4000) + 0.5) / 4000))
    u, f = nodes - lo, erfcx(nodes)
    powers = np.vander(u, DEGREE + 1)
    if k == 0:  # erfcx(u) - 1 = u q(u)
        q = np.linalg.lstsq(powers[:, :-1] / f[:, None], (f - 1) / f, rcond=None)[0]
        c = np.append(q, 1.0)
    else:
        c = np.linalg.lstsq(powers / f[:, None], np.ones_like(f), rcond=None)[0]
    return c.astype(np.float32)


def max_ulp(table: np.ndarray) -> float:
    a = np.linspace(0, INTERVALS * WIDTH, 4_000_001, dtype=np.float32)[:-1]
    k = (a + a).astype(np.int32)
    u = (a - k.astype(np.float32) * np.float32(WIDTH)).astype(np.float32)
    p = table[k, 0]
    for j in range(1, DEGREE + 1):
        p = (p * u + table[k, j]).astype(np.float32)
    rel = np.abs(p.astype(np.float64) / erfcx(a.astype(np.float64)) - 1)
    return float(rel.max() / 2.0**-24)


def main() -> None:
    table = np.array([fit(k) for k in range(INTERVALS)])
    print(f"  alignas(32) static constexpr float kC[{DEGREE + 1}][{INTERVALS}] = {{")
    for j in range(DEGREE + 1):
        vals = [f"{v:.9e}f" for v in table[:, j]]
        print("      {" + ", ".join(vals[:4]) + ",\n       " + ", ".join(vals[4:]) + "},")
    print("  };")
    print(f"max error of the float32 evaluation: {max_ulp(table):.2f} ulp of erfcx")


if __name__ == "__main__":
    main()
