"""Linear algebra: batched, broadcasting matmul and einsum, and composites (dot, outer)."""

from __future__ import annotations

import builtins

from ..autograd.node import Op
from ..errors import DeviceError, DTypeError, ShapeError
from . import _util
from .elementwise import expand, sum_to
from .movement import Permute


class Matmul(Op):
    """y = a @ b (batched, broadcasting); da = dy @ b^T, db = a^T @ dy (summed over
    broadcast batch dims)."""

    def forward(self, a, b):
        # keep only what backward reads (as PyTorch): x @ w with a constant x does not hold w,
        # so an optimizer may update w in place before backward
        self.saved = (a if b._requires_grad else None, b if a._requires_grad else None)
        ad, bd = a._data, b._data
        self.shapes = (ad.shape, bd.shape)
        return self.backend.matmul(ad, bd)

    def backward(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        need_a, need_b = self.next[0] is not None, self.next[1] is not None
        if len(sa) == 1 and len(sb) == 1:  # dot product: g is 0-d
            return (g * b if need_a else None, g * a if need_b else None)
        g2 = g
        if len(sa) == 1:
            g2 = g2.unsqueeze(-2)
        if len(sb) == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if need_a:
            b2 = b if len(sb) > 1 else b.unsqueeze(-1)
            ga = g2 @ _mT(b2)
            ga = sum_to(ga, sa if len(sa) > 1 else (1,) + sa).reshape(sa)
        if need_b:
            a2 = a if len(sa) > 1 else a.unsqueeze(0)
            gb = _mT(a2) @ g2
            gb = sum_to(gb, sb if len(sb) > 1 else sb + (1,)).reshape(sb)
        return ga, gb

    def backward_data(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        if len(sa) < 2 or len(sb) < 2:
            return None  # vector cases: the Tensor formula handles the reshapes
        k = self.backend
        ga = gb = None
        if self.next[0] is not None:
            ga = k.sum_to(k.matmul(g, _swap(b._data)), sa)
        if self.next[1] is not None:
            gb = k.sum_to(k.matmul(_swap(a._data), g), sb)
        return ga, gb


class Linear(Op):
    """y = x @ w^T + b for 2-D x (N, in) and w (out, in), as one node (PyTorch's addmm);
    dx = dy @ w, dw = dy^T @ x, db = sum(dy, 0)."""

    def forward(self, x, w, b=None):
        self.saved = (x if w._requires_grad else None, w if x._requires_grad else None)
        y = self.backend.matmul(x._data, w._data.T)
        if b is not None:
            y += b._data
        return y

    def backward(self, g):
        x, w = self.saved
        nxt = self.next
        gx = g @ w if nxt[0] is not None else None
        gw = _mT(g) @ x if nxt[1] is not None else None
        gb = g.sum(0) if len(nxt) > 2 and nxt[2] is not None else None
        return gx, gw, gb

    def backward_data(self, g):
        x, w = self.saved
        nxt = self.next
        k = self.backend
        gx = k.matmul(g, w._data) if nxt[0] is not None else None
        gw = k.matmul(g.T, x._data) if nxt[1] is not None else None
        gb = k.sum(g, (0,), False) if len(nxt) > 2 and nxt[2] is not None else None
        return gx, gw, gb


def linear(x, w, b=None):
    """y = x @ w^T + b for 2-D x and w (one node); see nn.functional.linear for the rest."""
    return Linear.apply(x, w) if b is None else Linear.apply(x, w, b)


def _swap(a):
    """Swap the last two axes of an array (a view)."""
    return a.swapaxes(-1, -2)


def _mT(t):
    """Swap the last two dims (one Permute op, no argument parsing)."""
    n = t.ndim
    return Permute.apply(t, axes=tuple(range(n - 2)) + (n - 1, n - 2))


# autodiff.amp's hook (op, a, b) -> (a, b), set on first autocast use: casts the operands of
# matmul (and dot, mv, bmm, which name themselves) in an autocast region
AUTOCAST: list = [None]


def matmul(input, other, _op: str = "matmul"):
    a, b = input, other
    if not (isinstance(a, _util.Tensor) and isinstance(b, _util.Tensor)):
        a, b = _util.operands(a, b)  # a Python number or array: never two Tensors' promotion
    if AUTOCAST[0] is not None:
        a, b = AUTOCAST[0](_op, a, b)
    if a.dtype is not b.dtype:  # as PyTorch (after autocast's casts)
        raise DTypeError(f"{_op}: dtypes {a.dtype.name} and {b.dtype.name} differ; use .to()")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    k_a = a.shape[-1]
    k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not "
                         f"aligned: {k_a} != {k_b}")
    try:
        return Matmul.apply(a, b)
    except DeviceError:  # a ValueError too: let it name the devices
        raise
    except ValueError:
        raise ShapeError(f"matmul: batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                         f"cannot be broadcast") from None


def dot(input, tensor):
    if input.ndim != 1 or tensor.ndim != 1:
        raise ShapeError(f"dot: 1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                         f"tensors")
    return matmul(input, tensor, "dot")


def outer(input, vec2):
    if input.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"outer: 1D tensors expected, got shapes {tuple(input.shape)} and "
                         f"{tuple(vec2.shape)}")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


def mv(input, vec):
    return matmul(input, vec, "mv")


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise ShapeError(f"bmm: expected 3D tensors, got shapes {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)}")
    return matmul(input, mat2, "bmm")


class Einsum(Op):
    """y = einsum(spec, *xs); dx_i = einsum(dy and the other operands -> x_i's subscripts)."""

    def forward(self, *xs, inputs, output):
        self.saved = xs
        self.spec = (inputs, output)
        try:
            return self.backend.einsum(",".join(inputs) + "->" + output, *[x._data for x in xs])
        except ValueError as exc:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise ShapeError(f"einsum {','.join(inputs)}->{output}: operands of shapes {shapes} "
                             f"do not fit ({exc})") from None

    def backward(self, g):
        xs = self.saved
        inputs, output = self.spec
        grads = []
        for i, sub in enumerate(inputs):
            if self.next[i] is None:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(inputs) if j != i]
            present = set(output).union(*others) if others else set(output)
            kept = "".join(c for c in sub if c in present)
            operands_ = [g] + [x for j, x in enumerate(xs) if j != i]
            gi = einsum(",".join([output] + others) + "->" + kept, *operands_)  # size-1 dims
            gi = sum_to(gi, tuple(n for n, c in zip(xs[i].shape, sub) if c in present))  # of x_i
            if kept != sub:  # indices summed only inside x_i: broadcast back
                gi = expand(gi.reshape(_fill_shape(sub, present, xs[i].shape)), xs[i].shape)
            grads.append(gi)
        return tuple(grads)


def _fill_shape(sub, present, shape):
    return tuple(shape[k] if c in present else 1 for k, c in enumerate(sub))


def _expand_ellipsis(eq: str, xs):
    """Write each '...' out as letters (right-aligned across operands, as in PyTorch) and
    broadcast the operands' '...' dims to one shape; returns (equation, operands)."""
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(xs):
        return eq, xs
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    spans = [x.ndim - len(s.replace("...", "")) if "..." in s else 0 for s, x in zip(subs, xs)]
    width = max(spans)
    if width > len(free) or min(spans) < 0:
        raise ShapeError(f"einsum: '...' does not fit the operands' dims in {eq!r}")
    letters = "".join(free[:width])
    shape = [1] * width
    for s, x, k in zip(subs, xs, spans):
        start = s.find("...")
        for j, n in enumerate(x.shape[start:start + k] if k else ()):
            m = shape[width - k + j]
            if n != m and 1 not in (n, m):
                raise ShapeError(f"einsum: '...' dims of shapes {[tuple(x.shape) for x in xs]}"
                                 f" do not broadcast")
            shape[width - k + j] = builtins.max(n, m)
    new_xs = []
    for s, x, k in zip(subs, xs, spans):
        start = s.find("...")
        if start >= 0 and tuple(x.shape[start:start + k]) != tuple(shape[width - k:]):
            x = expand(x, x.shape[:start] + tuple(shape[width - k:]) + x.shape[start + k:])
        new_xs.append(x)
    subs = [s.replace("...", letters[width - k:]) for s, k in zip(subs, spans)]
    if arrow:
        out = out.replace("...", letters)
    else:
        singles = "".join(subs)
        out = letters + "".join(sorted(c for c in set(singles) if singles.count(c) == 1
                                       and c not in letters))
    return ",".join(subs) + "->" + out, tuple(new_xs)


def _parse_einsum(equation: str, ndims):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs = eq
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum: equation {equation!r} names {len(inputs)} operands but "
                         f"{len(ndims)} were given")
    for sub, nd in zip(inputs, ndims):
        if len(sub) != nd:
            raise ShapeError(f"einsum: subscript {sub!r} has {len(sub)} letters but the operand "
                             f"has {nd} dims")
        if len(set(sub)) != len(sub):
            raise NotImplementedError(f"einsum: repeated index within one operand ({sub!r}) "
                                      f"is not supported")
    return inputs, out


