"""Parameter checks and the backend registry shared by all models."""

import dataclasses

import pytest

from sim import backends
from theory import _params
from theory.phase import PhaseParams


def test_check_real_messages():
    assert _params.check_real("rho", 0.5, 0, 1, hi_open=True) == 0.5
    with pytest.raises(ValueError, match=r"^rho must be in \[0, 1\), got 1.5$"):
        _params.check_real("rho", 1.5, 0, 1, hi_open=True)
    with pytest.raises(ValueError, match=r"gamma must be in \(0, 1\], got 0"):
        _params.check_real("gamma", 0.0, 0, 1, lo_open=True)
    with pytest.raises(ValueError, match="got nan"):
        _params.check_real("x", float("nan"), 0, 1)
    with pytest.raises(TypeError, match="x must be a real number"):
        _params.check_real("x", "0.5", 0, 1)
    with pytest.raises(TypeError):
        _params.check_real("x", True, 0, 1)


def test_check_int_and_odd():
    assert _params.check_int("n", 3, 1) == 3
    with pytest.raises(TypeError, match="n must be an integer"):
        _params.check_int("n", 3.0, 1)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, inf\], got 0"):
        _params.check_int("n", 0, 1)
    assert _params.check_odd_int("b", 5) == 5
    for bad in (1, 2, 4, -3):
        with pytest.raises(ValueError, match="b must be an odd integer >= 3"):
            _params.check_odd_int("b", bad)


def test_phase_params_validate_and_freeze():
    p = PhaseParams(b=5, rho=0.2, gamma=0.8, depth=3, p0=0.7)
    assert p.mu0 == pytest.approx(0.4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.rho = 0.3
    assert PhaseParams(correlation="global_shock").correlation == "shock"
    for kw, msg in [(dict(rho=1.0), "rho"), (dict(gamma=0.0), "gamma"), (dict(b=4), "b"),
                    (dict(p0=-0.1), "p0"), (dict(depth=-1), "depth"),
                    (dict(correlation="copy"), "correlation")]:
        with pytest.raises(ValueError, match=msg):
            PhaseParams(**kw)


def test_backend_registry():
    assert backends.resolve_backend("numpy") == "numpy"
    assert backends.resolve_backend("auto") in backends.available_backends()
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.resolve_backend("tpu")
    if "cupy" not in backends.available_backends():
        with pytest.raises(backends.BackendUnavailable, match="backend 'cupy' is unavailable"):
            backends.resolve_backend("cupy")
