"""`python -m autodiff.bench` (API.md "Command line"): the JSON record fields, N as an N x N
size, and usage errors (not tracebacks) for bad sizes, devices, ops and output folders,
raised before any benchmark runs."""

from __future__ import annotations

import json

import pytest

import autodiff as ad
from autodiff.bench.__main__ import main


def test_json_records_hold_the_contract_fields(tmp_path, capsys):
    out = tmp_path / "b.json"
    records = main(["--ops", "softmax,matmul", "--sizes", "16,8x24", "--backends", "numpy",
                    "--json", str(out)])
    assert len(records) == 4
    saved = json.loads(out.read_text())
    for rec in saved:
        for key in ("max_abs_err", "max_rel_err", "fwd_ms", "fwd_bwd_ms"):
            assert key in rec
    assert "softmax" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "64xq"], "ROWSxCOLS"),
    (["--sizes", "0x4"], "ROWSxCOLS"),
    (["--backends", "bogus"], "unknown device"),
    (["--ops", ","], "no op"),
    (["--ops", "nope"], "unknown op"),
    (["--json", "/nonexistent-folder/b.json"], "does not exist"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.skipif(ad.cuda.is_available(), reason="checks the error without a GPU")
def test_an_unavailable_device_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        main(["--backends", "cuda", "--ops", "softmax", "--sizes", "8"])
    assert "not available" in capsys.readouterr().err
