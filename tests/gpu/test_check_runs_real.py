"""gpu.check runs, real-model path: transformers with and without guidance, on the CPU here."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


def _helpers():
    path = Path(__file__).resolve().parents[1] / "validation" / "test_hf_adapter.py"
    spec = importlib.util.spec_from_file_location("_hf_adapter_helpers_gpu", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_runs_real_model_path_on_cpu_says_no_gpu(tmp_path, monkeypatch, capsys):
    from gpu.check import __main__ as gpu_check
    h = _helpers()
    tok = h.make_tokenizer()
    h.make_model(len(tok)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    assert gpu_check.main(["runs", "--device", "cpu", "--trials", "16", "--real-model",
                           f"hf:{tmp_path}"]) == 0
    out = capsys.readouterr().out
    assert "no GPU was used" in out and "PASS" in out
    assert "unguided 8 traces" in out and "guided   8 traces" in out


def test_position_predictor_from_the_recorded_run():
    import numpy as np

    from gpu.check.runs import RECORDED_RUN, position_from_run
    from validation import records

    table = records.read_run(RECORDED_RUN).table
    fit = position_from_run(table)
    # the first bucket (t near 0) predicts about the run's median thinking length + 1
    med = np.exp(fit.alpha[0] / fit.rate[0]) - 1
    closed = table.loc[table["closed"], "thinking_length"]
    assert 0.6 * closed.median() < med < 1.6 * closed.median()
    assert np.all(np.diff(fit.alpha / fit.rate) < 0.05)   # later positions: shorter remainders


def test_real_model_options_apply_to_runs_only(cli_exit, tmp_path):
    from gpu.check import __main__ as gpu_check

    status, err = cli_exit(gpu_check.main, ["phase", "--device", "cpu", "--real-model", "smollm2"])
    assert status == 2 and "runs check only" in err and err.count("\n") == 1
    status, err = cli_exit(gpu_check.main, ["runs", "--device", "cpu", "--predictor", "p.npz"])
    assert status == 2 and "--predictor needs --real-model" in err
    status, err = cli_exit(gpu_check.main, ["runs", "--device", "cpu", "--real-model", "smollm2",
                                            "--predictor", str(tmp_path / "missing.npz")])
    assert status == 2 and "--predictor" in err and err.count("\n") == 1
