"""The bbam validation check's intervals and figure, on a synthetic check result."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from validation.check import bbam as vb


def _detail():
    b = np.array([4, 8, 16, 32, 64])
    acc = np.array([0.0, 0.1, 0.45, 0.9, 1.0])
    se = np.sqrt(np.clip(acc, 0.05, 0.95) * (1 - np.clip(acc, 0.05, 0.95)) / 40)
    return dict(levels=[1, 2], questions=40,
                curves={1: (b, acc, se), 2: (2 * b, acc[::-1].copy(), se[::-1].copy())},
                laws={1: (30.0, 1.2, 0.0), 2: (0.5, 0.1, 0.2)})


def test_wilson_interval_stays_in_0_1_and_matches_the_formula():
    lo, hi = vb.wilson_interval([0.0, 0.25, 1.0], 40)
    assert np.all((0 <= lo) & (lo <= [0.0, 0.25, 1.0]) & ([0.0, 0.25, 1.0] <= hi) & (hi <= 1))
    # by hand: p = 0.25, n = 40, z = 1.96: centre (p + z^2/2n)/(1 + z^2/n), half-width
    # z sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n)
    z, n, p = 1.959963984540054, 40, 0.25
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert lo[1] == pytest.approx(centre - half, rel=1e-9)
    assert hi[1] == pytest.approx(centre + half, rel=1e-9)
    assert lo[0] == 0.0 and hi[0] > 0.05  # an observed 0 keeps a real interval
    assert hi[2] == 1.0 and lo[2] < 0.95


def test_figure_keeps_intervals_in_0_1_plain_log_labels_and_the_legend_outside(tmp_path):
    ax = vb.plot_bbam(_detail(), Figure(figsize=(8, 4)).subplots())
    assert ax.get_xscale() == "log"
    for coll in ax.collections:  # the error bars' segments
        for seg in coll.get_segments():
            assert np.all(seg[:, 1] >= 0.0) and np.all(seg[:, 1] <= 1.0)
    labels = [ax.xaxis.get_major_formatter()(v, 0) for v in (10.0, 100.0)]
    assert labels == ["10", "100"]
    legend = ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().x0 > ax.bbox.x1 - 1
    assert len(legend.get_texts()) == 4
    path = tmp_path / "bbam.png"
    from validation.check import _write_figure

    _write_figure(vb, _detail(), path)  # the report's figure, through the check protocol
    assert path.read_bytes()[:4] == b"\x89PNG"
