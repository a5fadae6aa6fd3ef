"""The GPU sweep job, run with NumPy arrays: batched words equal the Numba kernel's."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from gpu import sweep as gpu_sweep
from sim import phase as sim_phase
from sim import sweep
from theory.phase import PhaseParams


@pytest.mark.parametrize("shape", [dict(b=3, depth=4), dict(b=5, depth=2, root_channel=True),
                                   dict(b=3, depth=0, root_channel=True)])
def test_batched_words_equal_numba_point_by_point(shape):
    points = [PhaseParams(rho=0.0, gamma=1.0, **shape),            # no herding, no channel
              PhaseParams(rho=0.3, gamma=0.8, p0=0.55, **shape),
              PhaseParams(rho=0.0, gamma=0.7, correlation="item", rho_node=0.2, **shape)]
    seeds = [5, 2**40 + 3, 77]
    trials = 200  # not a multiple of 64
    got = gpu_sweep.batch_tree_words(points, trials, seeds, xp=np, max_elements=3 * 81)
    for p, s, w in zip(points, seeds, got):
        assert np.array_equal(w, sim_phase.tree_words_numba(p, trials, s)), (p, s)


def test_gpu_sweep_rows_equal_the_cpu_sweep(tmp_path):
    values = dict(rho="0,0.4", gamma="0.7,1", b="3,5", depth=3)
    cpu = sweep.make_spec("phase", values, trials=300, seed=9, backend="numba")
    dev = sweep.make_spec("phase", values, trials=300, seed=9, backend="cupy")
    sweep.run_sweep(cpu, tmp_path / "cpu")
    summary = gpu_sweep.run_phase_sweep(dev, tmp_path / "dev", xp=np, max_elements=500)
    assert (summary.done, summary.failed) == (8, 0)
    a = sweep.collect(tmp_path / "cpu").drop(columns="backend")
    b = sweep.collect(tmp_path / "dev")
    assert set(b["backend"]) == {"array-numpy"}
    pd.testing.assert_frame_equal(a, b.drop(columns="backend"))
    again = gpu_sweep.run_phase_sweep(dev, tmp_path / "dev", xp=np)
    assert (again.skipped, again.done) == (8, 0)


def test_cli_on_cpu_and_without_cupy(cli_exit, tmp_path, capsys):
    argv = ["--rho", "0,0.5", "--gamma", "0.8,1", "--depth", "2", "--trials", "128",
            "--out", str(tmp_path / "x")]
    assert gpu_sweep.main(argv + ["--device", "cpu"]) == 0
    assert "run 4, skipped 0" in capsys.readouterr().out
    status, err = cli_exit(gpu_sweep.main, argv + ["--executor", "processes"])
    assert status == 2 and "--executor is not used" in err
    if importlib.util.find_spec("cupy") is None:
        status, err = cli_exit(gpu_sweep.main, argv)
        assert status == 2 and err.count("\n") == 1 and "CuPy is not installed" in err
