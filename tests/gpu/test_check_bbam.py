"""gpu.check bbam, run with NumPy arrays in place of CuPy."""

from gpu.check import __main__ as gpu_check


def test_gpu_check_bbam_runs_on_cpu(capsys):
    status = gpu_check.main(["bbam", "--device", "cpu", "--trials", "4000",
                             "--bench-trials", "4000"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count(" ok") == 4 and "PASS" in out
