"""gpu.check runs and validation: the in-project model with JAX on the CPU."""

from gpu.check import __main__ as gpu_check


def test_gpu_check_runs_on_cpu(capsys):
    status = gpu_check.main(["runs", "--device", "cpu", "--trials", "64"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "generated tokens/s" in out and "accuracy" in out and "PASS" in out


def test_gpu_check_runs_without_a_jax_gpu_is_one_line(cli_exit):
    import jax

    try:
        has_gpu = bool(jax.devices("gpu"))
    except RuntimeError:
        has_gpu = False
    if has_gpu:
        return
    status, err = cli_exit(gpu_check.main, ["runs"])
    assert status == 2 and "JAX sees no GPU" in err and err.count("\n") == 1


def test_gpu_check_validation_runs_on_cpu(capsys):
    import json
    status = gpu_check.main(["validation", "--device", "cpu", "--trials", "320", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["ok"]
    assert {r["check"] for r in out["records"]} == {"phase", "knapsack", "bbam", "gamma"}
