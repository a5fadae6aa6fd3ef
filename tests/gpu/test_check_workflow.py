"""gpu.check workflow, run with NumPy arrays in place of CuPy."""

import json

import numpy as np

from gpu.check import __main__ as gpu_check
from gpu.check import workflow as gcw


def test_gpu_check_workflow_runs_on_cpu(capsys):
    status = gpu_check.main(["workflow", "--device", "cpu", "--trials", "4096",
                             "--bench-trials", "256"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "identical successes=True" in out and "PASS" in out


def test_gpu_check_workflow_json_is_plain(capsys):
    status = gpu_check.main(["workflow", "--device", "cpu", "--trials", "2048",
                             "--bench-trials", "128", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["ok"] is True
    (rec,) = out["records"]
    assert rec["identical"] is True and rec["chain_identical"] is True and abs(rec["z"]) <= 4


def test_check_returns_python_values_only():
    ok, records = gcw.check(np, 512, 64, out=lambda s: None)
    assert type(ok) is bool
    for value in records[0].values():
        assert type(value) in (bool, float), (value, type(value))
