"""gpu.check knapsack, run with NumPy arrays in place of CuPy."""

from gpu.check import __main__ as gpu_check


def test_gpu_check_knapsack_runs_on_cpu(capsys):
    status = gpu_check.main(["knapsack", "--device", "cpu", "--trials", "20000",
                             "--bench-trials", "5000"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "identical successes=True" in out and "PASS" in out
