"""gpu.check gamma, run with NumPy arrays in place of CuPy."""

from gpu.check import __main__ as gpu_check


def test_gpu_check_gamma_runs_on_cpu(capsys):
    status = gpu_check.main(["gamma", "--device", "cpu", "--trials", "4096",
                             "--bench-trials", "2048"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "identical runs=True" in out and "PASS" in out
