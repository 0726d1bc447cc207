"""PyTorch's parameter names work as keywords: every name PyTorch's signature gives before
``*`` (``ad.exp(input=t)``, ``ad.gather(input=t, dim=1, index=i)``, ``t.add(other=u)``) is a
parameter of ours at the same position, in the ``autodiff`` namespace, ``nn.functional``,
``linalg``, ``special`` and on Tensor.

PyTorch's builtins have no inspect signature: their names come from the first line of the
docstring (``exp(input, *, out=None) -> Tensor``), checked against the ATen schema, which is
what PyTorch's argument parser takes (the docs are sometimes stale: ``Tensor.div(value)``
takes ``other=``; ``torch.linalg.det``'s ``A`` but ``torch.linalg.cholesky``'s ``input``).
Where the docstring gives no signature (``torch.relu``, ``torch.masked_fill``, the in-place
``torch.abs_``, ``Tensor.expand(*sizes)``), the names are the ATen schema's own.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

torch = pytest.importorskip("torch")

# What stays unsupported, and why (namespace.name: PyTorch's name).
ALLOWED = {
    # PyTorch documents a name but takes no keyword arguments at all
    "ad.from_numpy": "ndarray",
    "ad.set_num_threads": "int",
    "ad.set_num_interop_threads": "int",
    # a Python keyword: PyTorch takes it only as **{"from": ...}; ours is positional
    "Tensor.random_": "from",
    "Tensor.uniform_": "from",
    # one function serves torch.split(tensor, split_size_or_sections) and the method, whose
    # name PyTorch spells split_size
    "Tensor.split": "split_size",
    # PyTorch takes both x= (its documented name, ours) and input=
    "linalg.vector_norm": "input",
    # torch.rrelu(input, lower, upper, training, generator): nn.functional.rrelu's inplace
    # holds that position, and its draws come from the default generator (no generator=)
    "ad.rrelu": "generator",
}


def _split_top(s: str) -> list:
    out, depth, cur = [], 0, ""
    for ch in s:
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [p.strip() for p in out + [cur] if p.strip()]


def _doc_names(obj, name: str):
    """Names before ``*`` from the docstring's first line, or None when it does not parse."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    line = doc.splitlines()[0].strip() if doc else ""
    m = re.match(r"(?:torch\.|Tensor\.)?(?:linalg\.|special\.|nn\.functional\.)?"
                 + re.escape(name) + r"\(", line)
    if not m:
        return None
    depth, body = 1, ""
    for ch in line[m.end():]:
        depth += (ch in "([") - (ch in ")]")
        if depth == 0:
            break
        body += ch
    names = []
    for p in _split_top(body):
        if p.startswith("*") or p == "/":
            break
        word = re.match(r"[A-Za-z_]\w*", p)
        if not word:
            return None
        names.append(word.group(0))
    return names


def _schema_positions(aten_name: str, method: bool):
    """For each position, the names the ATen overloads give it (self spelled input)."""
    try:
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + aten_name)
    except RuntimeError:
        return None
    if not schemas:
        return None
    pos: list = []  # stays empty for Tensor.where, whose overloads take condition first
    for s in schemas:
        if "out" in s.overload_name.split("_") or s.overload_name.endswith("out"):
            continue
        args = [a for a in s.arguments if not a.kwarg_only]
        if method:
            if not args or args[0].name != "self":
                continue
            args = args[1:]
        for i, a in enumerate(args):
            pos += [set() for _ in range(i + 1 - len(pos))]
            pos[i].add("input" if a.name == "self" else a.name)
    return pos


# The overload whose names a docstring-less builtin is checked against: the Tensor one where
# several take a tensor or a number (torch.fill.Tensor / .Scalar), else the plain one.
_PRIMARY = ("Tensor", "", "int", "Scalar", "dim")


def _schema_names(aten_name: str, method: bool):
    """The names of the primary ATen overload's positional arguments (self spelled input),
    or None when no overload fits the call (TorchScript's scalar ``aten::sin.float(a)``)."""
    try:
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + aten_name)
    except RuntimeError:
        return None
    schemas = [s for s in schemas
               if not ("out" in s.overload_name.split("_") or s.overload_name.endswith("out"))]
    schemas = [s for s in schemas if any(a.name == "self" for a in s.arguments)] or schemas
    if method:  # Tensor.where(condition, other) is where(condition, self, other): none fits
        schemas = [s for s in schemas if s.arguments and s.arguments[0].name == "self"
                   and not s.arguments[0].kwarg_only]
    if not schemas:
        return None
    schemas.sort(key=lambda s: _PRIMARY.index(s.overload_name)
                 if s.overload_name in _PRIMARY else len(_PRIMARY))
    names = [a.name for a in schemas[0].arguments if not a.kwarg_only][1 if method else 0:]
    return [None if n == "memory_format" else "input" if n == "self" else n for n in names]


