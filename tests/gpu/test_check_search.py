"""gpu.check search, run with NumPy arrays in place of CuPy."""

import json

import numpy as np

from gpu.check import __main__ as gpu_check
from gpu.check import search as gcs


def test_gpu_check_search_runs_on_cpu(capsys):
    status = gpu_check.main(["search", "--device", "cpu", "--trials", "4096",
                             "--bench-trials", "2048"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("identical runs=True") == 2 and "PASS" in out


def test_gpu_check_search_json_is_plain(capsys):
    status = gpu_check.main(["search", "--device", "cpu", "--trials", "4096",
                             "--bench-trials", "1024", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["ok"] is True
    assert [r["rule"] for r in out["records"]] == ["bavt", "majority"]
    assert all(r["identical"] is True for r in out["records"])
    assert abs(out["records"][1]["z"]) <= 4


def test_check_returns_python_values_only():
    ok, records = gcs.check(np, 512, 256, out=lambda s: None)
    assert type(ok) is bool
    for rec in records:
        for value in rec.values():
            assert type(value) in (bool, float, str), (value, type(value))
