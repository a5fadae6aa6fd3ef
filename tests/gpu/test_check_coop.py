"""gpu.check coop, run with NumPy arrays in place of CuPy."""

import json

from gpu.check import __main__ as gpu_check


def test_gpu_check_coop_runs_on_cpu(capsys):
    status = gpu_check.main(["coop", "--device", "cpu", "--trials", "20000",
                             "--bench-trials", "5000"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count(" ok") == 2 and "moves/s" in out and "PASS" in out


def test_gpu_check_coop_json_records(capsys):
    status = gpu_check.main(["coop", "--device", "cpu", "--trials", "2000",
                             "--bench-trials", "500", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert status == 0 and d["ok"] and d["model"] == "coop"
    cases = [r for r in d["records"] if r["case"] != "throughput"]
    assert len(cases) == 2 and all(r["ok"] and r["max_difference"] <= 1e-9 for r in cases)
