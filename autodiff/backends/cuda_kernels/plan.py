"""Launch shapes of the CuPy backend's fused kernels: threads per row, grid sizes, the
chunking of long reductions, and which ``sum_to`` patterns the reduction kernels cover. Pure
Python (no CuPy), so the emulated tests and any machine can check them."""

from __future__ import annotations

MAX_THREADS = 1024
BLOCKS_PER_SM = 4  # target resident blocks per SM when a reduction is split into chunks


def threads_for(n: int, cap: int = MAX_THREADS) -> int:
    """Threads per block for a row of ``n`` elements: a power of two in [32, cap], about
    four elements per thread, so short rows do not leave most of a block idle."""
    t = 32
    while t < cap and t * 4 < n:
        t *= 2
    return t


def rows_grid(rows: int) -> int:
    return max(1, min(rows, 2**31 - 1))


def chunking(rows: int, blocks_per_chunk: int, target_blocks: int, min_rows: int = 1):
    """(rows_per_chunk, chunks): split ``rows`` so that ``chunks * blocks_per_chunk`` is about
    ``target_blocks``, with at least ``min_rows`` rows per chunk and at most 65535 chunks."""
    want = -(-target_blocks // max(blocks_per_chunk, 1))
    chunks = max(1, min(want, -(-rows // min_rows), 65535))
    per = -(-rows // chunks)
    return per, -(-rows // per)


def rcs_plan(gshape: tuple, shape: tuple):
    """Express ``sum_to(g, shape)`` as a contiguous (R, C, S) -> (C,) reduction, or None.

    Dims are classified as kept (K) or reduced (R) and adjacent dims of one kind merged;
    the fused kernels cover the patterns RK (column sums), KR (row sums) and RKR.
    """
    lead = len(gshape) - len(shape)
    if lead < 0:
        return None
    runs: list = []
    for gn, tn in zip(gshape, (1,) * lead + tuple(shape)):
        if gn == tn:
            kind = "K"
        elif tn == 1:
            kind = "R"
        else:
            return None
        if gn == 1:
            continue
        if runs and runs[-1][0] == kind:
            runs[-1][1] *= gn
        else:
            runs.append([kind, gn])
    pattern = "".join(k for k, _ in runs)
    sizes = [n for _, n in runs]
    if pattern == "RK":
        return sizes[0], sizes[1], 1
    if pattern == "KR":
        return 1, sizes[0], sizes[1]
    if pattern == "RKR":
        return tuple(sizes)
    return None
