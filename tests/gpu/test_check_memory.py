"""gpu.check memory, run with NumPy arrays in place of CuPy."""

import json

import numpy as np

from gpu.check import __main__ as gpu_check
from gpu.check import memory as gcm


def test_gpu_check_memory_runs_on_cpu(capsys):
    status = gpu_check.main(["memory", "--device", "cpu", "--trials", "20000",
                             "--bench-trials", "5000"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "identical sums=True" in out and "PASS" in out


def test_gpu_check_memory_json_is_plain(capsys):
    status = gpu_check.main(["memory", "--device", "cpu", "--trials", "20000",
                             "--bench-trials", "5000", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["ok"] is True
    (rec,) = out["records"]
    assert rec["identical"] is True and rec["max_abs_z"] <= 4


def test_check_returns_python_values_only():
    ok, records = gcm.check(np, 4096, 1024, out=lambda s: None)
    assert type(ok) is bool
    for value in records[0].values():
        assert type(value) in (bool, float), (value, type(value))