def torch_names(obj, name: str, method: bool, prefix: str):
    """PyTorch's positional-or-keyword parameter names (None where a position has no name
    one can rely on), or None when they cannot be read."""
    try:
        sig = inspect.signature(obj)
    except (ValueError, TypeError):
        names = _doc_names(obj, name)
        if not names or not any(names):  # no signature in the docstring, or only *sizes
            return _schema_names(prefix + name, method)
        if method and names and names[0] in ("self", "input"):
            names = names[1:]
        names = [None if n == "memory_format" else n for n in names]  # keyword-only in torch
        pos = _schema_positions(prefix + name, method)
        if pos is not None:
            alts = [pos[i] if i < len(pos) else set() for i in range(len(names))]
            names = [n if n in a else (next(iter(a)) if len(a) == 1 else None)
                     for n, a in zip(names, alts)]
    else:
        names = []
        for p in sig.parameters.values():
            if p.kind is not p.POSITIONAL_OR_KEYWORD:
                break
            names.append(p.name)
        if method and names and names[0] == "self":
            names = names[1:]
    if "out" in names:  # out= is out of scope, and so is what follows it
        names = names[: names.index("out")]
    return names


def missing_names(ours, names, method: bool, positions=None) -> list:
    """PyTorch's names that ours does not take as a keyword at PyTorch's position (or at
    the position another overload gives it: ``positions``, name -> indices)."""
    sig = inspect.signature(ours)
    params = list(sig.parameters.values())
    positional = params[1:] if method else params
    forwards = any(p.kind is p.VAR_KEYWORD for p in params)  # f(input, *args, **kwargs)
    bad = []
    for i, n in enumerate(names):
        p = sig.parameters.get(n) if n else None
        if n is None:
            continue
        if p is None and forwards:  # passed on, unless a parameter of another name is here
            here = positional[i] if i < len(positional) else None
            if here is not None and here.kind is here.POSITIONAL_OR_KEYWORD:
                bad.append(n)
        elif p is None or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            bad.append(n)
        elif p.kind is p.POSITIONAL_OR_KEYWORD and positional.index(p) != i and (
                positional.index(p) not in (positions or {}).get(n, ())):
            bad.append(f"{n} (at position {positional.index(p)}, PyTorch's {i})")
    return bad


def _positions(aten_name: str, method: bool) -> dict:
    """name -> the positions the ATen overloads give it (torch.nuclear_norm(input, keepdim)
    and (input, dim, keepdim); randint(high, size) and (low, high, size))."""
    out: dict = {}
    for i, names in enumerate(_schema_positions(aten_name, method) or []):
        for n in names:
            out.setdefault(n, set()).add(i)
    return out


NAMESPACES = [
    ("ad", torch, ad, False, ""),
    ("F", torch.nn.functional, F, False, ""),
    ("linalg", torch.linalg, ad.linalg, False, "linalg_"),
    ("special", torch.special, ad.special, False, "special_"),
    ("Tensor", torch.Tensor, ad.Tensor, True, ""),
]


def _cases(label, tmod, amod, method, prefix):
    for name in sorted(dir(tmod)):
        t, ours = getattr(tmod, name, None), getattr(amod, name, None)
        if name.startswith("_") or ours is None or not callable(ours) or not callable(t):
            continue
        if inspect.isclass(t) or inspect.ismodule(t) or inspect.isclass(ours):
            continue
        if (ours.__doc__ or "").startswith("``nn.functional."):  # torch.celu: F.celu's own
            ours = getattr(F, name)
        names = torch_names(t, name, method, prefix)
        if names and any(names):
            yield f"{label}.{name}", ours, names, _positions(prefix + name, method)


@pytest.mark.parametrize("space", NAMESPACES, ids=[s[0] for s in NAMESPACES])
def test_pytorch_parameter_names_are_accepted(space):
    method, checked, failures = space[3], 0, []
    for qualname, ours, names, positions in _cases(*space):
        try:
            bad = missing_names(ours, names, method, positions)
        except (ValueError, TypeError):  # no signature of ours to read
            continue
        checked += 1
        allowed = ALLOWED.get(qualname)
        bad = [b for b in bad if b != allowed]
        if bad:
            failures.append(f"{qualname}: {bad} (PyTorch: {names})")
    assert checked > (200 if space[0] in ("ad", "Tensor") else 10)
    assert not failures, "\n".join(failures)


