"""validation.reported: what is computed from the papers' reported numbers (not the numbers)."""

import numpy as np
import pytest

from theory.cost import Prices
from validation import reported as vr


def test_cost_decomposition_is_the_unified_cost_identity():
    d = vr.decompose_costs()
    assert np.allclose(d.tool_cents + d.token_cents, d.cost_cents)
    assert np.allclose(d.tool_cents, 100 * 0.001 * (d.searches + d.browses))
    free = vr.decompose_costs(prices=Prices(call=0.0))
    assert np.allclose(free.token_cents, free.cost_cents) and (free.tool_share == 0).all()


def test_calibration_returns_the_grid_minimum():
    grid, best = vr.calibrate_search(ps=(0.4, 0.8), noises=(0.0, 0.8), trials=300,
                                     backend="numba")
    assert len(grid) == 4 and best["sse"] == grid.sse.min()
    assert {"majority_low", "majority_high", "bavt_low"} <= set(grid.columns)


def test_calibration_names_the_known_models():
    with pytest.raises(ValueError, match="model must be one of gpt-oss-20b, qwen3-30b-a3b"):
        vr.calibrate_search("gpt-5")
