"""The array kernel of sim.phase (the CuPy backend's code), run with NumPy arrays, against Numba."""

import numpy as np
import pytest

from gpu.check import __main__ as gpu_check
from sim import phase as sp
from sim.backends import BackendUnavailable, available_backends
from sim.phase import kernel_array as ka
from theory.phase import PhaseParams

CASES = [
    PhaseParams(b=3, rho=0.3, gamma=0.9, depth=5, p0=0.6),
    PhaseParams(b=5, rho=0.2, gamma=0.8, depth=3, p0=0.55, root_channel=True),
    PhaseParams(b=7, rho=0.0, gamma=1.0, depth=2, p0=0.6),
    PhaseParams(b=3, rho=0.3, gamma=0.9, depth=4, p0=0.55, correlation="item"),
    PhaseParams(b=3, rho=0.4, gamma=0.7, depth=4, p0=0.55, correlation="shock", rho_node=0.3),
    PhaseParams(b=3, rho=0.1, gamma=0.9, depth=0, p0=0.7, root_channel=True),
]


@pytest.mark.parametrize("params", CASES, ids=lambda p: f"{p.correlation}-b{p.b}-L{p.depth}")
def test_array_kernel_is_bit_identical_to_numba(params):
    trials = 64 * 40 + 17
    a = ka.tree_words(params, trials, seed=31, xp=np)
    b = sp.tree_words_numba(params, trials, seed=31)
    assert a.shape == b.shape == (-(-trials // 64), params.depth + 1)
    assert np.array_equal(a, b)


def test_chunking_does_not_change_the_words():
    params = CASES[0]
    a = ka.tree_words(params, 5000, seed=2, xp=np)
    b = ka.tree_words(params, 5000, seed=2, xp=np, max_elements=300)
    assert np.array_equal(a, b)


def test_bit_planes_reassemble_probabilities():
    from sim import rng

    p = np.linspace(0, 1, 128)
    P = rng.prob_to_fixed(p)
    planes = ka.bit_planes(np, P)
    # rebuild lane probabilities from the planes, digit by digit
    rebuilt = np.zeros(128, dtype=object)
    for w in range(2):
        for lane in range(64):
            bits = [(int(planes[w, k]) >> lane) & 1 for k in range(64)]
            rebuilt[w * 64 + lane] = int("".join(map(str, bits)), 2)
    assert [int(x) for x in P] == list(rebuilt)


def test_gpu_check_runs_on_cpu(capsys):
    status = gpu_check.main(["phase", "--device", "cpu", "--trials", "2048",
                             "--bench-trials", "2048"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "identical words=True" in out and "PASS" in out


@pytest.mark.skipif("cupy" in available_backends(), reason="a GPU is present")
def test_missing_gpu_gives_a_clear_message(capsys):
    with pytest.raises(BackendUnavailable, match="backend 'cupy' is unavailable"):
        sp.tree_levels(CASES[0], 100, backend="cupy")
    assert gpu_check.main(["phase"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cupy" in err.lower()
