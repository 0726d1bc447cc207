"""Launch each fused row kernel of the CuPy backend (and PyTorch's counterpart) a few times
per shape, for a profiler to time the kernels alone, without host overhead:

    ncu --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \\
        --csv python3 tools/gpu_kernel_launches.py > kernels.csv
"""

from __future__ import annotations

import sys

import cupy

import autodiff as ad

SHAPES = [(4096, 1024), (8192, 4096), (32768, 768), (1024, 32768)]


def main() -> None:
    b = ad.device("cuda").backend
    torch = None
    if "--torch" in sys.argv:
        import torch
    for shape in SHAPES:
        x = cupy.random.standard_normal(shape, dtype=cupy.float32)
        gy = cupy.random.standard_normal(shape, dtype=cupy.float32)
        w = cupy.random.standard_normal(shape[-1], dtype=cupy.float32)
        bias = cupy.random.standard_normal(shape[-1], dtype=cupy.float32)
        y = b.softmax(x, 1)
        _, mean, rstd = b.layer_norm(x, w, bias, 1, 1e-5)
        for _ in range(2):
            b.softmax(x, 1)
            b.softmax_backward(y, gy, 1)
            b.layer_norm(x, w, bias, 1, 1e-5)
            b.layer_norm_backward(gy, x, mean, rstd, w, 1)
        if torch is not None:
            tx = torch.as_tensor(x, device="cuda")
            tg = torch.as_tensor(gy, device="cuda")
            tw = torch.as_tensor(w, device="cuda").requires_grad_()
            tb = torch.as_tensor(bias, device="cuda").requires_grad_()
            ty = torch.softmax(tx, 1)
            xg = tx.clone().requires_grad_()
            ln = torch.nn.functional.layer_norm(xg, (shape[-1],), tw, tb)
            for _ in range(2):
                torch.softmax(tx, 1)
                torch.ops.aten._softmax_backward_data(tg, ty, 1, tx.dtype)
                torch.nn.functional.layer_norm(tx, (shape[-1],), tw, tb)
                torch.autograd.grad(ln, (xg, tw, tb), tg, retain_graph=True)
    cupy.cuda.Device().synchronize()


if __name__ == "__main__":
    main()