def test_allowlist_is_current():
    """Each allowlisted name is still missing (drop it from ALLOWED once it works)."""
    spaces = {s[0]: s for s in NAMESPACES}
    for qualname, name in ALLOWED.items():
        label, fn = qualname.split(".", 1)
        space = spaces[label]
        case = [c for c in _cases(*space) if c[0] == qualname]
        assert case, qualname
        _, ours, names, positions = case[0]
        assert name in names, qualname
        assert name in missing_names(ours, names, space[3], positions), qualname


# ----------------------------------------------------------------- the keywords at work
def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_keywords_give_the_positional_results():
    rng = np.random.default_rng(0)
    t = ad.tensor(rng.standard_normal((3, 4)))
    i = ad.tensor(rng.integers(0, 4, (3, 2)))
    _same(ad.gather(input=t, dim=1, index=i), ad.gather(t, 1, i))
    _same(ad.exp(input=t), ad.exp(t))
    _same(ad.clamp(input=t, min=0), ad.clamp(t, 0))
    _same(ad.cumsum(input=t, dim=1), ad.cumsum(t, 1))
    _same(ad.transpose(input=t, dim0=0, dim1=1), t.T)
    _same(ad.swapaxes(input=t, axis0=0, axis1=1), t.T)
    _same(ad.softmax(input=t, dim=1), ad.softmax(t, 1))
    _same(ad.where(condition=t > 0, input=t, other=0.0), ad.where(t > 0, t, 0.0))
    _same(ad.topk(input=t, k=2, dim=1).values, ad.topk(t, 2, 1).values)
    _same(ad.sort(input=t, dim=0, descending=True).values, ad.sort(t, 0, True).values)
    _same(ad.unsqueeze(input=t, dim=0), t[None])
    _same(ad.narrow(input=t, dim=1, start=1, length=2), t[:, 1:3])
    _same(ad.index_select(input=t, dim=0, index=ad.tensor([2, 0])), t[[2, 0]])
    _same(ad.scatter(input=t, dim=1, index=i, src=t[:, :2]), ad.scatter(t, 1, i, t[:, :2]))
    _same(ad.flatten(input=t, start_dim=0), t.reshape(-1))
    _same(ad.tril(input=t, diagonal=1), ad.tril(t, 1))
    _same(ad.take_along_dim(input=t, indices=i, dim=1), ad.gather(t, 1, i))


def test_matrix_products_take_torchs_names():
    rng = np.random.default_rng(1)
    a, b = ad.tensor(rng.standard_normal((2, 3, 4))), ad.tensor(rng.standard_normal((2, 4, 5)))
    v = ad.tensor(rng.standard_normal(4))
    _same(ad.bmm(input=a, mat2=b), a @ b)
    _same(ad.mm(input=a[0], mat2=b[0]), a[0] @ b[0])
    _same(ad.mv(input=a[0], vec=v), a[0] @ v)
    _same(ad.dot(input=v, tensor=v), v @ v)
    _same(ad.outer(input=v, vec2=v), ad.outer(v, v))
    _same(a[0].mm(mat2=b[0]), a[0] @ b[0])
    m = ad.tensor(rng.standard_normal((3, 3))) + 3 * ad.eye(3, dtype=ad.float64)
    _same(ad.matrix_power(input=m, n=2), m @ m)
    _same(ad.det(input=m), ad.linalg.det(A=m))
    _same(ad.linalg.solve(A=m, B=v[:3]), ad.linalg.solve(m, v[:3]))
    _same(ad.linalg.cholesky(input=m @ m.T), ad.linalg.cholesky(m @ m.T))


def test_shape_functions_take_the_sequence_by_keyword():
    t = ad.arange(6.0)
    assert ad.reshape(input=t, shape=(2, 3)).shape == (2, 3)
    assert t.reshape(shape=(3, 2)).shape == (3, 2)
    assert t.reshape(2, 3).shape == (2, 3) and t.reshape((3, 2)).shape == (3, 2)
    m = t.reshape(2, 3)
    assert ad.permute(input=m, dims=(1, 0)).shape == (3, 2)
    _same(ad.flip(input=t, dims=(0,)), t.flip(0))
    _same(m.flip(dims=[0, 1]), m.flip(0, 1))
    assert ad.tile(input=t, dims=(2,)).shape == (12,)
    assert t.new_zeros(size=(2, 2)).shape == (2, 2) and t.new_ones(3).shape == (3,)
    assert t.new_empty().shape == ()
    assert ad.broadcast_to(input=t, size=(2, 6)).shape == (2, 6)


