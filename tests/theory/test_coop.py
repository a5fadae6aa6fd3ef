"""Tests of theory.coop: the model's invariants and its reference values.

Expected numbers are the printed values of docs/models/coop.md (sections
"Reference values", "The paper's experiment" and "The Apache case"), compared
to within half a unit of the last printed digit, or come from independent
computations written here (the expanded utilities of docs/models/coop.md (6),
brute-force deviations on fine grids, scipy's bounded scalar optimiser, finite
differences).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from theory import coop as C

FAST = settings(max_examples=40, deadline=None)
SLOWISH = settings(max_examples=15, deadline=None)

MODES = ("sum", "mean")
omegas = st.floats(5.0, 50.0)
betas = st.floats(0.2, 0.9)
costs = st.floats(0.5, 5.0)
sizes = st.integers(2, 12)
phis_B = st.floats(0.0, 1.0)
phis_C = st.floats(0.0, 0.9)
modes = st.sampled_from(MODES)


def thetas(n):
    return st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)


def _close(x, printed):
    """``x`` equals a printed decimal to within half a unit of its last digit."""
    text = str(printed)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(x - float(text)) <= 0.5 * 10.0 ** (-decimals) * (1 + 1e-9)


def _sig(x, printed, digits=6):
    """``x`` equals a value printed to ``digits`` significant digits."""
    return abs(x - printed) <= 0.5 * 10.0 ** (math.floor(math.log10(abs(printed))) - digits + 1)


# ---------------------------------------------------------------------------
# parameters and validation
# ---------------------------------------------------------------------------


def test_params_defaults_and_aliases():
    p = C.CoopParams()
    assert (p.omega, p.beta, p.c, p.n, p.phi_B, p.phi_C, p.a_max) == (25, 0.7, 1, 5, 0.8, 0.3, 50)
    assert p.theta == (0.5,) * 5 and p.welfare_mode == "sum" and p.a_min == 0.0
    assert C.CoopParams(welfare_mode="repo").welfare_mode == "mean"
    assert C.CoopParams(welfare_mode="paper").welfare_mode == "sum"
    q = C.CoopParams.paper_compat(n=3, theta=[0.1, 0.2, 0.3])
    assert (q.a_min, q.a_max, q.welfare_mode, q.theta) == (0.01, 50.0, "sum", (0.1, 0.2, 0.3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.omega = 3.0


@pytest.mark.parametrize("kwargs, match", [
    ({"theta": (0.5, 1.2)}, r"^theta must be in \[0, 1\], got 1\.2$"),
    ({"theta": (-0.1, 0.5)}, r"^theta must be in \[0, 1\]"),
    ({"theta": (1.0, 1.0), "phi_C": 1.0}, r"^theta\*phi_C must be < 1, got 1$"),
    ({"beta": 1.0}, r"^beta must be in \(0, 1\), got 1$"),
    ({"beta": 0.0}, r"^beta must be in \(0, 1\), got 0$"),
    ({"n": 1, "theta": (0.5,)}, r"^n must be an integer in \[2, inf\], got 1$"),
    ({"omega": 0.0}, r"^omega must be in \(0, inf\), got 0$"),
    ({"c": -1.0}, r"^c must be in \(0, inf\), got -1$"),
    ({"theta": (0.5, 0.5, 0.5)}, r"^theta must be a list of n=2 values, got shape \(3,\)$"),
    ({"D": (0.5,)}, r"^D must be a list of n=2 values, got shape \(1,\)$"),
    ({"D": (0.5, -0.5)}, r"^D must be in \[0, inf\), got -0\.5$"),
    ({"phi_B": -0.1}, r"^phi_B must be in \[0, inf\)"),
    ({"a_min": 5.0, "a_max": 5.0}, r"^a_max must be in \(5, inf\], got 5$"),
    ({"welfare_mode": "avg"}, r"^welfare_mode must be one of 'sum', 'mean'"),
])
def test_params_validation(kwargs, match):
    base = {"n": 2, "theta": (0.5, 0.5)}
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        C.CoopParams(**base)


def test_params_type_errors():
    with pytest.raises(TypeError, match="^n must be an integer"):
        C.CoopParams(n=2.0, theta=(0.5, 0.5))
    with pytest.raises(TypeError, match="^beta must be a real number"):
        C.CoopParams(beta="0.5")


def test_function_validation():
    with pytest.raises(ValueError, match=r"^beta must be in \(0, 1\), got 1$"):
        C.target_aggregate(0.5, 20, 1.0, 2.5, 5)
    with pytest.raises(ValueError, match=r"^theta\*phi_C must be < 1, got 1\.2$"):
        C.target_aggregate([0.5, 1.0], 20, 0.5, 2.5, 5, phi_C=1.2)
    with pytest.raises(ValueError, match=r"^a_max must be > a_min, got 1$"):
        C.equilibrium_direct([1.0, 2.0], a_min=1.0, a_max=1.0)
    with pytest.raises(ValueError, match=r"^n must be an integer in \[2, inf\], got 1$"):
        C.free_riding_effort(20, 0.5, 2.5, 1)
    with pytest.raises(ValueError, match=r"^D must have a positive sum"):
        C.team_cohesion([0.2, 0.4], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"^method must be one of"):
        C.solve(C.CoopParams(), method="jacobi")



def test_functions_take_the_parameter_object():
    p = C.CoopParams(omega=20, beta=0.5, c=2.5, n=4, theta=(0.6, 0.4, 0.2, 0.1), a_min=0.01,
                     welfare_mode="mean")
    plain = (p.omega, p.beta, p.c, p.n)
    assert C.free_riding_effort(p) == C.free_riding_effort(*plain)
    assert C.free_riding_effort(p, n=6) == C.free_riding_effort(20, 0.5, 2.5, 6)  # override
    assert C.social_optimum_aggregate(p) == C.social_optimum_aggregate(20, 0.5, 2.5)
    T = C.target_aggregate(p.theta, *plain, p.phi_B, p.phi_C, "mean")
    np.testing.assert_array_equal(C.target_aggregate(p), T)
    np.testing.assert_array_equal(p.targets, T)
    d = C.equilibrium_direct(p)
    assert d.aggregate == C.equilibrium_direct(T, 0.01, 50.0).aggregate == C.solve(p).aggregate
    assert C.equilibrium_gauss_seidel(p).aggregate == pytest.approx(d.aggregate, rel=1e-12)
    a = np.array([1.0, 2.0, 0.5, 0.25])
    np.testing.assert_array_equal(C.utility(p, a=a),
                                  C.utility(a, p.theta, *plain[:3], p.phi_B, p.phi_C, "mean"))
    assert C.team_cohesion(p) == p.cohesion() == pytest.approx(np.mean(p.theta), rel=1e-14)
    sym = C.symmetric_equilibrium_effort(p)  # the symmetric team at each member's loyalty
    assert sym.shape == (4,) and sym[0] == C.symmetric_equilibrium_effort(
        0.6, *plain, welfare_mode="mean", a_min=0.01, a_max=50.0)
    with pytest.raises(TypeError, match="by keyword"):
        C.free_riding_effort(p, 6)

# ---------------------------------------------------------------------------
# payoffs, docs/models/coop.md (1)-(7)
# ---------------------------------------------------------------------------


def test_team_production_zero_and_value():
    assert C.team_production(0.0, 20, 0.5) == 0.0
    assert C.team_production(-1.0, 20, 0.5) == 0.0
    assert C.team_production(4.0, 20, 0.5) == pytest.approx(40.0, rel=1e-15)


@FAST
@given(omegas, betas, costs, st.integers(2, 8), phis_B, phis_C, modes, st.data())
def test_utility_matches_expanded_form(omega, beta, c, n, phi_B, phi_C, mode, data):
    theta = np.array(data.draw(thetas(n)))
    assume((theta * phi_C < 1).all())
    a = np.array(data.draw(st.lists(st.floats(0.01, 20.0), min_size=n, max_size=n)))
    S = a.sum()
    S_minus = S - a
    U = C.utility(a, theta, omega, beta, c, phi_B, phi_C, mode)
    # docs/models/coop.md (6), written out independently
    if mode == "sum":
        exp = ((1 + (n - 1) * theta * phi_B) / n * omega * S ** beta
               - c * (1 - theta * phi_C) * a - theta * phi_B * c * S_minus)
    else:
        exp = ((1 + theta * phi_B) / n * omega * S ** beta
               - c * (1 - theta * phi_C) * a - theta * phi_B * c * S_minus / (n - 1))
    np.testing.assert_allclose(U, exp, rtol=1e-10, atol=1e-10 * (1 + omega * S ** beta))
    pi = C.base_payoff(a, omega, beta, c)
    L = C.loyalty_modifier(a, theta, omega, beta, c, phi_B, phi_C, mode)
    np.testing.assert_allclose(U - pi, L, rtol=1e-9, atol=1e-9 * (1 + abs(U).max()))
    assert (C.utility(a, np.zeros(n), omega, beta, c, phi_B, phi_C, mode) == pi).all()
    # marginal utility against a central finite difference on member 0
    g = C.marginal_utility(a, theta, omega, beta, c, phi_B, phi_C, mode)
    h = 1e-6
    ap, am = a.copy(), a.copy()
    ap[0] += h
    am[0] -= h
    fd = (C.utility(ap, theta, omega, beta, c, phi_B, phi_C, mode)[0]
          - C.utility(am, theta, omega, beta, c, phi_B, phi_C, mode)[0]) / (2 * h)
    assert g[0] == pytest.approx(fd, rel=1e-5, abs=1e-5)


def test_teammates_welfare_versions():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    Q = 20 * 10 ** 0.5
    W_sum = C.teammates_welfare(a, 20, 0.5, 2.5, "paper")
    W_mean = C.teammates_welfare(a, 20, 0.5, 2.5, "repo")
    np.testing.assert_allclose(W_sum, 3 / 4 * Q - 2.5 * (10 - a), rtol=1e-13)
    np.testing.assert_allclose(W_mean, Q / 4 - 2.5 * (10 - a) / 3, rtol=1e-13)


def test_team_cohesion():
    theta = np.array([0.85, 0.90, 0.80, 0.75, 0.70, 0.78, 0.82, 0.76])
    D = np.array([0.18, 0.20, 0.12, 0.10, 0.08, 0.10, 0.12, 0.10])
    assert _close(C.team_cohesion(theta, D), "0.8124")  # the Apache case's first phase
    assert C.team_cohesion(theta, np.full(8, 3.0)) == pytest.approx(theta.mean(), rel=1e-14)
    assert math.isnan(C.team_cohesion(theta, np.zeros(8), zero_weights="nan"))
    batch = C.team_cohesion(np.array([theta, theta[::-1]]), np.array([D, D]))
    assert batch.shape == (2,) and (batch >= theta.min()).all() and (batch <= theta.max()).all()
    p = C.CoopParams(n=8, theta=tuple(theta), D=tuple(D))
    assert p.cohesion() == pytest.approx(0.8124, abs=5e-5)


# ---------------------------------------------------------------------------
# best response, free riding, social optimum, docs/models/coop.md (10)-(13)
# ---------------------------------------------------------------------------


@FAST
@given(omegas, betas, costs, st.integers(2, 8), phis_B, phis_C, modes, st.data())
def test_best_response_maximises_utility(omega, beta, c, n, phi_B, phi_C, mode, data):
    theta = np.array(data.draw(thetas(n)))
    assume((theta * phi_C < 1).all())
    a = np.array(data.draw(st.lists(st.floats(0.0, 30.0), min_size=n, max_size=n)))
    a_max = 50.0
    T = C.target_aggregate(theta, omega, beta, c, n, phi_B, phi_C, mode)
    S_minus = a[1:].sum()
    assume(S_minus > 0)
    br = C.best_response(S_minus, T[0], 0.0, a_max)

    def u0(x):
        prof = np.broadcast_to(a, np.shape(x) + (n,)).copy()
        prof[..., 0] = x
        return C.utility(prof, theta, omega, beta, c, phi_B, phi_C, mode)[..., 0]

    grid = np.linspace(0.0, a_max, 20001)
    scale = 1e-10 * (1 + abs(u0(br)))
    assert u0(grid).max() <= u0(br) + scale
    res = optimize.minimize_scalar(lambda x: -u0(x), bounds=(0.0, a_max), method="bounded",
                                   options={"xatol": 1e-9})
    assert res.x == pytest.approx(br, abs=1e-5)


@pytest.mark.parametrize("cfg, a0", [
    ((20, 0.5, 2.5, 5), 0.128),
    ((10, 0.4, 3.5, 8), 0.00487993),
    ((15, 0.45, 2.0, 4), 0.183562),
    ((25, 0.55, 3.0, 6), 0.0916043),
    ((30, 0.6, 1.5, 3), 10.6667),
])
def test_free_riding_fixture(cfg, a0):
    omega, beta, c, n = cfg
    got = C.free_riding_effort(omega, beta, c, n)
    assert _sig(got, a0)
    assert got == pytest.approx(C.free_riding_aggregate(omega, beta, c, n) / n, rel=1e-12)
    assert got == pytest.approx(C.symmetric_equilibrium_effort(0.0, *cfg), rel=1e-12)


@FAST
@given(omegas, betas, costs, sizes)
def test_social_optimum_and_underprovision(omega, beta, c, n):
    p = 1 / (1 - beta)
    a0 = C.free_riding_effort(omega, beta, c, n)
    aopt = C.social_optimum_effort(omega, beta, c, n)
    assert aopt / a0 == pytest.approx(n ** p, rel=1e-9)
    assert C.underprovision_ratio(beta, n) == pytest.approx(n ** p, rel=1e-12) and n ** p > 1
    S0, Sopt = n * a0, C.social_optimum_aggregate(omega, beta, c)
    assert C.team_welfare(S0, omega, beta, c) < C.team_welfare(Sopt, omega, beta, c)
    # S^opt maximises Q - cS: brute force on a grid
    grid = Sopt * np.linspace(0.5, 1.5, 2001)
    assert C.team_welfare(grid, omega, beta, c).max() <= C.team_welfare(Sopt, omega, beta, c) * (
        1 + 1e-12) + 1e-12


# ---------------------------------------------------------------------------
# symmetric closed form, docs/models/coop.md (14), against the "Reference values" table
# ---------------------------------------------------------------------------

FIXTURES = [
    ((20, 0.5, 2.5, 5), [0.593799, 1.19762, 2.15301, 3.61599],
     [0.237668, 0.347239, 0.49912, 0.710593]),
    ((10, 0.4, 3.5, 8), [0.0295281, 0.0592045, 0.102875, 0.165172],
     [0.00817298, 0.0112097, 0.0151673, 0.020359]),
    ((15, 0.45, 2.0, 4), [0.5841, 1.03443, 1.69178, 2.63517],
     [0.322189, 0.454778, 0.632487, 0.872008]),
    ((25, 0.55, 3.0, 6), [0.65144, 1.51019, 3.00483, 5.47568],
     [0.182196, 0.277646, 0.415506, 0.615233]),
]


@pytest.mark.parametrize("cfg, P, R", FIXTURES)
def test_symmetric_fixture_table(cfg, P, R):
    for mode, row in (("sum", P), ("mean", R)):
        for theta, printed in zip((0.3, 0.5, 0.7, 0.9), row):
            got = C.symmetric_equilibrium_effort(theta, *cfg, welfare_mode=mode, a_max=50.0)
            assert _sig(got, printed), (mode, theta, got)


def test_symmetric_fixture_capped_row():
    cfg = (30, 0.6, 1.5, 3)
    got_P = [C.symmetric_equilibrium_effort(t, *cfg, a_max=50.0) for t in (0.3, 0.5, 0.7, 0.9)]
    assert _sig(got_P[0], 35.9815) and got_P[1:] == [50.0, 50.0, 50.0]
    got_R = [C.symmetric_equilibrium_effort(t, *cfg, welfare_mode="mean", a_max=50.0)
             for t in (0.3, 0.5, 0.7, 0.9)]
    assert _sig(got_R[0], 23.1196) and _sig(got_R[1], 37.1365) and got_R[2:] == [50.0, 50.0]
    interior = [C.symmetric_equilibrium_effort(t, *cfg, welfare_mode="mean") for t in (0.7, 0.9)]
    assert _close(interior[0], "58.45") and _close(interior[1], "90.90")


def test_symmetric_multiplier_n8():
    # docs/models/coop.md (14): n = 8, theta = 0.9, beta = 0.6, a*/a0* ~ 197 (interior)
    ratio = C.symmetric_equilibrium_effort(0.9, 20, 0.6, 2.0, 8) / C.free_riding_effort(20, 0.6,
                                                                                        2.0, 8)
    assert round(ratio) == 197


@FAST
@given(omegas, betas, costs, sizes, st.floats(0.0, 1.0), phis_B, phis_C, modes)
def test_symmetric_closed_form_equals_solvers(omega, beta, c, n, theta, phi_B, phi_C, mode):
    assume(theta * phi_C < 1)
    a_max = 50.0
    closed = C.symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B, phi_C, mode, 0.0,
                                            a_max)
    T = C.target_aggregate(np.full(n, theta), omega, beta, c, n, phi_B, phi_C, mode)
    d = C.equilibrium_direct(T, 0.0, a_max)
    g = C.equilibrium_gauss_seidel(T, 0.0, a_max)
    assert d.mean_effort == pytest.approx(closed, rel=1e-12)
    assert g.converged and g.mean_effort == pytest.approx(closed, rel=1e-9)
    a0 = C.free_riding_effort(omega, beta, c, n)
    k = 1 + ((n - 1) if mode == "sum" else 1) * theta * phi_B
    interior = a0 * (k / (1 - theta * phi_C)) ** (1 / (1 - beta))
    assert closed == pytest.approx(min(interior, a_max), rel=1e-9)


# ---------------------------------------------------------------------------
# comparative statics, docs/models/coop.md (14), (19), (20)
# ---------------------------------------------------------------------------

DIFF_P = {  # docs/models/coop.md, "Reference values": paper variant, phi_B = 0.8, phi_C = 0.3
    0.40: ["5.5458", "7.6358", "9.6867", "11.6627", "15.3321"],
    0.45: ["6.480", "9.186", "11.908", "14.581", "19.651"],
    0.50: ["7.8120", "11.4664", "15.2550", "19.0615", "26.4681"],
    0.55: ["9.817", "15.036", "20.649", "26.448", "38.089"],
    0.60: ["13.0603", "21.1002", "30.1486", "39.8287", "60.0348"],
}


@pytest.mark.parametrize("beta", sorted(DIFF_P))
def test_differentiation_table(beta):
    for n, printed in zip((3, 4, 5, 6, 8), DIFF_P[beta]):
        for omega, c in ((1.0, 1.0), (30.0, 3.5)):  # invariant to omega and c
            assert _close(C.effort_differentiation(omega, beta, c, n), printed), (beta, n)


def test_differentiation_version_R():
    for beta, printed in ((0.4, "3.4881"), (0.5, "4.4782"), (0.6, "6.5145")):
        vals = [C.effort_differentiation(10, beta, 2.0, n, welfare_mode="mean") for n in (3, 8)]
        assert _close(vals[0], printed) and vals[0] == pytest.approx(vals[1], rel=1e-12)


@FAST
@given(omegas, st.floats(0.2, 0.85), costs, st.integers(2, 11), st.floats(0.05, 0.95),
       st.just(0.0) | st.floats(0.01, 1.0), st.floats(0.05, 0.85), modes)
def test_interior_comparative_statics(omega, beta, c, n, theta, phi_B, phi_C, mode):
    a = lambda **kw: C.symmetric_equilibrium_effort(  # noqa: E731
        kw.get("theta", theta), kw.get("omega", omega), beta, kw.get("c", c), kw.get("n", n),
        phi_B, phi_C, mode)
    base = a()
    assert a(theta=theta + 0.04) > base
    assert a(omega=omega * 1.1) > base and a(c=c * 1.1) < base
    assert a(n=n + 1) < base
    sym = C.symmetric_equilibrium_effort
    assert sym(theta, omega, beta, c, n, phi_B + 0.05, phi_C, mode) > base
    assert sym(theta, omega, beta, c, n, phi_B, phi_C + 0.05, mode) > base
    # differentiation ratio: increasing in beta, and in n in "sum" mode
    r = C.effort_differentiation(omega, beta, c, n, phi_B, phi_C, mode)
    if phi_B > 0:
        assert C.effort_differentiation(omega, beta + 0.05, c, n, phi_B, phi_C, mode) > r
        if mode == "sum":
            assert C.effort_differentiation(omega, beta, c, n + 1, phi_B, phi_C, mode) > r
    P = C.symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B, phi_C, "sum")
    R = C.symmetric_equilibrium_effort(theta, omega, beta, c, n, phi_B, phi_C, "mean")
    if n == 2 or phi_B == 0:
        assert P == pytest.approx(R, rel=1e-12)
    else:
        assert P > R


@FAST
@given(omegas, betas, costs, sizes, st.floats(0.05, 1.0), st.floats(0.01, 1.0),
       st.floats(0.01, 0.9), modes)
def test_synergy_identity_interior(omega, beta, c, n, theta, phi_B, phi_C, mode):
    p = 1 / (1 - beta)
    k = 1 + ((n - 1) if mode == "sum" else 1) * theta * phi_B
    X, Y = k ** p, (1 - theta * phi_C) ** (-p)
    assume(X < 1e12 and Y < 1e12 and X - 1 > 1e-6 and Y - 1 > 1e-6)
    syn = C.mechanism_synergy(omega, beta, c, n, phi_B, phi_C, mode, theta=theta)
    assert syn == pytest.approx(C.synergy_identity(X, Y), rel=1e-6)
    assert syn > 1
    assert C.synergy_identity(X, 1.0) == 1.0


@pytest.mark.parametrize("cfg, printed", [
    ((25, 0.6, 1.5, 3), "1.0075"), ((30, 0.6, 1.5, 3), "0.8212"), ((30, 0.6, 1.5, 4), "1.0233"),
])
def test_synergy_cap_failures(cfg, printed):
    # the three synergy failures of the paper's grid, bounds [0.01, 50]
    assert _close(C.mechanism_synergy(*cfg, a_min=0.01, a_max=50.0), printed)


# ---------------------------------------------------------------------------
# exact solvers, docs/models/coop.md (15)-(17), on heterogeneous loyalty
# ---------------------------------------------------------------------------


def _instance(data, n):
    theta = np.array(data.draw(thetas(n)))
    omega = data.draw(omegas)
    beta = data.draw(st.floats(0.2, 0.8))
    c = data.draw(costs)
    mode = data.draw(modes)
    a_min = data.draw(st.sampled_from([0.0, 0.01, 0.5]))
    a_max = data.draw(st.sampled_from([2.0, 10.0, 50.0]))
    return theta, omega, beta, c, mode, a_min, a_max


@SLOWISH
@given(st.integers(2, 6), st.data())
def test_equilibrium_is_best_response_for_every_member(n, data):
    theta, omega, beta, c, mode, a_min, a_max = _instance(data, n)
    T = C.target_aggregate(theta, omega, beta, c, n, 0.8, 0.3, mode)
    for eq in (C.equilibrium_direct(T, a_min, a_max), C.equilibrium_gauss_seidel(T, a_min, a_max)):
        a = eq.efforts
        assert (a >= a_min).all() and (a <= a_max).all()
        assert a.sum() == pytest.approx(eq.aggregate, rel=1e-12)
        U = C.utility(a, theta, omega, beta, c, 0.8, 0.3, mode)
        grid = np.linspace(a_min, a_max, 4001)
        for i in range(n):
            prof = np.repeat(a[None, :], grid.size, axis=0)
            prof[:, i] = grid
            dev = C.utility(prof, theta, omega, beta, c, 0.8, 0.3, mode)[:, i]
            assert dev.max() <= U[i] + 1e-9 * (1 + abs(U[i])), (i, dev.max() - U[i])
        # KKT conditions with docs/models/coop.md (9)
        g = C.marginal_utility(a, theta, omega, beta, c, 0.8, 0.3, mode)
        eps = 1e-8 * (1 + c)
        inner = (a > a_min) & (a < a_max)
        assert (abs(g[inner]) < eps).all()
        assert (g[a <= a_min] <= eps).all() and (g[a >= a_max] >= -eps).all()
        # structure, docs/models/coop.md (16): targets above S* at the cap, below at the
        # floor; exact for the direct solver, to the iteration's tolerance for Gauss-Seidel
        S = eq.aggregate
        tol = 0.0 if eq.iterations == 0 else 1e-9
        assert np.all(np.abs(a[T > S * (1 + 1e-12)] - a_max) <= tol)
        assert np.all(np.abs(a[T < S * (1 - 1e-12)] - a_min) <= tol)


@SLOWISH
@given(st.integers(2, 10), st.data())
def test_direct_equals_gauss_seidel_from_random_starts(n, data):
    theta, omega, beta, c, mode, a_min, a_max = _instance(data, n)
    T = C.target_aggregate(theta, omega, beta, c, n, 0.8, 0.3, mode)
    S = C.equilibrium_aggregate(T, a_min, a_max)
    assert C.equilibrium_direct(T, a_min, a_max).aggregate == S
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    for _ in range(3):
        start = rng.uniform(a_min, a_max, n)
        g = C.equilibrium_gauss_seidel(T, a_min, a_max, a_init=start)
        assert g.converged and g.aggregate == pytest.approx(S, rel=1e-8)
    # permutation equivariance
    perm = rng.permutation(n)
    assert C.equilibrium_aggregate(T[perm], a_min, a_max) == pytest.approx(S, rel=1e-15)
    np.testing.assert_array_equal(C.equilibrium_direct(T[perm], a_min, a_max).efforts,
                                  C.equilibrium_direct(T, a_min, a_max).efforts[perm])


def test_solvers_vectorised_over_grid():
    rng = np.random.default_rng(7)
    theta = rng.uniform(0, 1, (40, 6))
    omega = rng.uniform(5, 50, 40)[:, None]
    T = C.target_aggregate(theta, omega, 0.6, 2.0, 6)
    a_max = np.where(np.arange(40) % 2 == 0, 5.0, 50.0)
    d = C.equilibrium_direct(T, 0.01, a_max)
    g = C.equilibrium_gauss_seidel(T, 0.01, a_max)
    assert d.efforts.shape == (40, 6) and np.shape(d.aggregate) == (40,)
    assert g.converged.all()
    np.testing.assert_allclose(g.aggregate, d.aggregate, rtol=1e-9)
    for j in range(40):
        one = C.equilibrium_direct(T[j], 0.01, a_max[j])
        assert one.aggregate == d.aggregate[j]
        np.testing.assert_array_equal(one.efforts, d.efforts[j])


def test_tied_targets_not_unique_but_same_aggregate():
    # symmetric theta: any split is an equilibrium; the direct solver splits equally,
    # Gauss-Seidel from a_max/2 lands on a corner (docs/models/coop.md, "Equilibrium")
    p = C.CoopParams(omega=20, beta=0.5, c=2.5, n=5, theta=(0.5,) * 5, a_min=0.0, a_max=50.0)
    d, g = C.solve(p), C.solve(p, "gauss_seidel")
    assert not d.unique and not g.unique
    assert _sig(d.mean_effort, 1.19762) and g.mean_effort == pytest.approx(d.mean_effort, rel=1e-9)
    np.testing.assert_allclose(d.efforts, d.mean_effort, rtol=1e-12)
    assert np.ptp(g.efforts) > 1.0
    # heterogeneous targets: efforts are unique
    h = C.solve(C.CoopParams(n=3, theta=(0.1, 0.2, 0.3), a_max=1e6))
    assert h.unique and (h.efforts[:2] == 0.0).all() and h.efforts[2] > 0


def test_gauss_seidel_reports_non_convergence():
    T = np.full(4, 10.0)
    g = C.equilibrium_gauss_seidel(T, 0.0, 50.0, a_init=[0.0, 50.0, 3.0, 7.0], tol=1e-300,
                                   max_iter=1)
    assert g.iterations == 1 and not g.converged


def test_pinned_aggregates():
    # all targets above the cap: everyone at a_max; all below the floor: everyone at a_min
    assert C.equilibrium_aggregate([500.0, 600.0, 700.0], 0.0, 50.0) == 150.0
    assert C.equilibrium_aggregate([0.001, 0.002], 0.01, 50.0) == pytest.approx(0.02)
    assert C.equilibrium_aggregate([np.inf, 3.0], 1.0, 50.0) == 51.0
    # one interior member sets the aggregate
    e = C.equilibrium_direct([100.0, 30.0, 1.0], 0.0, 50.0)
    assert e.aggregate == 50.0 and list(e.efforts) == [50.0, 0.0, 0.0]
    e = C.equilibrium_direct([120.0, 70.0, 1.0], 0.0, 50.0)
    assert e.aggregate == 70.0 and list(e.efforts) == [50.0, 20.0, 0.0] and e.unique


# ---------------------------------------------------------------------------
# the Apache case and the paper's grid statistics, bounds [0.01, 50]
# ---------------------------------------------------------------------------

FOUNDER_THETA = np.array([0.85, 0.90, 0.80, 0.75, 0.70, 0.78, 0.82, 0.76])
FOUNDER_D = np.array([0.18, 0.20, 0.12, 0.10, 0.08, 0.10, 0.12, 0.10])
PHASES = [(8, 1.00), (25, 0.85), (40, 0.70), (35, 0.60)]


@pytest.mark.parametrize("mode, means", [
    ("sum", ["50.00", "35.93", "14.53", "11.47"]),
    ("mean", ["9.67", "0.096", "0.011", "0.015"]),
])
def test_apache_phase_means_and_cohesion(mode, means):
    for (n, mult), printed, coh in zip(PHASES, means, ["0.8124", "0.6857", "0.5633", "0.4845"]):
        idx = np.arange(n)
        theta = FOUNDER_THETA[idx % 8] * mult
        D = np.where(idx < 8, FOUNDER_D[np.minimum(idx, 7)], 1.0 / n)
        T = C.target_aggregate(theta, 30, 0.65, 1.2, n, 0.8, 0.3, mode)
        d = C.equilibrium_direct(T, 0.01, 50.0)
        g = C.equilibrium_gauss_seidel(T, 0.01, 50.0)
        assert _close(d.mean_effort, printed), (n, d.mean_effort)
        assert g.converged and g.mean_effort == pytest.approx(d.mean_effort, rel=1e-9)
        assert _close(C.team_cohesion(theta, D), coh)
        if n == 8:  # founders' top/bottom effort ratio
            ratio = d.efforts.max() / d.efforts.min()
            assert ratio == (1.0 if mode == "sum" else pytest.approx(5000.0, rel=1e-12))


def _sweep(mode="sum"):
    grid = np.array(list(itertools.product([10, 15, 20, 25, 30], [0.40, 0.45, 0.50, 0.55, 0.60],
                                           [1.5, 2.0, 2.5, 3.0, 3.5], [3, 4, 5, 6, 8])))
    omega, beta, c, n = grid.T
    n = n.astype(int)
    bounds = dict(a_min=0.01, a_max=50.0)
    eff = {t: C.symmetric_equilibrium_effort(t, omega, beta, c, n, welfare_mode=mode, **bounds)
           for t in (0.0, 0.3, 0.5, 0.7, 0.9)}
    return omega, beta, c, n, bounds, eff


def test_sweep_statistics_version_P():
    omega, beta, c, n, bounds, eff = _sweep("sum")
    a0 = C.free_riding_effort(omega, beta, c, n)
    passed = (abs(eff[0.0] - a0) / a0 * 100 < 5.0).sum()
    assert passed * 5 == 3015  # 96.48 % of 3,125 rows (each combination counted 5x)
    diff = C.effort_differentiation(omega, beta, c, n, **bounds)
    assert (diff > 2).all() and _close(np.median(diff), "15.036")
    syn = C.mechanism_synergy(omega, beta, c, n, **bounds)
    assert (syn > 1.1).sum() * 5 == 3110 and abs(np.median(syn) - 1.566) <= 0.01
    for t, printed in ((0.0, "0.3673"), (0.3, "1.4264"), (0.5, "2.8491"), (0.7, "5.0578"),
                       (0.9, "8.0741")):
        assert _close(eff[t].mean(), printed), t
    d = eff[0.9] - eff[0.0]
    assert _close(d.mean() / d.std(ddof=0), "0.7148")
    assert _close(stats.ttest_rel(eff[0.9], eff[0.0]).statistic, "17.855")
    assert ((eff[0.9] == 50.0).sum(), (eff[0.7] == 50.0).sum(), (eff[0.5] == 50.0).sum()) == (
        19, 7, 1)


def test_sweep_statistics_version_R():
    omega, beta, c, n, bounds, eff = _sweep("mean")
    diff = C.effort_differentiation(omega, beta, c, n, welfare_mode="mean", **bounds)
    assert _close(np.median(diff), "4.478")
    d = eff[0.9] - eff[0.0]
    assert _close(d.mean() / d.std(ddof=0), "0.440")
    syn = C.mechanism_synergy(omega, beta, c, n, welfare_mode="mean", **bounds)
    assert _close(np.median(syn), "1.424")


def test_reference_numeric_iteration_agrees_with_direct_solver():
    # docs/models/coop.md (18) against (15): the numeric iteration agrees to ~1e-5
    from theory import coop as C

    for theta, mode in [([0.9, 0.7, 0.5, 0.3], "sum"), ([0.2, 0.2, 0.6], "mean")]:
        p = C.CoopParams(omega=25, beta=0.7, c=1.0, n=len(theta), theta=theta, a_min=0.01,
                         a_max=50, welfare_mode=mode)
        ref = C.equilibrium_reference(theta, 25, 0.7, 1.0, welfare_mode=mode, a_max=50,
                                      a_floor=0.01)
        direct = C.solve(p)
        assert ref.converged
        assert ref.mean_effort == pytest.approx(direct.mean_effort, rel=1e-4)


def test_tr1_equilibrium_is_a_best_response_and_reduces_to_the_private_optimum():
    import numpy as np

    from theory import coop as C

    # no interdependence, no complementarity: each maximises a^0.75 - a, so a = 0.75^4
    eq0 = C.interdependence_equilibrium(np.zeros((2, 2)), [100, 100], [0.5, 0.5], gamma=0.0)
    assert eq0.efforts == pytest.approx([0.75 ** 4] * 2, rel=1e-6)
    # the S-LCD case of TR-1: no member gains by deviating on a fine grid
    D = np.array([[0.0, 0.64], [0.86, 0.0]])
    e, alpha = [100.0, 100.0], [0.55, 0.45]
    eq = C.interdependence_equilibrium(D, e, alpha)
    assert eq.converged
    grid = np.linspace(0.01, 100.0, 20001)
    for i in range(2):
        best = eq.efforts.copy()
        u_star = C.integrated_utility(best, D, e, alpha)[i]
        trial = np.repeat(best[None, :], grid.size, axis=0)
        trial[:, i] = grid
        u = np.array([C.integrated_utility(t, D, e, alpha)[i] for t in trial[::50]])
        assert u.max() <= u_star + 1e-9
    # complementarity raises efforts above the private optimum
    assert np.all(eq.efforts > 0.75 ** 4)
    with pytest.raises(ValueError, match="alpha must sum to 1"):
        C.interdependence_payoffs([1.0, 1.0], [0, 0], [0.5, 0.6])
