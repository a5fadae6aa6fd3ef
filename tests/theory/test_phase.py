"""Tests of theory.phase: the invariants of the model and its reference values.

The equations are those of ``docs/models/phase.md``. Expected values are reference values
computed independently for this project from the definitions and printed to a
few decimals (compared to within half a unit of the last printed digit), exact
rational arithmetic (fractions,
sympy) computed here from the definitions, or from independent numerical
references (binomial tails, explicit covariance algebra, scipy optimisers).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

from theory import phase as P

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

FAST = settings(max_examples=60, deadline=None)
MEDIUM = settings(max_examples=25, deadline=None)
SLOWISH = settings(max_examples=10, deadline=None)

odd_b = st.sampled_from([3, 5, 7, 9, 11, 13, 15, 17, 21, 31, 51, 101])
small_odd_b = st.sampled_from([3, 5, 7, 9])
rhos = st.floats(0.0, 0.95)
gammas = st.floats(0.05, 1.0)
biases = st.floats(-1.0, 1.0)


def printed(text):
    """Value of a printed decimal and half a unit of its last digit."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10.0**-decimals * (1 + 1e-9) + 1e-15


def assert_printed(actual, text):
    value, tol = printed(text)
    assert abs(actual - value) <= tol, (
        f"{actual!r} differs from printed {text} by more than {tol:g}"
    )


def slope0(b):
    """f_b'(0) from its closed form, as a float."""
    return float(Fraction(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1)))


def gamma_for(b, rho, lo_gain, hi_gamma, u):
    """A fidelity whose gain lies between lo_gain and the gain at hi_gamma (u in [0, 1])."""
    lo = lo_gain / (rho + (1 - rho) * slope0(b))
    return lo + u * (hi_gamma - lo)


def majority_ref(mu, b):
    """Definition of f_b: 2 P[Bin(b, (1+mu)/2) >= (b+1)/2] - 1."""
    return 2.0 * stats.binom.sf((b - 1) // 2, b, (1.0 + np.asarray(mu, dtype=float)) / 2.0) - 1.0


def layer_ref(mu, b, rho, gamma):
    return rho * gamma * mu + (1.0 - rho) * majority_ref(gamma * mu, b)


def iterate_ref(mu, b, rho, gamma, depth):
    for _ in range(depth):
        mu = layer_ref(mu, b, rho, gamma)
    return mu


def ref_tol(b, rho, gamma, depth):
    """Absolute error of iterate_ref: ~4e-16 per level (2 P - 1 cancels), times the gain."""
    gain = max(1.0, gamma * (rho + (1 - rho) * slope0(b)))
    return 4e-16 * (depth + 1) * gain**depth + 1e-16


# exact polynomial arithmetic on lists of Fractions (coefficient of x^k at index k)


def poly_add(p, q):
    n = max(len(p), len(q))
    return [(p[i] if i < len(p) else 0) + (q[i] if i < len(q) else 0) for i in range(n)]


def poly_mul(p, q):
    out = [Fraction(0)] * (len(p) + len(q) - 1)
    for i, pi in enumerate(p):
        if pi:
            for j, qj in enumerate(q):
                out[i + j] += pi * qj
    return out


def poly_pow(p, k):
    out = [Fraction(1)]
    for _ in range(k):
        out = poly_mul(out, p)
    return out


def poly_compose(p, q):
    """p(q(x)) by Horner."""
    out = [Fraction(0)]
    for coef in reversed(p):
        out = poly_add(poly_mul(out, q), [coef])
    return out


@functools.cache
def majority_poly(b):
    """f_b as a polynomial in mu, from the binomial definition."""
    plus = [Fraction(1, 2), Fraction(1, 2)]  # (1 + mu)/2
    minus = [Fraction(1, 2), Fraction(-1, 2)]  # (1 - mu)/2
    total = [Fraction(0)]
    for j in range((b + 1) // 2, b + 1):
        term = poly_mul(poly_pow(plus, j), poly_pow(minus, b - j))
        total = poly_add(total, [2 * math.comb(b, j) * t for t in term])
    return tuple(poly_add(total, [Fraction(-1)]))


def layer_poly(b, rho, gamma):
    inner = majority_poly(b)
    scaled = [coef * gamma**k for k, coef in enumerate(inner)]
    return poly_add([Fraction(0), rho * gamma], [(1 - rho) * coef for coef in scaled])


def beta_expectation_exact(poly_mu, a, c):
    """E[poly(2p - 1)] for p ~ Beta(a, c) from the moments E[p^k] = prod (a+j)/(a+c+j)."""
    in_p = poly_compose(poly_mu, [Fraction(-1), Fraction(2)])
    total, moment = Fraction(0), Fraction(1)
    for k, coef in enumerate(in_p):
        if k:
            moment *= (a + k - 1) / (a + c + k - 1)
        total += coef * moment
    return total


def item_exact(b, depth, rho, gamma, mu_bar, rho_node=Fraction(0)):
    g = layer_poly(b, rho_node, gamma)
    poly = [Fraction(0), Fraction(1)]
    for _ in range(depth):
        poly = poly_compose(g, poly)
    p_bar = (1 + mu_bar) / 2
    a = p_bar * (1 - rho) / rho
    c = (1 - p_bar) * (1 - rho) / rho
    return beta_expectation_exact(poly, a, c)


def linear_tree_root(b, depth):
    """Root of a literal averaging tree as weights on (leaf errors, edge noises)."""
    n_leaves = b**depth
    n_edges = sum(b**level for level in range(1, depth + 1))
    nodes = [np.eye(n_leaves, n_leaves + n_edges)[i] for i in range(n_leaves)]
    edge = n_leaves
    for _ in range(depth):
        parents = []
        for start in range(0, len(nodes), b):
            total = np.zeros(n_leaves + n_edges)
            for child in nodes[start : start + b]:
                message = child.copy()
                message[edge] += 1.0
                edge += 1
                total += message
            parents.append(total / b)
        nodes = parents
    return nodes[0], n_leaves


def variance_of(weights, n_leaves, v0, rho, sigma2):
    w_leaf, w_noise = weights[:n_leaves], weights[n_leaves:]
    cov = v0 * (rho * np.ones((n_leaves, n_leaves)) + (1 - rho) * np.eye(n_leaves))
    return float(w_leaf @ cov @ w_leaf + sigma2 * w_noise @ w_noise)


# ---------------------------------------------------------------------------
# parameters and validation
# ---------------------------------------------------------------------------


def test_phase_params_defaults():
    p = P.PhaseParams()
    assert (p.b, p.rho, p.gamma, p.depth, p.p0) == (3, 0.0, 0.9, 8, 0.6)
    assert p.correlation == "herding" and p.rho_node == 0.0 and p.root_channel is False
    assert p.mu0 == pytest.approx(0.2, abs=1e-15)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.rho = 0.3


def test_phase_params_global_shock_alias():
    p = P.PhaseParams(correlation="global_shock", rho=0.3, rho_node=0.2)
    assert p.correlation == "shock" and p.rho_node == 0.2


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"rho": 1.5}, ValueError, r"^rho must be in \[0, 1\), got 1\.5$"),
        ({"rho": 1.0}, ValueError, r"^rho must be in \[0, 1\), got 1$"),
        ({"rho": -0.1}, ValueError, r"^rho must be in \[0, 1\)"),
        ({"gamma": 0.0}, ValueError, r"^gamma must be in \(0, 1\], got 0$"),
        ({"gamma": 1.2}, ValueError, r"^gamma must be in \(0, 1\]"),
        ({"b": 4}, ValueError, r"^b must be an odd integer >= 3 and <= 201, got 4$"),
        ({"b": 1}, ValueError, r"^b must be an odd integer >= 3"),
        ({"b": 203}, ValueError, r"^b must be an odd integer >= 3 and <= 201, got 203$"),
        ({"b": 3.0}, TypeError, r"^b must be an odd integer"),
        ({"b": True}, TypeError, r"^b must be an odd integer"),
        ({"depth": 61}, ValueError, r"^depth must be an integer in \[0, 60\], got 61$"),
        ({"depth": -1}, ValueError, r"^depth must be an integer in \[0, 60\]"),
        ({"depth": 2.5}, TypeError, r"^depth must be an integer"),
        ({"p0": 1.1}, ValueError, r"^p0 must be in \[0, 1\], got 1\.1$"),
        ({"p0": float("nan")}, ValueError, r"^p0 must be in \[0, 1\], got nan$"),
        ({"correlation": "copula"}, ValueError, r"^correlation must be one of"),
        ({"rho_node": 0.2}, ValueError, r"^rho_node must be 0 when correlation='herding'"),
        ({"correlation": "item", "rho_node": 1.0}, ValueError, r"^rho_node must be in \[0, 1\)"),
        ({"root_channel": 1}, TypeError, r"^root_channel must be True or False"),
    ],
)
def test_phase_params_rejects(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        P.PhaseParams(**kwargs)


def test_function_validation_messages():
    with pytest.raises(ValueError, match=r"^mu must be in \[-1, 1\], got 1\.5$"):
        P.f_b(1.5, 3)
    with pytest.raises(ValueError, match=r"^rho must be in \[0, 1\), got 1\.2$"):
        P.alpha_rho(3, [0.1, 1.2], 0.9)
    with pytest.raises(ValueError, match=r"^b must be an odd integer >= 3, got 4$"):
        P.fixed_point(4, 0.0, 0.9)
    with pytest.raises(ValueError, match=r"^correlation must be one of"):
        P.level_biases("copula", 3, 2, 0.1, 0.9, 0.1)
    with pytest.raises(ValueError, match=r"^method must be one of"):
        P.level_biases("item", 3, 2, 0.1, 0.9, 0.1, method="simpson")
    with pytest.raises(ValueError, match=r"^rho_node must be 0 when correlation='herding'"):
        P.level_biases("herding", 3, 2, 0.1, 0.9, 0.1, rho_node=0.2)
    with pytest.raises(TypeError, match=r"^gamma must be a real number"):
        P.alpha_rho(3, 0.1, "0.9")
    with pytest.raises(ValueError, match=r"^depth must give .*method=.jacobi."):
        P.item_root_bias(3, 12, 0.3, 0.9, 0.1, method="jacobi")
    with pytest.raises(ValueError, match=r"^rho must be >= 1/1025 for method='jacobi'"):
        P.item_root_bias(3, 3, 1e-6, 0.9, 0.1, method="jacobi")
    with pytest.raises(TypeError, match=r"^rho must be a real number"):
        P.alpha_rho(3, np.array([0.1 + 0.2j]), 0.9)
    with pytest.raises(TypeError, match=r"^mu0 must be a real number"):
        P.iterate([True, False], 3, 0.1, 0.9, 2)


# ---------------------------------------------------------------------------
# majority map: exact identities (section 11 items 1, 2, 12)
# ---------------------------------------------------------------------------

FPRIME0_TABLE = [
    (3, "3/2", "1.5"),
    (5, "15/8", "1.875"),
    (7, "35/16", "2.1875"),
    (9, "315/128", "2.4609"),
    (11, "693/256", "2.7070"),
    (13, "3003/1024", "2.9326"),
    (15, "6435/2048", "3.1421"),
    (17, "109395/32768", "3.3385"),
    (19, "230945/65536", "3.5239"),
    (21, "969969/262144", "3.7001"),
]


@pytest.mark.parametrize("b, exact, decimal", FPRIME0_TABLE)
def test_fprime0_reference_table(b, exact, decimal):
    frac = Fraction(exact)
    assert frac == Fraction(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1))
    assert P.f_b_prime0(b) == float(frac)
    assert_printed(P.f_b_prime0(b), decimal)
    assert P.f_b_prime(0.0, b) == pytest.approx(float(frac), rel=1e-15)


