"""gpu.check knapsack, run with NumPy arrays in place of CuPy."""

import json

import numpy as np

from gpu.check import __main__ as gpu_check
from gpu.check import knapsack as gck


def test_gpu_check_knapsack_runs_on_cpu(capsys):
    status = gpu_check.main(["knapsack", "--device", "cpu", "--trials", "20000",
                             "--bench-trials", "5000"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "identical successes=True" in out and "PASS" in out
    assert "DUET: identical draws=True" in out


def test_gpu_check_knapsack_json_is_plain(capsys):
    status = gpu_check.main(["knapsack", "--device", "cpu", "--trials", "20000",
                             "--bench-trials", "5000", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["ok"] is True
    rec, duet = out["records"]
    assert rec["identical"] is True and abs(rec["z"]) <= 4
    assert duet["part"] == "duet" and duet["identical"] is True and duet["z"] <= 4


def test_check_returns_python_values_only():
    ok, records = gck.check(np, 4096, 1024, out=lambda s: None)
    assert type(ok) is bool
    for rec in records:
        for value in rec.values():
            assert type(value) in (bool, float, int, str), (value, type(value))