def _take_diagonals(equation: str, xs):
    """An index repeated within one operand (``'ii->i'``, ``'ii'``) reads that operand's
    diagonal: a view (``diagonal``) whose last dim takes the repeated letter."""
    lhs, arrow, out = equation.partition("->")
    if not arrow:
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    subs, xs = lhs.split(","), list(xs)
    for k, sub in enumerate(subs):
        while len(sub) == xs[k].ndim and len(set(sub)) != len(sub):
            c = next(c for c in sub if sub.count(c) > 1)
            i, j = sub.index(c), sub.index(c, sub.index(c) + 1)
            if xs[k].shape[j] != xs[k].shape[i]:
                raise ShapeError(f"einsum: subscript {c!r} is repeated for dims of sizes "
                                 f"{xs[k].shape[i]} and {xs[k].shape[j]}")
            xs[k] = xs[k].diagonal(0, i, j)
            sub = sub[:i] + sub[i + 1:j] + sub[j + 1:] + c
        subs[k] = sub
    return ",".join(subs) + "->" + out, tuple(xs)


def _sublist_equation(args):
    """PyTorch's sublist form einsum(a, [0, 1], b, [1, 2], [0, 2]) as (equation, operands)."""
    letters = lambda sub: "".join("..." if i is Ellipsis else chr(97 + i) if i < 26  # noqa: E731
                                  else chr(65 + i - 26) for i in sub)
    ops_, subs = args[0:len(args) - len(args) % 2:2], args[1::2]
    eq = ",".join(letters(s) for s in subs[:len(ops_)])
    return (eq + "->" + letters(args[-1]) if len(args) % 2 else eq), ops_


def einsum(equation, *operands_):
    if not isinstance(equation, str):  # the sublist form
        equation, operands_ = _sublist_equation((equation,) + operands_)
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    equation = equation.replace(" ", "")
    if "..." in equation:
        equation, operands_ = _expand_ellipsis(equation, operands_)
    if builtins.any(len(set(s)) != len(s) for s in equation.split("->")[0].split(",")):
        equation, operands_ = _take_diagonals(equation, operands_)
    inputs, output = _parse_einsum(equation, [x.ndim for x in operands_])
    dt = operands_[0].dtype
    for x in operands_[1:]:
        if x.dtype is not dt:
            raise DTypeError(f"einsum: operands must share a dtype, got "
                            f"{', '.join(x.dtype.name for x in operands_)}")
    return Einsum.apply(*operands_, inputs=inputs, output=output)