@pytest.mark.parametrize("b", range(3, 22, 2))
def test_fprime0_is_derivative_of_binomial_form(b):
    mu = sp.symbols("mu")
    q = (1 + mu) / 2
    binomial_form = (
        2 * sum(sp.binomial(b, j) * q**j * (1 - q) ** (b - j) for j in range((b + 1) // 2, b + 1))
        - 1
    )
    slope = sp.diff(binomial_form, mu).subs(mu, 0)
    assert sp.Rational(slope) == sp.Rational(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1))
    assert P.f_b_prime0(b) == float(slope)


@pytest.mark.parametrize("b", range(3, 16, 2))
def test_integral_identity_symbolic(b):
    mu, u = sp.symbols("mu u")
    q = (1 + mu) / 2
    binomial_form = sp.expand(
        2 * sum(sp.binomial(b, j) * q**j * (1 - q) ** (b - j) for j in range((b + 1) // 2, b + 1))
        - 1
    )
    slope = sp.Rational(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1))
    integral_form = sp.expand(slope * sp.integrate((1 - u**2) ** ((b - 1) // 2), (u, 0, mu)))
    assert sp.simplify(binomial_form - integral_form) == 0
    grid = np.linspace(-1, 1, 41)
    expected = sp.lambdify(mu, binomial_form, "numpy")(grid)
    np.testing.assert_allclose(P.f_b(grid, b), expected, rtol=0, atol=1e-14)


def test_majority_closed_forms_b3_b5_b7():
    mu = np.linspace(-1, 1, 101)
    np.testing.assert_allclose(P.f_b(mu, 3), (3 * mu - mu**3) / 2, atol=1e-15)
    np.testing.assert_allclose(P.f_b(mu, 5), (15 * mu - 10 * mu**3 + 3 * mu**5) / 8, atol=1e-15)
    np.testing.assert_allclose(
        P.f_b(mu, 7), (35 * mu - 35 * mu**3 + 21 * mu**5 - 5 * mu**7) / 16, atol=1e-15
    )


def test_classical_majority_value():
    assert P.f_b(0.2, 3) == pytest.approx(0.296, abs=1e-15)
    assert P.layer_map(0.2, 3, 0.0, 1.0) == pytest.approx(0.296, abs=1e-15)


@pytest.mark.parametrize("b", [1, 3, 5, 15, 17, 21, 51, 101, 201, 1001])
def test_f_b_matches_binomial_tail(b):
    mu = [-1.0, -0.7, -0.01, 0.0, 1e-200, -1e-160, 1e-9, 0.003, 0.1, 0.5, 0.9, 0.999, 1.0]
    with mpmath.workdps(260):  # enough digits to resolve 2 P - 1 at |mu| = 1e-200
        expected = []
        for m in mu:
            q = (1 + mpmath.mpf(m)) / 2
            tail = mpmath.fsum(
                mpmath.binomial(b, j) * q**j * (1 - q) ** (b - j)
                for j in range((b + 1) // 2, b + 1)
            )
            expected.append(float(2 * tail - 1))
    np.testing.assert_allclose(P.f_b(np.array(mu), b), expected, rtol=1e-13, atol=0)


@FAST
@given(b=odd_b, x=st.floats(0.0, 1.0), y=st.floats(0.0, 1.0))
def test_f_b_odd_increasing_concave(b, x, y):
    lo, hi = min(x, y), max(x, y)
    assert P.f_b(-x, b) == -P.f_b(x, b)
    assert P.f_b(lo, b) <= P.f_b(hi, b)
    assert P.f_b_prime(lo, b) >= P.f_b_prime(hi, b)  # f_b'' <= 0 on [0, 1]
    assert P.f_b((lo + hi) / 2, b) >= (P.f_b(lo, b) + P.f_b(hi, b)) / 2 - 1e-15
    assert P.f_b(1.0, b) == pytest.approx(1.0, abs=1e-15)
    assert P.f_b(-1.0, b) == pytest.approx(-1.0, abs=1e-15)


@FAST
@given(b=odd_b, mu=st.floats(-0.95, 0.95))
def test_f_b_prime_is_derivative(b, mu):
    h = 1e-6
    numeric = (majority_ref(mu + h, b) - majority_ref(mu - h, b)) / (2 * h)
    assert P.f_b_prime(mu, b) == pytest.approx(float(numeric), rel=1e-6, abs=1e-8)


def test_fprime0_increases_and_approaches_sqrt_2b_over_pi():
    bs = list(range(3, 402, 2))
    values = [P.f_b_prime0(b) for b in bs]
    assert all(v1 < v2 for v1, v2 in zip(values, values[1:]))
    ratios = [v / math.sqrt(2 * b / math.pi) for v, b in zip(values, bs)]
    assert all(r1 > r2 > 1 for r1, r2 in zip(ratios, ratios[1:]))  # ~ 1 + 1/(4b)
    assert abs(P.f_b_prime0(20001) / math.sqrt(2 * 20001 / math.pi) - 1) < 1e-4


@FAST
@given(b=odd_b, rho=rhos, gamma=gammas, mu=biases)
def test_layer_map_and_derivative(b, rho, gamma, mu):
    assert P.layer_map(mu, b, rho, gamma) == pytest.approx(
        float(layer_ref(mu, b, rho, gamma)), abs=1e-13
    )
    assert P.f_b_rho(mu, b, rho) == pytest.approx(float(layer_ref(mu, b, rho, 1.0)), abs=1e-13)
    h = 1e-6
    m = min(max(mu, -1 + h), 1 - h)
    numeric = (layer_ref(m + h, b, rho, gamma) - layer_ref(m - h, b, rho, gamma)) / (2 * h)
    assert P.layer_map_prime(m, b, rho, gamma) == pytest.approx(float(numeric), rel=1e-6, abs=1e-7)
    assert P.layer_map_prime(0.0, b, rho, gamma) == pytest.approx(
        P.alpha_rho(b, rho, gamma), rel=1e-14
    )


# ---------------------------------------------------------------------------
# gain, exponent, critical surfaces (items 3, 4, 5)
# ---------------------------------------------------------------------------

ALPHA_TABLE = [
    (3, 0.0, ["0.75", "0.90", "1.05", "1.20", "1.35", "1.50"]),
    (3, 0.5, ["0.625", "0.75", "0.875", "1.00", "1.125", "1.25"]),
    (5, 0.2, ["0.85", "1.02", "1.19", "1.36", "1.53", "1.70"]),
    (9, 0.8, ["0.646", "0.775", "0.905", "1.034", "1.163", "1.292"]),
]


@pytest.mark.parametrize("b, rho, row", ALPHA_TABLE)
def test_alpha_reference_table(b, rho, row):
    gammas_ = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    values = P.alpha_rho(b, rho, gammas_)
    assert values.shape == (6,)
    for value, text in zip(values, row):
        assert_printed(value, text)


GAMMA_C_TABLE = [
    (3, ["0.6667", "0.7143", "0.8000", "0.9091"]),
    (5, ["0.5333", "0.5882", "0.6957", "0.8511"]),
    (7, ["0.4571", "0.5128", "0.6275", "0.8081"]),
    (9, ["0.4063", "0.4611", "0.5779", "0.7739"]),
]


@pytest.mark.parametrize("b, row", GAMMA_C_TABLE)
def test_gamma_c_reference_table(b, row):
    for rho, text in zip([0.0, 0.2, 0.5, 0.8], row):
        assert_printed(P.gamma_c(rho, b), text)


RHO_C_TABLE = [
    (3, ["-0.333", "0.143", "0.500", "0.778"]),
    (5, ["0.238", "0.510", "0.714", "0.873"]),
    (9, ["0.544", "0.707", "0.829", "0.924"]),
]


@pytest.mark.parametrize("b, row", RHO_C_TABLE)
def test_rho_c_reference_table(b, row):
    for gamma, text in zip([0.6, 0.7, 0.8, 0.9], row):
        assert_printed(P.rho_c(gamma, b), text)


@FAST
@given(b=odd_b, rho=rhos, g1=gammas, g2=gammas)
def test_alpha_increases_in_gamma_and_b_decreases_in_rho(b, rho, g1, g2):
    lo, hi = min(g1, g2), max(g1, g2)
    assert P.alpha_rho(b, rho, lo) <= P.alpha_rho(b, rho, hi)
    assert P.alpha_rho(b, rho, hi) < P.alpha_rho(b + 2, rho, hi) or rho == 1
    r2 = min(rho + 0.01, 0.999)
    assert P.alpha_rho(b, r2, hi) < P.alpha_rho(b, rho, hi)
    assert P.alpha_rho(b, 1 - 1e-12, hi) == pytest.approx(hi, abs=1e-10)
    assert P.alpha_0(b, hi) == pytest.approx(P.alpha_rho(b, 0.0, hi), rel=1e-15)


@FAST
@given(b=odd_b, rho=rhos, gamma=gammas)
def test_critical_surfaces_give_unit_gain(b, rho, gamma):
    gc = P.gamma_c(rho, b)
    assert P.alpha_rho(b, rho, gc) == pytest.approx(1.0, abs=1e-12)
    rc = P.rho_c(gamma, b)
    if 0 <= rc < 1:
        assert P.alpha_rho(b, rc, gamma) == pytest.approx(1.0, abs=1e-12)
    amplifies = P.alpha_rho(b, rho, gamma) > 1
    assert (gamma > gc) == amplifies or abs(gamma - gc) < 1e-12
    assert (rho < rc) == amplifies or abs(rho - rc) < 1e-12
    s = P.organization_exponent(b, rho, gamma)
    assert (s > 0) == amplifies


@pytest.mark.parametrize(
    "b, rho, gamma, text",
    [(3, 0, 0.9, "0.273"), (3, 0.2, 0.8, "0.103"), (5, 0.3, 0.8, "0.158"), (9, 0, 0.7, "0.248")],
)
def test_organization_exponent_reference(b, rho, gamma, text):
    s = P.organization_exponent(b, rho, gamma)
    assert_printed(s, text)
    # alpha^L = N^s with N = b^L
    assert P.alpha_rho(b, rho, gamma) ** 5 == pytest.approx((b**5) ** s, rel=1e-12)


@pytest.mark.parametrize(
    "b, eps", [(3, Fraction(1, 6)), (5, Fraction(7, 30)), (7, Fraction(19, 70))]
)
def test_evans_schulman_threshold(b, eps):
    e = sp.symbols("e")
    slope = sp.Rational(b * math.comb(b - 1, (b - 1) // 2), 2 ** (b - 1))
    (solution,) = sp.solve(sp.Eq((1 - 2 * e) * slope, 1), e)
    assert Fraction(str(solution)) == eps
    assert P.evans_schulman_epsilon(b) == pytest.approx(float(eps), abs=1e-16)
    assert P.alpha_rho(b, 0.0, 1 - 2 * float(eps)) == pytest.approx(1.0, abs=1e-12)


def test_regime_names():
    assert P.regime(1.2) == "amplifying"
    assert P.regime(0.8) == "washout"
    assert P.regime(1.0 + 1e-13) == "critical"
    assert P.regime(1.0 + 1e-6, tol=1e-5) == "critical"
    assert list(P.regime(np.array([0.5, 1.0, 2.0]))) == ["washout", "critical", "amplifying"]


@FAST
@given(rho=rhos, gamma=st.floats(0.2, 1.0))
def test_b_c_is_the_smallest_amplifying_fan_in(rho, gamma):
    b = P.b_c(gamma, rho, b_max=200001)
    assert b % 2 == 1 and b >= 3
    assert P.alpha_rho(b, rho, gamma) > 1
    if b > 3:
        assert P.alpha_rho(b - 2, rho, gamma) <= 1 + 1e-12


def test_b_c_examples_and_limits():
    assert P.b_c(1.0, 0.5) == 3  # gamma = 1: every b >= 3 amplifies
    assert P.b_c(0.6, 0.0) == 5  # f_3'(0) = 1.5 < 1/0.6 < f_5'(0) = 1.875
    np.testing.assert_array_equal(P.b_c(np.array([1.0, 0.6]), 0.0), [3, 5])
    with pytest.raises(ValueError, match="b_max"):
        P.b_c(0.01, 0.0, b_max=101)


def test_m_c_solves_gamma_equals_gamma_c():
    def gamma_of_m(m):
        return P.gamma_exp_saturation(m, 0.95, 100.0)

    m = P.m_c(gamma_of_m, 0.2, 3, 1.0, 5000.0)
    assert gamma_of_m(m) == pytest.approx(P.gamma_c(0.2, 3), abs=1e-12)
    assert m == pytest.approx(-100 * math.log(1 - (1 / (0.2 + 0.8 * 1.5)) / 0.95), rel=1e-10)
    with pytest.raises(ValueError, match="m_hi must bracket"):
        P.m_c(gamma_of_m, 0.2, 3, 1.0, 10.0)


# ---------------------------------------------------------------------------
# fixed point and dynamics (items 8, 9, 10, 12)
# ---------------------------------------------------------------------------

MU_STAR_TABLE = [
    (3, 0.0, 0.9, "1.35", "0.979908", "0.300"),
    (3, 0.2, 0.8, "1.12", "0.765466", "0.760"),
    (5, 0.3, 0.8, "1.29", "0.870338", "0.519"),
    (7, 0.5, 0.9, "1.434", "0.905377", "0.487"),
    (9, 0.0, 0.7, "1.723", "0.987173", "0.128"),
]


@pytest.mark.parametrize("b, rho, gamma, alpha, mu_star, lam", MU_STAR_TABLE)
def test_fixed_point_reference_table(b, rho, gamma, alpha, mu_star, lam):
    assert_printed(P.alpha_rho(b, rho, gamma), alpha)
    assert_printed(P.fixed_point(b, rho, gamma), mu_star)
    assert_printed(P.contraction_rate(b, rho, gamma), lam)


def test_subcritical_reference_row():
    assert_printed(P.alpha_rho(5, 0.5, 0.6), "0.8625")
    assert P.fixed_point(5, 0.5, 0.6) == 0.0
    assert math.isnan(P.contraction_rate(5, 0.5, 0.6))
    assert P.regime(P.alpha_rho(5, 0.5, 0.6)) == "washout"


def test_subcritical_trajectory():
    path = P.iterate(0.3, 3, 0.5, 0.7, 4)
    for value, text in zip(path, ["0.3", "0.2602", "0.2262", "0.1969", "0.1716"]):
        assert_printed(value, text)
    np.testing.assert_allclose(
        path, [iterate_ref(0.3, 3, 0.5, 0.7, k) for k in range(5)], atol=1e-14
    )


@pytest.mark.parametrize(
    "b, depth, rho, gamma, mu0, text",
    [
        (3, 6, 0.2, 0.9, 0.1, "0.3780"),
        (3, 6, 0.5, 0.7, 0.3, "0.1307"),
        (5, 4, 0.3, 0.8, 0.05, "0.1373"),
    ],
)
def test_herding_recursion_reference_values(b, depth, rho, gamma, mu0, text):
    assert_printed(P.iterate(mu0, b, rho, gamma, depth)[-1], text)
    assert_printed(P.root_bias("herding", b, depth, rho, gamma, mu0), text)


@FAST
@given(b=odd_b, rho=rhos, u=st.floats(1e-3, 1.0))
def test_unique_stable_fixed_point(b, rho, u):
    gamma = gamma_for(b, rho, 1 + 1e-6, 0.999, u)
    assert P.alpha_rho(b, rho, gamma) > 1
    m = P.fixed_point(b, rho, gamma)
    assert 0 < m <= 1
    assert P.layer_map(m, b, rho, gamma) == pytest.approx(m, abs=1e-12)
    lam = P.contraction_rate(b, rho, gamma)
    assert 0 < lam < 1
    assert lam == pytest.approx(P.layer_map_prime(m, b, rho, gamma), rel=1e-12)
    # uniqueness: g(mu) - mu is positive below mu* and negative above it
    grid = np.linspace(0, 1, 401)[1:]
    diff = layer_ref(grid, b, rho, gamma) - grid
    away = np.abs(grid - m) > 1e-6
    assert np.all((diff[away] > 0) == (grid[away] < m))


@MEDIUM
@given(b=odd_b, rho=st.floats(0.0, 0.85), v=st.floats(0.0, 1.0), u=st.floats(0.01, 0.99))
def test_monotone_convergence_from_both_sides(b, rho, v, u):
    gamma = gamma_for(b, rho, 1.05, 0.999, v)
    assert P.alpha_rho(b, rho, gamma) >= 1.05 - 1e-12
    m = P.fixed_point(b, rho, gamma)
    below = P.iterate(u * m, b, rho, gamma, 3000)
    above = P.iterate(m + u * (1 - m), b, rho, gamma, 3000)
    assert np.all(np.diff(below) >= -1e-15) and np.all(below <= m + 1e-12)
    assert np.all(np.diff(above) <= 1e-15) and np.all(above >= m - 1e-12)
    assert below[-1] == pytest.approx(m, abs=1e-9)
    assert above[-1] == pytest.approx(m, abs=1e-9)


@MEDIUM
@given(b=odd_b, rho=rhos, u=st.floats(0.05, 1.0), mu0=st.floats(1e-3, 1.0))
def test_washout_decreases_to_zero(b, rho, u, mu0):
    gamma = gamma_for(b, rho, 0.0, 0.98 / (rho + (1 - rho) * slope0(b)), u)
    alpha = P.alpha_rho(b, rho, gamma)
    assert alpha <= 0.98 + 1e-12
    path = P.iterate(mu0, b, rho, gamma, 400)
    resolved = path[:-1] > 1e-300  # strictly decreasing until it underflows
    assert np.all(np.diff(path)[resolved] < 0) and np.all(np.diff(path) <= 0)
    assert np.all(path[1:] <= alpha ** np.arange(1, 401) * mu0 * (1 + 1e-12) + 1e-300)
    assert path[-1] < 1e-3
    assert P.fixed_point(b, rho, gamma) == 0.0


@pytest.mark.parametrize("b, rho", [(3, 0.0), (3, 0.5), (5, 0.2), (9, 0.7)])
def test_critical_power_law_decay(b, rho):
    gamma = P.gamma_c(rho, b)
    path = P.iterate(0.5, b, rho, gamma, 2000)
    assert np.all(np.diff(path) < 0)
    k = P.cubic_coefficient(b, rho, gamma)
    assert path[-1] * math.sqrt(2000) == pytest.approx(1 / math.sqrt(2 * k), rel=0.02)
    assert P.critical_decay(2000, b, rho, gamma) == pytest.approx(
        1 / math.sqrt(2 * k * 2000), rel=1e-14
    )


def test_critical_decay_example():
    path = P.iterate(0.5, 3, 0.0, 2 / 3, 1000)
    assert P.alpha_rho(3, 0.0, 2 / 3) == pytest.approx(1.0, abs=1e-15)
    assert_printed(path[-1], "0.0576")
    assert_printed(P.critical_decay(1000, 3, 0.0, 2 / 3), "0.0581")
    assert P.critical_decay(0, 3, 0.0, 2 / 3) == math.inf


@FAST
@given(b=st.sampled_from([3, 5, 7, 9, 11, 13, 15, 17, 21]), rho=rhos, gamma=gammas)
def test_cubic_coefficient_is_the_taylor_coefficient(b, rho, gamma):
    # g(mu) = alpha mu - K mu^3 + O(mu^5): read both off the exact polynomial of g
    poly = layer_poly(b, Fraction(rho), Fraction(gamma))
    assert P.alpha_rho(b, rho, gamma) == pytest.approx(float(poly[1]), rel=1e-14)
    assert P.cubic_coefficient(b, rho, gamma) == pytest.approx(-float(poly[3]), rel=1e-13)


@FAST
@given(b=odd_b, rho=rhos, g1=gammas, g2=gammas)
def test_fixed_point_monotone(b, rho, g1, g2):
    lo, hi = min(g1, g2), max(g1, g2)
    assert P.fixed_point(b, rho, lo) <= P.fixed_point(b, rho, hi) + 1e-13
    assert P.fixed_point(b, rho, hi) <= P.fixed_point(b + 2, rho, hi) + 1e-13
    assert P.fixed_point(b, min(rho + 0.02, 0.99), hi) <= P.fixed_point(b, rho, hi) + 1e-13


@FAST
@given(rho=rhos, u=st.floats(0.0, 1.0))
def test_b3_fixed_point_closed_form(rho, u):
    gamma = gamma_for(3, rho, 1 + 1e-9, 1 - 1e-9, u)
    alpha = P.alpha_rho(3, rho, gamma)
    expected = math.sqrt(2 * (alpha - 1) / ((1 - rho) * gamma**3))
    assert P.fixed_point(3, rho, gamma) == pytest.approx(expected, rel=1e-11)
    assert P.near_critical_fixed_point(3, rho, gamma) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("b, rho", [(3, 0.0), (5, 0.0), (5, 0.3), (9, 0.5), (21, 0.1), (51, 0.0)])
def test_near_critical_scaling(b, rho):
    gamma = 1.01 / (rho + (1 - rho) * P.f_b_prime0(b))  # alpha - 1 = 0.01
    assert P.alpha_rho(b, rho, gamma) == pytest.approx(1.01, abs=1e-14)
    ratio = P.fixed_point(b, rho, gamma) ** 2 / 0.01
    constant = 3 / ((1 - rho) * P.f_b_prime0(b) * (b - 1) / 2 * gamma**3)
    assert ratio == pytest.approx(constant, rel=0.05)
    assert P.near_critical_fixed_point(b, rho, gamma) ** 2 / 0.01 == pytest.approx(
        constant, rel=1e-12
    )
    # mu* -> 0 as alpha decreases to 1
    tiny = P.fixed_point(b, rho, (1 + 1e-8) / (rho + (1 - rho) * P.f_b_prime0(b)))
    assert 0 < tiny < 1e-3
    assert P.near_critical_fixed_point(b, rho, 0.5 * gamma) == 0.0


def test_fixed_point_at_perfect_fidelity_and_vectorised():
    assert P.fixed_point(3, 0.4, 1.0) == 1.0
    assert P.contraction_rate(3, 0.4, 1.0) == pytest.approx(0.4, abs=1e-15)
    grid = P.fixed_point(5, np.array([[0.0], [0.5]]), np.array([0.5, 0.8, 0.95]))
    assert grid.shape == (2, 3)
    for i, rho in enumerate([0.0, 0.5]):
        for j, gamma in enumerate([0.5, 0.8, 0.95]):
            assert grid[i, j] == P.fixed_point(5, rho, gamma)


@FAST
@given(b=odd_b, rho=rhos, gamma=gammas, mu0=biases)
def test_symmetry_of_the_recursion(b, rho, gamma, mu0):
    plus = P.iterate(mu0, b, rho, gamma, 6)
    minus = P.iterate(-mu0, b, rho, gamma, 6)
    np.testing.assert_array_equal(minus, -plus)
    expected = [iterate_ref(mu0, b, rho, gamma, k) for k in range(7)]
    np.testing.assert_allclose(plus, expected, rtol=1e-13, atol=ref_tol(b, rho, gamma, 6))


# ---------------------------------------------------------------------------
# clipped predictor, mixing depth (item 11)
# ---------------------------------------------------------------------------


def test_clipped_predictor_example():
    exact = P.iterate(0.02, 3, 0.2, 0.9, 12)[[0, 4, 8, 12]]
    clipped = P.clipped_predictor(0.02, 3, 0.2, 0.9, 12)[[0, 4, 8, 12]]
    for value, text in zip(exact, ["0.02", "0.05037", "0.12627", "0.30793"]):
        assert_printed(value, text)
    for value, text in zip(clipped, ["0.02", "0.05041", "0.12706", "0.32024"]):
        assert_printed(value, text)
    assert_printed(P.alpha_rho(3, 0.2, 0.9), "1.26")
    assert_printed(P.fixed_point(3, 0.2, 0.9), "0.94426")
    raw = math.log(P.fixed_point(3, 0.2, 0.9) / 0.02) / math.log(P.alpha_rho(3, 0.2, 0.9))
    assert_printed(raw, "16.7")
    assert P.mixing_depth(0.02, 3, 0.2, 0.9) == 17
    # the clip binds from the mixing depth on: the kink of the predictor
    long = P.clipped_predictor(0.02, 3, 0.2, 0.9, 40)
    m = P.fixed_point(3, 0.2, 0.9)
    assert np.all(long[:17] < m) and np.all(long[17:] == m)
    assert P.iterate(0.02, 3, 0.2, 0.9, 40)[-1] == pytest.approx(m, abs=1e-6)
    assert P.clipped_predictor(0.1, 3, 0.0, 1.0, 5000)[-1] == 1.0  # alpha^L overflows quietly


@FAST
@given(b=odd_b, rho=rhos, gamma=gammas, u=st.floats(1e-4, 1.0))
def test_clipped_predictor_is_an_upper_envelope(b, rho, gamma, u):
    alpha = P.alpha_rho(b, rho, gamma)
    m = P.fixed_point(b, rho, gamma)
    mu0 = u * m if alpha > 1 else u
    exact = P.iterate(mu0, b, rho, gamma, 30)
    clipped = P.clipped_predictor(mu0, b, rho, gamma, 30)
    assert clipped[0] == exact[0] == mu0
    assert np.all(clipped >= exact * (1 - 1e-12))
    np.testing.assert_array_equal(P.clipped_predictor(-mu0, b, rho, gamma, 30), -clipped)


@pytest.mark.parametrize("b, rho, gamma", [(3, 0.2, 0.9), (5, 0.0, 0.7), (9, 0.5, 0.95)])
def test_clipped_predictor_small_signal_limit(b, rho, gamma):
    errors = []
    for mu0 in [1e-2, 1e-3, 1e-4, 1e-5]:
        exact = P.iterate(mu0, b, rho, gamma, 5)[-1]
        clipped = P.clipped_predictor(mu0, b, rho, gamma, 5)[-1]
        errors.append((clipped - exact) / exact)
    assert all(e1 > e2 > 0 for e1, e2 in zip(errors, errors[1:]))
    assert errors[-1] < 1e-7


def test_mixing_and_delta_depth():
    assert P.mixing_depth(0.99, 3, 0.2, 0.9) == 0
    assert math.isnan(P.mixing_depth(0.1, 3, 0.5, 0.7))
    lam = P.contraction_rate(3, 0.2, 0.8)
    assert P.delta_depth(1e-6, 3, 0.2, 0.8) == math.ceil(math.log(1e6) / math.log(1 / lam))
    assert P.delta_depth(1e-6, 3, 0.0, 1.0) == 0  # lambda* = 0 at gamma = 1, rho = 0
    assert math.isnan(P.delta_depth(1e-3, 5, 0.5, 0.6))
    # the predicted number of levels actually reaches the tolerance from mu* - 0.1 within a factor
    m = P.fixed_point(3, 0.2, 0.8)
    levels = P.delta_depth(1e-8, 3, 0.2, 0.8)
    path = P.iterate(m - 0.01, 3, 0.2, 0.8, levels + 10)
    assert abs(path[-1] - m) < 1e-8


# ---------------------------------------------------------------------------
# budget: allocation, thresholds, fan-in (items 6, 13, 14)
# ---------------------------------------------------------------------------


def test_c0_edges_and_cost():
    assert P.c0(256, 3) == 2 * 256 * 3 / 2
    np.testing.assert_allclose(P.c0(np.array([100, 200]), 5), [250.0, 500.0])
    for b in [3, 5, 7]:
        for depth in range(6):
            n = b**depth
            edges = P.edge_count(n, b)
            assert isinstance(edges, int)
            assert edges == sum(b**level for level in range(1, depth + 1))
            assert P.tree_cost(n, 10.0, 64, b) == pytest.approx(n * 10 + 2 * 64 * edges, rel=1e-14)
            cost_per_leaf = 2 * 64 * b / (b - 1)
            assert P.tree_cost(n, 10.0, 64, b, exact=False) == pytest.approx(
                n * (10 + cost_per_leaf)
            )
    with pytest.raises(ValueError, match="n_leaves"):
        P.edge_count(4, 3)


@FAST
@given(context=st.integers(1, 10**6), m=st.integers(1, 5000), w0=st.integers(0, 10**4))
def test_fan_in_caps(context, m, w0):
    b = P.fan_in_max_tree(context, m, w0)
    if context - w0 >= m:
        assert b % 2 == 1 and b * m + w0 <= context < (b + 2) * m + w0
    else:
        assert b == 0
    n = P.fan_in_max_star(context, m)
    assert n * m <= context < (n + 1) * m
    assert P.fan_in_max_star(float(context), float(m)) == n


def test_fan_in_examples():
    assert P.fan_in_max_tree(128000, 256) == 499
    assert P.fan_in_max_tree(128000, 256, overhead=1000) == 495
    assert P.fan_in_max_star(128000, 256) == 500


@FAST
@given(
    beta=st.floats(0.05, 0.9),
    gap=st.floats(0.05, 1.5),
    cost=st.floats(0.1, 100.0),
    budget_factor=st.floats(2.0, 1e4),
)
def test_x_star_maximizes_budgeted_objective(beta, gap, cost, budget_factor):
    t = beta + gap
    budget = budget_factor * cost

    def neg_log_phi(u):  # u = ln x
        x = math.exp(u)
        return -(beta * u + t * math.log(budget / (x + cost)))

    start = math.log(cost)
    found = optimize.minimize_scalar(neg_log_phi, bracket=(start - 30, start + 30), tol=1e-12)
    x_num = math.exp(found.x)
    x_opt = P.x_star(beta, t, cost)
    assert -neg_log_phi(math.log(x_opt)) >= -found.fun - 1e-8 * abs(found.fun) - 1e-12
    assert x_opt == pytest.approx(x_num, rel=1e-5)
    assert P.n_star(budget, beta, t, cost) == pytest.approx(budget / (x_opt + cost), rel=1e-12)


@FAST
@given(
    beta=st.floats(0.05, 0.9),
    gap=st.floats(0.02, 2.0),
    cost=st.floats(0.1, 100.0),
    k=st.floats(0.2, 5.0),
)
def test_b_crit_is_the_unique_break_even_budget(beta, gap, cost, k):
    t = beta + gap

    def advantage(log_b):  # ln[x*^beta N*^t] - ln[B^beta], increasing in B
        budget = math.exp(log_b)
        return (
            beta * math.log(P.x_star(beta, t, cost))
            + t * math.log(P.n_star(budget, beta, t, cost))
            - beta * math.log(budget)
        )

    root = optimize.brentq(
        advantage, math.log(cost) - 50, math.log(cost) + 200, xtol=1e-14, rtol=1e-15
    )
    assert P.b_crit(beta, t, cost) == pytest.approx(math.exp(root), rel=1e-9)
    assert advantage(root - 1) < 0 < advantage(root + 1)
    assert P.b_crit(k * beta, k * t, cost) == pytest.approx(P.b_crit(beta, t, cost), rel=1e-12)
    r = beta / t
    at = P.n_star(P.b_crit(beta, t, cost), beta, t, cost)
    assert at == pytest.approx(r ** (-r / (1 - r)), rel=1e-12)


@pytest.mark.parametrize(
    "r, text",
    list(zip(
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        ["1.435", "1.869", "2.393", "3.070", "4.000", "5.379", "7.662", "12.21", "25.81"],
    )),
)
def test_b_crit_reference_table(r, text):
    assert_printed(P.b_crit(r, 1.0, 1.0), text)
    assert_printed(P.b_crit(0.5 * r, 0.5, 1.0), text)


def test_b_crit_identity_example():
    budget = P.b_crit(0.3, 1.0, 1.0)
    lhs = P.x_star(0.3, 1.0, 1.0) ** 0.3 * P.n_star(budget, 0.3, 1.0, 1.0)
    assert_printed(lhs, "1.2993")
    assert_printed(budget**0.3, "1.2993")
    assert lhs == pytest.approx(budget**0.3, rel=1e-12)
    assert P.n_star(P.b_crit(0.5, 1.0, 3.0), 0.5, 1.0, 3.0) == pytest.approx(2.0, rel=1e-14)


def test_no_interior_optimum_when_t_le_beta():
    assert P.x_star(0.5, 0.4, 10.0) == math.inf
    assert P.n_star(1000.0, 0.5, 0.5, 10.0) == 1.0
    assert (
        P.n_star(1000.0, 0.3, 0.5, 0.0) == math.inf
    )  # free communication: as many leaves as possible
    assert P.x_star(0.3, 0.5, 0.0) == 0.0
    assert P.b_crit(0.5, 0.3, 10.0) == math.inf
    np.testing.assert_array_equal(P.synergy(np.array([0.1, 0.3]), 0.2), [False, True])
    assert P.synergy(0.2, 0.2) is False


@MEDIUM
@given(b=small_odd_b, rho=st.floats(0.0, 0.5), gamma=st.floats(0.5, 1.0), beta=st.floats(0.05, 0.9))
def test_synergy_sign_small_signal(b, rho, gamma, beta):
    s = P.organization_exponent(b, rho, gamma)
    assume(abs(s - beta) > 0.01)
    budget, kappa = (
        1e6,
        1e-12,
    )  # c0 = 0: N x = B; tiny kappa keeps every level in the small-signal regime

    def log_root(depth):
        x = budget / b**depth
        return math.log(P.iterate(kappa * x**beta, b, rho, gamma, depth)[-1])

    slope = (log_root(4) - log_root(3)) / math.log(b)  # d ln mu_root / d ln N
    assert (slope > 0) == (s > beta) == P.synergy(s, beta)
    assert slope == pytest.approx(s - beta, abs=1e-9)


def test_budget_analysis_report():
    report = P.budget_analysis(3, 0.2, 0.9, 0.1, 1e6, 256)
    assert set(report) == {
        "s",
        "t",
        "beta",
        "synergy",
        "c0",
        "x_star",
        "n_star",
        "depth_star",
        "b_crit",
        "feasible",
        "b_max",
        "n_max_star",
        "scale_out_wins",
    }
    s = math.log(1.26) / math.log(3)
    assert report["s"] == pytest.approx(s, rel=1e-14) and report["t"] == report["s"]
    assert report["synergy"] is True and report["c0"] == 768.0
    assert report["x_star"] == pytest.approx(0.1 * 768 / (s - 0.1), rel=1e-12)
    assert report["n_star"] == pytest.approx(1e6 * (s - 0.1) / (s * 768), rel=1e-12)
    assert 3 ** report["depth_star"] == pytest.approx(report["n_star"], rel=1e-12)
    assert report["feasible"] is True and report["b_max"] == 499 and report["n_max_star"] == 500
    assert report["scale_out_wins"] is True
    small = P.budget_analysis(3, 0.2, 0.9, 0.1, 1000, 256)
    assert small["scale_out_wins"] is False and small["b_crit"] > 1000
    cut = P.budget_analysis(3, 0.6, 0.6, 0.3, 1e6, 256, context=700, t=1.0)
    assert cut["feasible"] is False and cut["t"] == 1.0 and cut["synergy"] is False
    assert cut["scale_out_wins"] is False


# ---------------------------------------------------------------------------
# channels (docs/models/phase.md (31), (32))
# ---------------------------------------------------------------------------


def test_channel_families():
    m = np.array([0.0, 50.0, 100.0, 1000.0])
    np.testing.assert_allclose(
        P.gamma_exp_saturation(m, 0.9, 100.0), 0.9 * (1 - np.exp(-m / 100)), rtol=1e-14
    )
    assert P.gamma_logistic(64.0, 0.8, 64.0, 2.0) == pytest.approx(0.4, rel=1e-15)
    assert P.gamma_logistic(0.0, 0.8, 64.0, 2.0) == 0.0
    values = P.gamma_logistic(np.array([8, 16, 32, 64, 1e6]), 0.95, 64.0, 1.5)
    assert np.all(np.diff(values) > 0) and values[-1] == pytest.approx(0.95, rel=1e-6)
    assert P.sigma2_exp(0.0, 2.0, 0.1, 50.0) == pytest.approx(2.0)
    assert P.sigma2_exp(1e6, 2.0, 0.1, 50.0) == pytest.approx(0.1)
    assert P.sigma2_power(100.0, 4.0, 0.5) == pytest.approx(0.4)


@FAST
@given(data=st.lists(st.tuples(st.integers(1, 40), st.floats(-0.2, 1.2)), min_size=1, max_size=25))
def test_gamma_isotonic_fit(data):
    m_obs = np.array([16.0 * k for k, _ in data])
    g_obs = np.array([g for _, g in data])
    fit = P.gamma_isotonic(m_obs, g_obs)
    knots = np.unique(m_obs)
    fitted = fit(knots)
    assert np.all(np.diff(np.atleast_1d(fitted)) >= -1e-12)
    assert np.all((0 <= fitted) & (fitted <= 1))
    # least squares among non-decreasing fits (scipy's PAVA), then clipped
    means = np.array([g_obs[m_obs == k].mean() for k in knots])
    counts = np.array([(m_obs == k).sum() for k in knots], dtype=float)
    expected = np.clip(optimize.isotonic_regression(means, weights=counts).x, 0, 1)
    np.testing.assert_allclose(np.atleast_1d(fitted), expected, atol=1e-12)
    assert fit(0.5) == pytest.approx(expected[0], abs=1e-12)
    assert fit(1e6) == pytest.approx(expected[-1], abs=1e-12)


def test_gamma_isotonic_keeps_monotone_data():
    fit = P.gamma_isotonic([16, 32, 64, 128], [0.2, 0.5, 0.7, 0.9])
    assert fit(48.0) == pytest.approx(0.6)
    np.testing.assert_allclose(fit(np.array([16, 128])), [0.2, 0.9])


# ---------------------------------------------------------------------------
# continuous warm-up (items 7, 21)
# ---------------------------------------------------------------------------


def test_continuous_tree_reference_table():
    texts = ["1", "0.56667", "0.33556", "0.21230", "0.14656", "0.11150", "0.09280", "0.08283"]
    values = P.tree_risk(np.arange(8), 1.0, 3, 0.3, 0.1)
    for value, text in zip(values, texts):
        assert_printed(value, text)
    assert_printed(P.v_star(3, 0.3, 0.1), "0.071429")


@pytest.mark.parametrize(
    "b, row",
    [
        (3, ["0.5", "0.625", "1.0", "2.5"]),
        (5, ["0.25", "0.3125", "0.5", "1.25"]),
        (9, ["0.125", "0.156", "0.25", "0.625"]),
    ],
)
def test_v_star_reference_table(b, row):
    for rho, text in zip([0.0, 0.2, 0.5, 0.8], row):
        assert_printed(P.v_star(b, rho, 1.0), text)


@FAST
@given(b=st.integers(2, 9), rho=rhos, v0=st.floats(0.0, 5.0), sigma2=st.floats(0.0, 2.0))
def test_tree_risk_recursion_and_floor(b, rho, v0, sigma2):
    lam = P.tree_lambda(b, rho)
    assert lam == pytest.approx(rho + (1 - rho) / b, rel=1e-15)
    v, iterated = v0, [v0]
    for _ in range(40):
        v = lam * v + sigma2 / b
        iterated.append(v)
    closed = P.tree_risk(np.arange(41), v0, b, rho, sigma2)
    np.testing.assert_allclose(closed, iterated, rtol=1e-12, atol=1e-12)
    floor = P.v_star(b, rho, sigma2)
    assert floor == pytest.approx(sigma2 / ((b - 1) * (1 - rho)), rel=1e-15)
    assert P.tree_risk(2000, v0, b, rho, sigma2) == pytest.approx(floor, rel=1e-9, abs=1e-12)
    gaps = np.abs(closed - floor)
    assert np.all(np.diff(gaps) <= 1e-15)
    assert np.all((closed - floor) * np.sign(v0 - floor) >= -1e-15)  # never overshoots the floor


@pytest.mark.parametrize("b, depth", [(3, 1), (3, 2), (2, 3), (3, 4)])
def test_global_shock_tree_against_explicit_covariance(b, depth):
    weights, n_leaves = linear_tree_root(b, depth)
    for rho, v0, sigma2 in [(0.3, 1.0, 0.1), (0.0, 2.0, 0.5), (0.8, 0.5, 0.0)]:
        expected = variance_of(weights, n_leaves, v0, rho, sigma2)
        assert P.tree_risk_global_shock(depth, v0, b, rho, sigma2) == pytest.approx(
            expected, rel=1e-12
        )


def test_global_shock_reference_and_floor():
    assert_printed(P.tree_risk_global_shock(4, 1.0, 3, 0.3, 0.1), "0.358025")
    assert P.tree_risk_global_shock(200, 1.0, 3, 0.3, 0.1) == pytest.approx(
        0.3 + 0.1 / 2, rel=1e-14
    )


@FAST
@given(b=st.integers(2, 9), rho=rhos, v0=st.floats(0.0, 5.0), sigma2=st.floats(0.0, 2.0))
def test_continuous_models_coincide_at_one_level(b, rho, v0, sigma2):
    star = P.star_risk(b, v0, rho, sigma2)
    assert P.tree_risk(1, v0, b, rho, sigma2) == pytest.approx(star, rel=1e-12, abs=1e-15)
    assert P.tree_risk_global_shock(1, v0, b, rho, sigma2) == pytest.approx(
        star, rel=1e-12, abs=1e-15
    )
    assert P.tree_risk(0, v0, b, rho, sigma2) == v0


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_star_risk_against_explicit_covariance(n):
    weights, n_leaves = linear_tree_root(n, 1)
    for rho, v, sigma2 in [(0.3, 1.0, 0.1), (0.0, 2.0, 0.5)]:
        assert P.star_risk(n, v, rho, sigma2) == pytest.approx(
            variance_of(weights, n_leaves, v, rho, sigma2), rel=1e-12
        )


def test_budgeted_star_reference():
    assert P.budgeted_star_optimum(0.1, 0.5) == pytest.approx(9.0, rel=1e-14)
    assert P.budgeted_star_optimum(0.0, 0.5) == math.inf
    n = np.arange(1, 40)
    risk = P.budgeted_star_risk(n, 1.0, 1000.0, 0.5, 0.1, 0.0)
    assert n[np.argmin(risk)] == 9
    independent = P.budgeted_star_risk(n, 1.0, 1000.0, 0.5, 0.0, 0.0)
    assert np.all(np.diff(independent) < 0)  # context saturation: keeps falling
    assert P.budgeted_star_risk(4.0, 2.0, 100.0, 0.5, 0.3, 0.2) == pytest.approx(
        P.star_risk(4.0, 2.0 * (100.0 / 4) ** -0.5, 0.3, 0.2), rel=1e-14
    )


@FAST
@given(rho=st.floats(0.01, 0.95), beta=st.floats(0.05, 0.95))
def test_budgeted_star_optimum_matches_minimizer(rho, beta):
    n_opt = P.budgeted_star_optimum(rho, beta)
    assume(1.5 < n_opt < 1e6)
    found = optimize.minimize_scalar(
        lambda u: P.budgeted_star_risk(math.exp(u), 1.0, 1000.0, beta, rho, 0.0),
        bounds=(0.0, math.log(1e7)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert math.log(n_opt) == pytest.approx(found.x, abs=1e-4)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 12])
def test_running_chain_against_explicit_recursion(k):
    # coefficients over (e_1..e_k, n_2..n_k) of M_j = [(j-1)(M_{j-1} + n_j) + e_j] / j
    size = 2 * k - 1
    state = np.zeros(size)
    state[0] = 1.0
    for j in range(2, k + 1):
        message = state.copy()
        message[k + j - 2] += 1.0
        state = (j - 1) * message / j
        state[j - 1] += 1.0 / j
    for rho, v, sigma2 in [(0.3, 1.0, 0.1), (0.0, 2.0, 0.5), (0.7, 0.4, 0.0)]:
        expected = variance_of(state, k, v, rho, sigma2)
        assert P.chain_risk_running(k, v, rho, sigma2) == pytest.approx(expected, rel=1e-12)
    assert P.chain_risk_relay(k, 1.0, 0.1) == pytest.approx(1.0 + 0.1 * k)


# ---------------------------------------------------------------------------
# correlation models (docs/models/phase.md (23)-(29))
# ---------------------------------------------------------------------------

FINITE_L_TABLE = [
    (3, 4, 0.2, 0.9, 0.1, ("2.2", "1.8"), "1.26", "1.35", "0.15600", "0.27684", "0.24685"),
    (3, 4, 0.5, 0.9, 0.1, ("0.55", "0.45"), "1.125", "1.35", "0.11196", "0.20978", "0.15867"),
    (3, 6, 0.3, 1.0, 0.1, ("1.2833", "1.05"), "1.35", "1.5", "0.14439", "0.62162", "0.54452"),
    (5, 3, 0.3, 0.8, 0.05, ("1.225", "1.1083"), "1.29", "1.5", "0.06717", "0.13177", "0.10683"),
    (3, 5, 0.5, 0.7, 0.3, ("0.65", "0.35"), "0.875", "1.05", "0.22437", "0.27967", "0.14974"),
]


@pytest.mark.parametrize(
    "b, depth, rho, gamma, mu0, ac, a_rho, a_0, item, shock, herding", FINITE_L_TABLE
)
def test_finite_depth_reference_table(
    b, depth, rho, gamma, mu0, ac, a_rho, a_0, item, shock, herding
):
    a, c = P.beta_params(mu0, rho)
    assert_printed(a, ac[0])
    assert_printed(c, ac[1])
    assert_printed(P.alpha_rho(b, rho, gamma), a_rho)
    assert_printed(P.alpha_0(b, gamma), a_0)
    assert_printed(P.root_bias("item", b, depth, rho, gamma, mu0), item)
    assert_printed(P.root_bias("shock", b, depth, rho, gamma, mu0), shock)
    assert_printed(P.root_bias("global_shock", b, depth, rho, gamma, mu0), shock)
    assert_printed(P.root_bias("herding", b, depth, rho, gamma, mu0), herding)


LIMIT_TABLE = [
    (3, 0.9, 0.3, 0.1, "1.35", "1.215", "0.979908", "0.57251", "0.14210", "0.715333", "0.917955"),
    (3, 0.75, 0.5, 0.1, "1.125", "0.9375", "0.769800", "0.55822", "0.08964", "0.423390", "0"),
    (5, 0.8, 0.2, 0.05, "1.5", "1.36", "0.978339", "0.54424", "0.08656", "0.792455", "0.915388"),
    (3, 1.0, 0.5, 0.2, "1.5", "1.25", "1", "0.61591", "0.23182", "0.6", "1"),
    (3, 0.6, 0.5, 0.1, "0.9", "0.75", "0", "0.55822", "0", "0", "0"),
]


@pytest.mark.parametrize(
    "b, gamma, rho, mu0, a_0, a_rho, star0, p_half, item, shock, herding", LIMIT_TABLE
)
def test_limit_reference_table(b, gamma, rho, mu0, a_0, a_rho, star0, p_half, item, shock, herding):
    assert_printed(P.alpha_0(b, gamma), a_0)
    assert_printed(P.alpha_rho(b, rho, gamma), a_rho)
    assert_printed(P.fixed_point(b, 0.0, gamma), star0)
    a, c = P.beta_params(mu0, rho)
    assert_printed(1 - special.betainc(a, c, 0.5), p_half)
    assert_printed(P.limit_bias("item", b, rho, gamma, mu0), item)
    assert_printed(P.limit_bias("shock", b, rho, gamma, mu0), shock)
    assert_printed(P.limit_bias("herding", b, rho, gamma, mu0), herding)
    if P.alpha_0(b, gamma) > 1:  # item model at L = 40 within 1e-4 of its limit
        deep = P.item_root_bias(b, 40, rho, gamma, mu0)
        assert deep == pytest.approx(P.limit_bias("item", b, rho, gamma, mu0), abs=1e-4)


@pytest.mark.parametrize(
    "n, rho, gamma, mu0, item, shock, herding",
    [
        (5, 0.3, 0.8, 0.1, "0.11554", "0.13404", "0.12855"),
        (9, 0.5, 0.9, 0.2, "0.22386", "0.31218", "0.30219"),
    ],
)
def test_star_reference_table(n, rho, gamma, mu0, item, shock, herding):
    assert_printed(P.star_bias("item", n, rho, gamma, mu0), item)
    assert_printed(P.star_bias("shock", n, rho, gamma, mu0), shock)
    assert_printed(P.star_bias("herding", n, rho, gamma, mu0), herding)
    # a star of N = b is one level of the tree
    assert P.star_bias("item", n, rho, gamma, mu0) == pytest.approx(
        P.root_bias("item", n, 1, rho, gamma, mu0), abs=1e-12
    )


ITEM_VECTOR_GAMMA1 = Fraction(514592838229276613, 3920384000000000000)


def test_item_exact_test_vectors():
    rho, mu_bar = Fraction(3, 10), Fraction(1, 10)
    exact1 = item_exact(3, 2, rho, Fraction(1), mu_bar)
    assert exact1 == ITEM_VECTOR_GAMMA1
    exact09 = item_exact(3, 2, rho, Fraction(9, 10), mu_bar)
    assert_printed(float(exact09), "0.1220100432")
    for method, tol in [("quad", 1e-9), ("jacobi", 1e-12), ("midpoint", 1e-4)]:
        assert P.item_root_bias(3, 2, 0.3, 1.0, 0.1, method=method) == pytest.approx(
            float(exact1), abs=tol
        )
        assert P.item_root_bias(3, 2, 0.3, 0.9, 0.1, method=method) == pytest.approx(
            float(exact09), abs=tol
        )
    assert_printed(P.item_root_bias(3, 2, 0.3, 1.0, 0.1), "0.1312608250")


@pytest.mark.parametrize(
    "b, rho, mu0, text",
    [(3, 0.2, 0.1, "0.1264"), (3, 0.5, 0.3, "0.32275"), (5, 0.5, 0.3, "0.3303513438")],
)
def test_item_one_level_reference_values(b, rho, mu0, text):
    assert_printed(P.item_root_bias(b, 1, rho, 1.0, mu0), text)


@MEDIUM
@given(b=odd_b, rho=st.floats(0.01, 0.95), mu0=st.floats(-0.95, 0.95))
def test_item_one_level_is_beta_binomial(b, rho, mu0):
    a, c = P.beta_params(mu0, rho)
    expected = 2 * stats.betabinom.sf((b - 1) // 2, b, a, c) - 1
    assert P.item_root_bias(b, 1, rho, 1.0, mu0) == pytest.approx(expected, abs=1e-9)
    assert P.star_bias("item", b, rho, 1.0, mu0) == pytest.approx(expected, abs=1e-9)


def test_item_b3_slope_at_zero():
    m, r = sp.symbols("m r", positive=True)
    p_bar = (1 + m) / 2
    a, c = p_bar * (1 - r) / r, (1 - p_bar) * (1 - r) / r
    # E[f_3(2p - 1)] from the moments E[p^k] of Beta(a, c)
    moments = [sp.Integer(1)]
    for k in range(1, 4):
        moments.append(moments[-1] * (a + k - 1) / (a + c + k - 1))
    p = sp.Symbol("p")
    x = 2 * p - 1
    poly = sp.Poly(sp.expand(sp.Rational(3, 2) * x - sp.Rational(1, 2) * x**3), p)  # f_3(2p - 1)
    expectation = sum(coef * moments[k] for (k,), coef in poly.terms())
    slope = sp.simplify(sp.diff(expectation, m).subs(m, 0))
    assert sp.simplify(slope - (r**2 + 3) / (2 * (1 + r))) == 0
    for rho in [0.1, 0.5, 0.9]:
        h = 1e-5
        numeric = (P.item_root_bias(3, 1, rho, 1.0, h) - P.item_root_bias(3, 1, rho, 1.0, -h)) / (
            2 * h
        )
        assert numeric == pytest.approx((rho**2 + 3) / (2 * (1 + rho)), rel=1e-7)
    assert (0.5**2 + 3) / (2 * 1.5) == pytest.approx(13 / 12)


EXACT_CASES = [(3, 1), (3, 2), (3, 3), (5, 1), (5, 2), (7, 1), (9, 1), (27, 1)]


@SLOWISH
@given(
    case=st.sampled_from(EXACT_CASES),
    rho_num=st.integers(1, 19),
    gamma_num=st.integers(5, 20),
    mu_num=st.integers(-18, 18),
    node_num=st.sampled_from([0, 0, 3]),
)
def test_item_quadrature_against_exact_beta_moments(case, rho_num, gamma_num, mu_num, node_num):
    b, depth = case
    rho, gamma, mu_bar = Fraction(rho_num, 20), Fraction(gamma_num, 20), Fraction(mu_num, 20)
    rho_node = Fraction(node_num, 10)
    exact = float(item_exact(b, depth, rho, gamma, mu_bar, rho_node))
    args = (b, depth, float(rho), float(gamma), float(mu_bar), float(rho_node))
    assert P.item_root_bias(*args, method="quad") == pytest.approx(exact, abs=1e-9)
    # Gauss-Jacobi is exact in exact arithmetic; its nodes and weights carry rounding
    # of up to ~1e-11 for the strongly singular weights (a or c near 0) drawn here
    assert P.item_root_bias(*args, method="jacobi") == pytest.approx(exact, abs=1e-10)
    assert P.item_root_bias(*args, method="midpoint") == pytest.approx(exact, abs=2e-4)
    levels = P.level_biases("item", b, depth, *args[2:5], rho_node=args[5], method="jacobi")
    assert levels[-1] == pytest.approx(exact, abs=1e-10)


@pytest.mark.parametrize(
    "depth, text",
    [(1, "0.08098"), (5, "0.04476"), (10, "0.02482"), (20, "0.00843"), (40, "0.00102")],
)
def test_item_decay_reference(depth, text):
    assert_printed(P.alpha_0(3, 0.6), "0.9")
    assert_printed(P.item_root_bias(3, depth, 0.5, 0.6, 0.1), text)


def test_composition_with_node_herding_reference():
    assert_printed(P.level_biases("item", 3, 4, 0.3, 0.9, 0.1, rho_node=0.2)[-1], "0.12502")
    exact = item_exact(3, 4, Fraction(3, 10), Fraction(9, 10), Fraction(1, 10), Fraction(2, 10))
    assert P.item_root_bias(3, 4, 0.3, 0.9, 0.1, rho_node=0.2) == pytest.approx(
        float(exact), abs=1e-9
    )


@MEDIUM
@given(
    b=small_odd_b,
    depth=st.integers(0, 6),
    gamma=gammas,
    mu0=biases,
    rho_node=st.sampled_from([0.0, 0.3]),
)
def test_all_models_coincide_without_correlation(b, depth, gamma, mu0, rho_node):
    reference = [iterate_ref(mu0, b, rho_node, gamma, k) for k in range(depth + 1)]
    tol = ref_tol(b, rho_node, gamma, depth)
    herding = P.level_biases("herding", b, depth, rho_node, gamma, mu0)
    item = P.level_biases("item", b, depth, 0.0, gamma, mu0, rho_node=rho_node)
    shock = P.level_biases("shock", b, depth, 0.0, gamma, mu0, rho_node=rho_node)
    for values in (herding, item, shock):
        np.testing.assert_allclose(values, reference, rtol=1e-13, atol=tol)


@MEDIUM
@given(
    b=small_odd_b,
    rho=rhos,
    gamma=gammas,
    mu0=biases,
    corr=st.sampled_from(["herding", "item", "shock"]),
)
def test_depth_zero_is_the_leaf_bias(b, rho, gamma, mu0, corr):
    assert P.level_biases(corr, b, 0, rho, gamma, mu0)[0] == mu0
    assert P.root_bias(corr, b, 0, rho, gamma, mu0) == mu0


@MEDIUM
@given(
    b=small_odd_b,
    depth=st.integers(1, 5),
    rho=rhos,
    gamma=gammas,
    mu0=st.floats(-0.95, 0.95),
    corr=st.sampled_from(["herding", "item", "shock"]),
)
def test_models_are_odd_in_the_leaf_bias(b, depth, rho, gamma, mu0, corr):
    plus = P.level_biases(corr, b, depth, rho, gamma, mu0)
    minus = P.level_biases(corr, b, depth, rho, gamma, -mu0)
    np.testing.assert_allclose(minus, -plus, atol=1e-10)


@MEDIUM
@given(b=small_odd_b, depth=st.integers(0, 8), rho=rhos, gamma=gammas, mu0=biases)
def test_shock_equals_three_point_latent_law(b, depth, rho, gamma, mu0):
    p0 = (1 + mu0) / 2
    expected = (
        (1 - rho) * iterate_ref(mu0, b, 0.0, gamma, depth)
        + rho * p0 * iterate_ref(1.0, b, 0.0, gamma, depth)
        + rho * (1 - p0) * iterate_ref(-1.0, b, 0.0, gamma, depth)
    )
    tol = ref_tol(b, 0.0, gamma, depth)
    assert P.root_bias("shock", b, depth, rho, gamma, mu0) == pytest.approx(
        float(expected), abs=tol
    )
    # the closed form is affine in rho; its value at rho = 1 is mu0 h^L(1)
    at0 = P.root_bias("shock", b, depth, 0.0, gamma, mu0)
    at_half = P.root_bias("shock", b, depth, 0.5, gamma, mu0)
    at1 = mu0 * float(iterate_ref(1.0, b, 0.0, gamma, depth))
    assert 2 * at_half - at0 == pytest.approx(at1, abs=tol)


@MEDIUM
@given(b=small_odd_b, rho=st.floats(0.05, 0.9), mu0=st.floats(0.02, 0.9), u=st.floats(0.3, 0.95))
def test_item_and_shock_thresholds_are_rho_free(b, rho, mu0, u):
    gamma_sub = u / P.f_b_prime0(b)  # alpha_0 = u < 1
    for corr in ("item", "shock"):
        value = P.root_bias(corr, b, 60, rho, gamma_sub, mu0)
        assert abs(value) <= u**60 * (1 + 1e-9) + 1e-15
        assert P.limit_bias(corr, b, rho, gamma_sub, mu0) == 0.0
    gamma_sup = min(1.0, 1.2 / P.f_b_prime0(b))  # alpha_0 = 1.2 > 1
    star0 = P.fixed_point(b, 0.0, gamma_sup)
    a, c = P.beta_params(mu0, rho)
    assert P.limit_bias("item", b, rho, gamma_sup, mu0) == pytest.approx(
        star0 * (1 - 2 * special.betainc(a, c, 0.5)), rel=1e-12
    )
    assert P.limit_bias("shock", b, rho, gamma_sup, mu0) == pytest.approx(
        star0 * (1 - rho * (1 - mu0)), rel=1e-12
    )
    assert P.limit_bias("item", b, rho, gamma_sup, mu0) > 0
    deep_shock = P.root_bias("shock", b, 400, rho, gamma_sup, mu0)
    assert deep_shock == pytest.approx(P.limit_bias("shock", b, rho, gamma_sup, mu0), abs=1e-9)


def test_herding_collapses_where_item_amplifies():
    b, gamma, rho, mu0 = 3, 0.75, 0.5, 0.1
    assert P.alpha_rho(b, rho, gamma) < 1 < P.alpha_0(b, gamma)
    assert P.root_bias("herding", b, 200, rho, gamma, mu0) < 1e-6
    assert P.limit_bias("herding", b, rho, gamma, mu0) == 0.0
    item_limit = P.limit_bias("item", b, rho, gamma, mu0)
    assert_printed(item_limit, "0.08964")
    assert item_limit < mu0  # below the single-agent bias
    assert P.item_root_bias(b, 40, rho, gamma, mu0) == pytest.approx(item_limit, abs=1e-4)


@SLOWISH
@given(
    b=st.sampled_from([3, 5]),
    depth=st.integers(1, 12),
    rho=st.floats(0.05, 0.95),
    gamma=st.floats(0.4, 1.0),
    mu0=st.floats(-0.9, 0.9),
)
def test_item_quad_agrees_with_midpoint_rule(b, depth, rho, gamma, mu0):
    assume(b**depth <= 3**12)
    quad = P.item_root_bias(b, depth, rho, gamma, mu0)
    midpoint = P.item_root_bias(b, depth, rho, gamma, mu0, method="midpoint")
    assert quad == pytest.approx(midpoint, abs=2e-4)


def test_item_degenerate_laws():
    path = P.iterate(1.0, 3, 0.0, 0.9, 5)
    np.testing.assert_allclose(P.level_biases("item", 3, 5, 0.4, 0.9, 1.0), path, atol=1e-15)
    np.testing.assert_allclose(P.level_biases("item", 3, 5, 0.4, 0.9, -1.0), -path, atol=1e-15)
    np.testing.assert_allclose(
        P.level_biases("item", 3, 5, 0.0, 0.9, 0.2), P.iterate(0.2, 3, 0.0, 0.9, 5), atol=1e-15
    )
    assert P.limit_bias("item", 3, 0.0, 0.9, 0.2) == P.fixed_point(3, 0.0, 0.9)
    assert P.limit_bias("item", 3, 0.4, 0.9, -1.0) == -P.fixed_point(3, 0.0, 0.9)
    with pytest.raises(ValueError, match=r"^rho must be in \(0, 1\)"):
        P.beta_params(0.1, 0.0)
    with pytest.raises(ValueError, match=r"^mu_bar must be in \(-1, 1\)"):
        P.beta_params(1.0, 0.3)


@pytest.mark.parametrize("rho", [1e-9, 1e-6, 1e-4, 2e-3, 8e-3])
@pytest.mark.parametrize("mu0", [0.1, -0.7])
def test_item_concentrated_latent_law(rho, mu0):
    # very concentrated Beta laws are integrated in the quantile domain
    quad = P.item_root_bias(3, 6, rho, 0.9, mu0)
    midpoint = P.item_root_bias(3, 6, rho, 0.9, mu0, method="midpoint")
    assert quad == pytest.approx(midpoint, abs=1e-6)
    independent = P.iterate(mu0, 3, 0.0, 0.9, 6)[-1]
    assert abs(quad - independent) < 50 * rho


def test_item_point_mass_threshold_is_continuous():
    below = P.item_root_bias(3, 6, 0.5 * P.RHO_POINT_MASS, 0.9, 0.1)
    above = P.item_root_bias(3, 6, 2.0 * P.RHO_POINT_MASS, 0.9, 0.1)
    assert below == P.iterate(0.1, 3, 0.0, 0.9, 6)[-1]
    assert above == pytest.approx(below, abs=1e-8)


def test_level_biases_shapes_root_channel_and_methods():
    rho = np.array([[0.1], [0.4], [0.7]])
    gamma = np.array([0.6, 0.8, 0.9, 1.0])
    for corr in ("herding", "item", "shock"):
        grid = P.level_biases(corr, 3, 4, rho, gamma, 0.1)
        assert grid.shape == (5, 3, 4)
        for i in range(3):
            for j in range(4):
                single = P.level_biases(corr, 3, 4, float(rho[i, 0]), float(gamma[j]), 0.1)
                np.testing.assert_allclose(grid[:, i, j], single, atol=1e-15)
        np.testing.assert_allclose(P.root_bias(corr, 3, 4, rho, gamma, 0.1), grid[-1], atol=1e-12)
        with_channel = P.level_biases(corr, 3, 4, rho, gamma, 0.1, root_channel=True)
        np.testing.assert_allclose(with_channel[:-1], grid[:-1], atol=0)
        np.testing.assert_allclose(with_channel[-1], grid[-1] * gamma, atol=1e-15)
        np.testing.assert_allclose(
            P.root_bias(corr, 3, 4, rho, gamma, 0.1, root_channel=True),
            with_channel[-1],
            atol=1e-12,
        )
    quad = P.level_biases("item", 3, 5, 0.3, 0.9, 0.1)
    jacobi = P.level_biases("item", 3, 5, 0.3, 0.9, 0.1, method="jacobi")
    midpoint = P.level_biases("item", 3, 5, 0.3, 0.9, 0.1, method="midpoint")
    np.testing.assert_allclose(quad, jacobi, atol=1e-10)
    np.testing.assert_allclose(quad, midpoint, atol=1e-4)
    np.testing.assert_allclose(
        [P.item_root_bias(3, k, 0.3, 0.9, 0.1) for k in range(6)], quad, atol=1e-12
    )


@MEDIUM
@given(n=st.sampled_from([1, 3, 5, 9, 21]), rho=rhos, gamma=gammas, mu0=biases)
def test_star_bias_formulas(n, rho, gamma, mu0):
    herding = rho * gamma * mu0 + (1 - rho) * majority_ref(gamma * mu0, n)
    shock = rho * mu0 * majority_ref(gamma, n) + (1 - rho) * majority_ref(gamma * mu0, n)
    assert P.star_bias("herding", n, rho, gamma, mu0) == pytest.approx(float(herding), abs=1e-13)
    assert P.star_bias("shock", n, rho, gamma, mu0) == pytest.approx(float(shock), abs=1e-13)
    if n > 1:
        assert P.star_bias("herding", n, rho, gamma, mu0) == pytest.approx(
            P.root_bias("herding", n, 1, rho, gamma, mu0), abs=1e-15
        )


# ---------------------------------------------------------------------------
# the parameter object and the library's defaults
# ---------------------------------------------------------------------------


def test_functions_take_a_phase_params_object():
    p = P.PhaseParams(b=5, rho=0.3, gamma=0.8, depth=4, p0=0.55, correlation="item")
    assert P.alpha_rho(p) == P.alpha_rho(5, 0.3, 0.8) == pytest.approx(0.8 * (0.3 + 0.7 * 15 / 8))
    assert P.gamma_c(p) == P.gamma_c(0.3, 5)
    assert P.fixed_point(p, gamma=0.9) == P.fixed_point(5, 0.3, 0.9)  # keywords override
    np.testing.assert_array_equal(
        P.level_biases(p), P.level_biases("item", 5, 4, 0.3, 0.8, 2 * 0.55 - 1)
    )
    assert P.budget_analysis(p, beta=0.2, budget=1e6) == P.budget_analysis(5, 0.3, 0.8, 0.2, 1e6)
    with pytest.raises(TypeError, match="by keyword"):
        P.alpha_rho(p, 0.9)


def test_budget_analysis_defaults_to_a_256_token_message_and_128k_context():
    out = P.budget_analysis(3, 0.1, 1.0, 0.2, 1e6)
    assert out["c0"] == 2 * 256 * 3 / 2
    assert out["b_max"] == 499  # largest odd b with 256 b <= 128000
    assert out == P.budget_analysis(3, 0.1, 1.0, 0.2, 1e6, msg_tokens=256, context=128000)
