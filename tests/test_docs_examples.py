"""Every ```python block in README.md and docs/*.md runs as written.

Each block runs in its own interpreter (a fresh namespace and a fresh ``import autodiff``)
with ``AUTODIFF_DEVICE`` unset, so the default device is used, warnings turned into errors
(except the documented notice that the C++ extension is missing), and the current directory
set to a ``tmp_path``, so a block that saves files writes nothing into the repository.

Conventions for doc writers:

- A block that must not run here (it needs a GPU, or takes more than a few seconds) is
  marked with the HTML comment ``<!-- no-test -->`` on the line just before its fence::

      <!-- no-test -->
      ```python
      x = ad.randn(4096, 4096, device="cuda")
      ```

- A block that imports ``torch`` is skipped when PyTorch is not installed.
- Only fences that open with exactly ```` ```python ```` are run; use ```` ```bash ```` or a
  plain fence for commands and output.
- README's quick-start training loop ends in ``print(...)  # <what it prints>``; the comment is
  checked against what the block prints on each CPU device (numpy and cpp), every number to
  the precision the comment gives, so the README cannot drift from the code.

docs/benchmarks.md is excluded: its blocks are measurements, not examples. Shell commands
are not run (they install packages or take minutes), but every ``python -m MODULE`` names an
importable module and every ``python PATH.py`` / ``bash PATH.sh`` names a file that exists.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import autodiff as ad

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").glob("*.md") if p.name != "benchmarks.md"
)
NO_TEST = "<!-- no-test -->"
TIMEOUT_S = 60

# Run the block as __main__ with warnings as errors, as pytest's configuration does.
RUNNER = """\
import runpy, sys, warnings
warnings.simplefilter("error")
warnings.filterwarnings("ignore", r"autodiff. C\\+\\+ extension", UserWarning)
runpy.run_path(sys.argv[1], run_name="__main__")
"""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    skip: bool

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                raise AssertionError(f"{path.name}:{start + 1}: ```python block never closed")
            prev = next((s.strip() for s in reversed(lines[:start]) if s.strip()), "")
            code = "\n".join(lines[start + 1 : j]) + "\n"
            found.append(Block(path, start + 1, code, prev == NO_TEST))
            i = j + 1
        else:
            i += 1
    return found


BLOCKS = [b for p in DOCS for b in _blocks(p)]


def test_docs_have_examples():
    assert any(not b.skip for b in BLOCKS), "no runnable ```python block found in the docs"


def _run(block: Block, tmp_path: Path, device: str | None = None) -> subprocess.CompletedProcess:
    """Run ``block`` as a script in ``tmp_path`` (on the default device unless ``device``)."""
    script = tmp_path / "doc_example.py"
    script.write_text(block.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "AUTODIFF_DEVICE"}
    if device is not None:
        env["AUTODIFF_DEVICE"] = device
    # the repository's autodiff, as the rest of the suite imports it
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return proc


@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skip], ids=lambda b: b.id)
def test_docs_example_runs(block: Block, tmp_path: Path):
    if re.search(r"^\s*(import torch|from torch)\b", block.code, re.MULTILINE):
        pytest.importorskip("torch")
    proc = _run(block, tmp_path)
    assert proc.returncode == 0, (
        f"{block.id}: the example failed (exit {proc.returncode})\n"
        f"--- code\n{block.code}--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
    )


# README's quick start: the block with the training loop; its last print's comment is its output
QUICKSTART = next(b for b in BLOCKS if b.path.name == "README.md" and "opt.step()" in b.code)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _stated_output(code: str) -> str:
    """The comment on the block's last ``print(...)`` line: the output the README promises."""
    lines = [ln for ln in code.splitlines() if ln.lstrip().startswith("print(") and "#" in ln]
    assert lines, "README's quick start has no `print(...)  # output` line"
    return lines[-1].rsplit("#", 1)[1].strip()


def _assert_same_output(printed: str, stated: str) -> None:
    """``printed`` reads as ``stated``: the same words, and each number equal to the stated
    one to the stated precision (half a unit in its last decimal place)."""
    assert NUMBER.sub("#", printed) == NUMBER.sub("#", stated), (printed, stated)
    for got, want in zip(NUMBER.findall(printed), NUMBER.findall(stated)):
        decimals = len(want.split(".")[1]) if "." in want and "e" not in want.lower() else 0
        tol = 0.5 * 10.0**-decimals + 1e-12
        assert abs(float(got) - float(want)) <= tol, (
            f"README's quick start prints {printed!r}; its comment says {stated!r}")


@pytest.mark.parametrize("device", ["numpy", "cpp"])
def test_readme_quickstart_prints_what_its_comment_says(device: str, tmp_path: Path):
    if device not in ad.available_devices():
        pytest.skip(f"{device}: the C++ extension autodiff._C is not built")
    proc = _run(QUICKSTART, tmp_path, device)
    assert proc.returncode == 0, f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
    printed = proc.stdout.strip().splitlines()[-1]
    _assert_same_output(printed, _stated_output(QUICKSTART.code))


def test_stated_output_comparison():
    _assert_same_output("loss 0.054, accuracy 0.99", "loss 0.054, accuracy 0.99")
    for wrong in ("loss 0.091, accuracy 1.00", "loss 0.055, accuracy 0.99", "loss 0.054"):
        with pytest.raises(AssertionError):
            _assert_same_output(wrong, "loss 0.054, accuracy 0.99")


def _commands() -> list[tuple[str, str]]:
    """(where, command) for each `python -m ...`, `python X.py`, `bash X.sh` in the docs."""
    pat = re.compile(r"\b(python -m [\w.]+|python [\w/.-]+\.py|bash [\w/.-]+\.sh)")
    out = []
    for path in DOCS:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            out += [(f"{path.relative_to(ROOT)}:{n}", m) for m in pat.findall(line)]
    return out


@pytest.mark.parametrize("where,command", _commands(), ids=lambda x: str(x))
def test_docs_commands_exist(where: str, command: str):
    _, *rest = command.split()
    if rest[0] == "-m":
        module = rest[1]
        if module == "pytest":
            return
        if module.split(".")[0] == "examples":  # a folder of the repository, not installed
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), f"{where}: {command}"
            return
        assert importlib.util.find_spec(module) is not None, f"{where}: no module {module}"
    elif rest[0] != "train.py":  # README's "AUTODIFF_DEVICE=numpy python train.py": yours
        assert (ROOT / rest[0]).is_file(), f"{where}: {command}: no file {rest[0]}"
