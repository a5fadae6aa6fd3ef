"""Monte Carlo checks of the bbam closed forms: posterior contraction, E3 bias, rounding loss.

Equations cited are those of docs/models/bbam.md.
"""

import numpy as np
import pytest

from sim import bbam as sb


def test_normal_posterior_contraction_matches_bayes_risk_and_slope_minus_one():
    # (22): the Bayes risk of the posterior mean, a power law with exponent 1
    df = sb.posterior_contraction("normal", [1, 4, 16, 64, 256, 1024, 4096], trials=100_000,
                                  seed=1, tau2=2.0, sigma2=0.5)
    assert np.all(np.abs(df.mc - df.theory) <= 4 * df.se)
    slope, _ = sb.fit_power_law(df.b[3:], df.mc[3:])
    assert abs(slope + 1.0) < 0.02


def test_pareto_posterior_variance_falls_as_b_to_the_minus_two():
    # (23): exponent 2
    df = sb.posterior_contraction("pareto", [256, 512, 1024, 2048, 4096], trials=100_000,
                                  seed=2, x_m=1.0, k=3.0)
    slope, _ = sb.fit_power_law(df.b, df.mc)
    assert abs(slope + 2.0) < 0.03
    # at large b the posterior variance approaches E[theta^2] / b^2 = x_m^2 k/(k-2) / b^2
    assert df.mc.iloc[-1] * 4096 ** 2 == pytest.approx(3.0, rel=0.05)


def test_e3_estimator_bias_matches_first_order_theory():
    # (24): with nearly constant tokens the bias is 1e4 p (1-p) / (n T) (Jensen on A^2)
    r = sb.e3_estimator(0.5, 50, 1000.0, token_sigma=0.05, trials=40_000, seed=3)
    assert r["bias_theory"] == pytest.approx(0.05)
    assert abs(r["mean"] - (r["e3"] + r["bias_theory"])) <= 4 * r["se"]
    assert r["mean"] - r["e3"] > 4 * r["se"]  # the bias is real and detectable here


def test_rounding_loss_is_small_nonnegative_and_min_tokens_removes_zeros():
    # (25): the real-valued schedule is the optimum under the bridge prior (13)
    loss = sb.rounding_loss(4000, seed=4)
    finite = loss[np.isfinite(loss)]
    assert np.all(finite >= -1e-12)
    assert np.median(finite) < 1e-3
    # floors to 0 tokens happen under the authors' rounding (12) without a floor
    assert 0.02 < np.mean(~np.isfinite(loss)) < 0.3
    loss1 = sb.rounding_loss(4000, seed=4, min_tokens=1)
    assert np.all(np.isfinite(loss1))


def test_checks_refuse_bad_sizes():
    with pytest.raises(ValueError, match="trials must be an integer in"):
        sb.posterior_contraction("normal", [1, 2], trials=1)
    with pytest.raises(ValueError, match="trials must be an integer in"):
        sb.e3_estimator(0.5, 10, 100.0, trials=1)
    with pytest.raises(ValueError, match="trials must be an integer in"):
        sb.rounding_loss(0)
    with pytest.raises(ValueError, match="model must be one of"):
        sb.posterior_contraction("gamma", [1, 2])
