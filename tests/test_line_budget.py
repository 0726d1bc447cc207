"""The line budgets of tools/line_budget.py hold (no file over 600 lines; a small core)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

TOOL = pathlib.Path(__file__).resolve().parents[1] / "tools" / "line_budget.py"


def test_line_budgets_hold():
    r = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