def test_method_keywords():
    t = ad.tensor([[1.0, -2.0], [3.0, 4.0]])
    _same(t.add(other=1.0), t + 1)
    _same(t.pow(exponent=2), t * t)
    _same(t.clamp(min=0.0, max=2.0), ad.clamp(t, 0.0, 2.0))
    _same(t.norm(p=2, dim=None, keepdim=False, dtype=ad.float64), t.double().norm())
    u = t.clone()
    u.pow_(exponent=2)
    _same(u, t * t)
    u.transpose_(dim0=0, dim1=1)
    _same(u, (t * t).T)
    u.unsqueeze_(dim=0)
    assert u.shape == (1, 2, 2)


def test_api_md_names_still_work(tmp_path):
    """API.md's own names: ad.save(obj, path), ad.set_default_device(name)."""
    ad.save({"w": ad.ones(2)}, path=tmp_path / "a.pt")
    ad.save({"w": ad.ones(2)}, f=tmp_path / "b.pt")
    _same(ad.load(tmp_path / "a.pt")["w"], ad.load(tmp_path / "b.pt")["w"])
    before = ad.get_default_device()
    try:
        ad.set_default_device(name="numpy")
        assert str(ad.get_default_device()) == "numpy"
        ad.set_default_device(device=before)
        assert ad.get_default_device() == before
    finally:
        ad.set_default_device(before)


def test_functional_and_special_keywords():
    x = ad.tensor([[0.5, -1.0, 2.0]])
    _same(F.softmax(input=x, dim=1), F.softmax(x, 1))
    _same(ad.special.expit(input=x), ad.sigmoid(x))
    _same(ad.special.chebyshev_polynomial_t(x=x, n=2), 2 * x * x - 1)
    _same(ad.special.airy_ai(x=x), ad.special.airy_ai(x))
    w = ad.ones(2, 3, 3)
    _same(F.bilinear(input1=x, input2=x, weight=w), F.bilinear(x, x, w))


def test_docstring_less_builtins_take_the_schema_names():
    """torch.relu, masked_fill, the in-place abs_, Tensor.expand(*sizes) and the like have no
    signature in their docstrings: their keywords are the ATen schema's."""
    t = ad.tensor([[0.5, -1.0, 2.0], [3.0, -4.0, 0.25]])
    m, i = t > 0, ad.tensor([0, 2])
    _same(ad.relu(input=t), ad.relu(t))
    _same(ad.masked_fill(input=t, mask=m, value=0.0), ad.masked_fill(t, m, 0.0))
    _same(ad.log_softmax(input=t, dim=1), ad.log_softmax(t, 1))
    _same(ad.clamp_min(input=t, min=0.0), ad.clamp(t, min=0.0))
    _same(ad.rsub(input=t, other=1.0, alpha=2), 1.0 - 2 * t)
    _same(ad.index_fill(input=t, dim=1, index=i, value=0.0), ad.index_fill(t, 1, i, 0.0))
    _same(ad.full_like(input=t, fill_value=2.0), ad.full_like(t, 2.0))
    assert [p.shape for p in ad.split_with_sizes(input=t, split_sizes=[1, 2], dim=1)] == [
        (2, 1), (2, 2)]
    u = t.clone()
    ad.abs_(input=u)
    _same(u, t.abs())
    ad.clamp_(input=u, min=1.0, max=2.0)
    _same(u, t.abs().clamp(1.0, 2.0))
    _same(ad.expand_copy(input=t[:1], size=(2, 3)), t[:1].expand(2, 3))
    _same(ad.split_copy(input=t, split_size=2, dim=1)[0], t[:, :2])
    _same(ad.dropout(input=t, p=0.5, train=False), t)
    assert ad.rand(size=(2, 3)).shape == (2, 3) and ad.randn(size=(4,)).shape == (4,)
    assert ad.randint(high=5, size=(3,)).shape == (3,) and ad.randint(5, (2,)).shape == (2,)
    assert ad.result_type(tensor=t, other=1) == t.dtype
    assert t[:1].expand(size=(2, 3)).shape == (2, 3)
    assert t.repeat(repeats=(2, 1)).shape == (4, 3)
    assert t.view(size=(3, 2)).shape == (3, 2) and t.view(ad.int32).dtype == ad.int32
    assert t.view(dtype=ad.int32).dtype == ad.int32
    assert t.sum_to_size(size=(1, 3)).shape == (1, 3)
    assert t.clone().resize_(size=(3,)).shape == (3,)
