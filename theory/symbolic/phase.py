"""Sympy derivations for the phase-transition model (``docs/models/phase.md``).

Every function derives its result from a definition rather than quoting the
closed form, and returns a sympy expression or an exact ``Rational``:

* the majority map :math:`f_b` from the binomial tail, its slope
  :math:`f_b'(0)` and the integral identity (``docs/models/phase.md (1), (2)``);
* the layer map :math:`g`, its gain :math:`\\alpha_\\rho = g'(0)` and cubic
  coefficient :math:`K` (``docs/models/phase.md (4), (5), (8)``);
* the exact :math:`b = 3` fixed point (``docs/models/phase.md (9)``);
* the critical surfaces :math:`\\gamma_c`, :math:`\\rho_c` and the
  Evans--Schulman thresholds (``docs/models/phase.md (11), (13)``);
* the optimum of paper Thm 9 and the budget threshold :math:`B_{crit}`
  (``docs/models/phase.md (17)-(19)``);
* the continuous tree recursion and its floor :math:`v^*`
  (``docs/models/phase.md (35), (36)``, paper Eq. 13);
* exact Beta moments and the item-difficulty root bias for small trees, with
  optional node herding (``docs/models/phase.md (24), (25), (27)``), plus the exact
  herding and global-shock recursions (``docs/models/phase.md (23), (26)``).

Numbers may be passed as ints, ``Rational``, sympy symbols or Python floats;
a float is converted through its shortest decimal ``repr`` (``0.3`` becomes
``3/10``), so ``item_root_bias(3, 2, 0.3, 1, 0.1)`` is the exact value for the
decimal inputs.

The tests in ``tests/theory/test_symbolic_phase.py`` check these results
against the numeric implementation in :mod:`theory.phase`.
"""

from __future__ import annotations

import numbers

import sympy as sp

__all__ = [
    "MU",
    "U",
    "P",
    "RHO",
    "GAMMA",
    "EPS",
    "BETA",
    "T",
    "C0",
    "BUDGET",
    "X",
    "R",
    "V0",
    "SIGMA2",
    "LAM",
    "LEVEL",
    "B",
    "MU_BAR",
    "exact",
    "f_b",
    "f_b_prime0",
    "f_b_prime0_closed",
    "f_b_prime",
    "integral_identity",
    "layer_map",
    "layer_map_gain",
    "cubic_coefficient",
    "fixed_point_b3_squared",
    "gamma_c",
    "rho_c",
    "evans_schulman_epsilon",
    "thm9_optimum",
    "b_crit_closed",
    "tree_risk_recursion",
    "tree_risk",
    "v_star",
    "beta_params",
    "beta_moment",
    "beta_moment_gamma",
    "iterate_layer_map",
    "item_root_bias",
    "item_slope_at_zero",
    "shock_root_bias",
    "beta_binomial_variance",
    "channel_bias",
]

# --------------------------------------------------------------------------
# Symbols. Assumptions are the model's domains (``docs/models/phase.md``, section
# "The model") so that sympy can simplify logarithms and square roots.
# --------------------------------------------------------------------------
MU = sp.Symbol("mu", real=True)  # signal bias, in [-1, 1]
U = sp.Symbol("u", real=True)  # integration variable
P = sp.Symbol("p", real=True)  # latent per-item success probability
RHO = sp.Symbol("rho", nonnegative=True)  # correlation, in [0, 1)
GAMMA = sp.Symbol("gamma", positive=True)  # channel fidelity, in (0, 1]
EPS = sp.Symbol("epsilon", positive=True)  # BSC flip probability
BETA = sp.Symbol("beta", positive=True)  # leaf exponent
T = sp.Symbol("t", positive=True)  # organisation exponent in Thm 9
C0 = sp.Symbol("c0", positive=True)  # communication overhead per leaf
BUDGET = sp.Symbol("B", positive=True)  # total budget
X = sp.Symbol("x", positive=True)  # compute per leaf
R = sp.Symbol("r", positive=True)  # r = beta / t
V0 = sp.Symbol("v0", nonnegative=True)  # leaf risk
SIGMA2 = sp.Symbol("sigma2", nonnegative=True)  # message noise variance
LAM = sp.Symbol("lambda", positive=True)  # per-level contraction of the risk
LEVEL = sp.Symbol("L", integer=True, nonnegative=True)  # depth / level
B = sp.Symbol("b", positive=True)  # fan-in as a symbol (continuous tree only)
MU_BAR = sp.Symbol("mu_bar", real=True)  # mean leaf bias, item model


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def exact(value):
    """Return ``value`` as an exact sympy number or expression.

    Parameters
    ----------
    value : int, float, Rational, str or sympy expression
        A Python float is converted through its shortest ``repr`` so that the
        decimal the user typed is kept exactly (``0.3 -> 3/10``, not the binary
        double). Strings are parsed by :func:`sympy.Rational` when they are
        numbers, otherwise sympified.

    Returns
    -------
    sympy.Expr
    """
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, float):
        return sp.Rational(repr(value))
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, str):
        try:
            return sp.Rational(value)
        except (TypeError, ValueError):
            return sp.sympify(value)
    return sp.sympify(value)


def _check_b(b):
    if isinstance(b, bool) or not isinstance(b, numbers.Integral):
        raise TypeError(f"b must be an integer, got {b!r}")
    b = int(b)
    if b < 3 or b % 2 == 0:
        raise ValueError(f"b must be an odd integer >= 3, got {b}")
    return b


def _check_depth(depth):
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"depth must be an integer, got {depth!r}")
    depth = int(depth)
    if depth < 0:
        raise ValueError(f"depth must be an integer in [0, inf], got {depth}")
    return depth


# --------------------------------------------------------------------------
# docs/models/phase.md (1), (2): majority map
# --------------------------------------------------------------------------
def f_b(b, var=MU):
    """Majority map :math:`f_b` derived from the binomial tail (``docs/models/phase.md (1)``).

    Derived: for ``b`` i.i.d. :math:`\\pm 1` votes with bias :math:`\\mu`,
    each vote is correct with probability :math:`q = (1+\\mu)/2`, and

    .. math:: f_b(\\mu) = 2\\sum_{k=(b+1)/2}^{b}\\binom{b}{k} q^k (1-q)^{b-k} - 1,

    expanded to an odd polynomial of degree ``b`` in :math:`\\mu`
    (e.g. :math:`f_3 = (3\\mu - \\mu^3)/2`).

    Parameters
    ----------
    b : int
        Odd fan-in, ``b >= 3``.
    var : sympy expression, optional
        Where to evaluate the map; default the symbol :data:`MU`. An exact
        number gives an exact number.

    Returns
    -------
    sympy.Expr
        The expanded polynomial in ``var``.
    """
    b = _check_b(b)
    var = exact(var)
    q = (1 + var) / 2
    tail = sum(
        sp.binomial(b, k) * q**k * (1 - q) ** (b - k) for k in range((b + 1) // 2, b + 1)
    )
    return sp.expand(2 * tail - 1)


def f_b_prime0(b):
    """Slope :math:`f_b'(0)`, differentiated from the binomial-tail polynomial.

    Derived: ``diff(f_b(b), mu)`` at ``mu = 0``. The paper's closed form
    :func:`f_b_prime0_closed` must agree (``docs/models/phase.md (2)``).

    Parameters
    ----------
    b : int
        Odd fan-in, ``b >= 3``.

    Returns
    -------
    sympy.Rational
    """
    return sp.Rational(sp.diff(f_b(b), MU).subs(MU, 0))


def f_b_prime0_closed(b):
    """The paper's closed form :math:`f_b'(0) = b\\binom{b-1}{(b-1)/2}/2^{b-1}`.

    The paper's (``docs/models/phase.md (2)``; it enters paper Thm 4). Exact
    ``Rational``; e.g. 3/2, 15/8, 35/16.

    Parameters
    ----------
    b : int
        Odd fan-in, ``b >= 3``.

    Returns
    -------
    sympy.Rational
    """
    b = _check_b(b)
    return sp.Rational(b * sp.binomial(b - 1, (b - 1) // 2), 2 ** (b - 1))


def f_b_prime(b, var=MU):
    """Derivative :math:`f_b'(\\mu)` of the binomial-tail polynomial.

    Derived by differentiating :func:`f_b`; equals
    :math:`f_b'(0)(1-\\mu^2)^{(b-1)/2}` (``docs/models/phase.md (2)``).

    Parameters
    ----------
    b : int
        Odd fan-in, ``b >= 3``.
    var : sympy expression, optional
        Evaluation point; default :data:`MU`.

    Returns
    -------
    sympy.Expr
    """
    return sp.expand(sp.diff(f_b(b), MU).subs(MU, exact(var)))


def integral_identity(b, var=MU):
    """Both sides of :math:`f_b(\\mu) = f_b'(0)\\int_0^\\mu (1-u^2)^{(b-1)/2}du`.

    ``docs/models/phase.md (1)``. The left side is the binomial tail
    (:func:`f_b`); the right side uses the closed-form slope
    (:func:`f_b_prime0_closed`) and sympy's integral of the polynomial
    :math:`(1-u^2)^{(b-1)/2}` (an integer power since ``b`` is odd). Both are
    returned expanded, so ``lhs - rhs`` expands to ``0`` when the identity holds.

    Parameters
    ----------
    b : int
        Odd fan-in, ``b >= 3``.
    var : sympy expression, optional
        Upper limit of the integral; default :data:`MU`.

    Returns
    -------
    (lhs, rhs) : tuple of sympy.Expr
    """
    b = _check_b(b)
    var = exact(var)
    lhs = f_b(b, var)
    integrand = (1 - U**2) ** ((b - 1) // 2)
    rhs = f_b_prime0_closed(b) * sp.integrate(integrand, (U, 0, var))
    return lhs, sp.expand(rhs)


# --------------------------------------------------------------------------
# docs/models/phase.md (4)-(9): layer map, gain, cubic coefficient, b = 3 fixed point
# --------------------------------------------------------------------------
def layer_map(b, var=MU, rho=RHO, gamma=GAMMA):
    """Layer map :math:`g(\\mu) = \\rho\\gamma\\mu + (1-\\rho) f_b(\\gamma\\mu)`.

    paper's recursion :math:`\\mu_{t+1} = f_{b,\\rho}(\\gamma\\mu_t)` with the
    correlated map :math:`f_{b,\\rho}(\\mu) = \\rho\\mu + (1-\\rho) f_b(\\mu)`
    (paper Thm 4, ``docs/models/phase.md (4)``); the polynomial :math:`f_b` comes from :func:`f_b`.

    Parameters
    ----------
    b : int
        Odd fan-in, ``b >= 3``.
    var, rho, gamma : sympy expression or number, optional
        Bias, correlation and fidelity; default the symbols ``MU``, ``RHO``,
        ``GAMMA``. With ``rho`` = the node herding probability this is also
        :math:`g_{\\rho_{node}}` of ``docs/models/phase.md (27)``.

    Returns
    -------
    sympy.Expr
        Expanded polynomial in ``var``.
    """
    var, rho, gamma = exact(var), exact(rho), exact(gamma)
    return sp.expand(rho * gamma * var + (1 - rho) * f_b(b, gamma * var))


def layer_map_gain(b, rho=RHO, gamma=GAMMA):
    """Per-layer gain :math:`\\alpha_\\rho = g'(0)`, differentiated from :func:`layer_map`.

    Derived: ``diff(g, mu)`` at 0, factored; equals the paper's
    :math:`\\gamma[\\rho + (1-\\rho) f_b'(0)]` (paper Thm 4, ``docs/models/phase.md (5)``).

    Parameters
    ----------
    b : int
        Odd fan-in.
    rho, gamma : sympy expression or number, optional
        Default symbols ``RHO``, ``GAMMA``.

    Returns
    -------
    sympy.Expr
    """
    g = layer_map(b, MU, rho, gamma)
    return sp.factor(sp.diff(g, MU).subs(MU, 0))


def cubic_coefficient(b, rho=RHO, gamma=GAMMA):
    """Cubic coefficient :math:`K` in :math:`g(\\mu) = \\alpha\\mu - K\\mu^3 + O(\\mu^5)`.

    Derived as minus the :math:`\\mu^3` coefficient of :func:`layer_map`;
    ``docs/models/phase.md (8)`` gives
    :math:`K = (1-\\rho) f_b'(0)\\,\\tfrac{b-1}{2}\\,\\gamma^3/3`.

    Parameters
    ----------
    b : int
        Odd fan-in.
    rho, gamma : sympy expression or number, optional
        Default symbols ``RHO``, ``GAMMA``.

    Returns
    -------
    sympy.Expr
    """
    g = layer_map(b, MU, rho, gamma)
    return sp.factor(-sp.Poly(g, MU).coeff_monomial(MU**3))


def fixed_point_b3_squared(rho=RHO, gamma=GAMMA):
    """Square of the nontrivial fixed point for ``b = 3``, solved from :math:`g(\\mu)=\\mu`.

    Derived: for ``b = 3``, :math:`g(\\mu) - \\mu = \\mu[(\\alpha-1) -
    (1-\\rho)\\gamma^3\\mu^2/2]`, so sympy's nonzero roots are
    :math:`\\pm\\mu^*` with
    :math:`\\mu^{*2} = 2(\\alpha_\\rho - 1)/((1-\\rho)\\gamma^3)` (``docs/models/phase.md (9)``),
    real and in :math:`(0, 1]` when :math:`\\alpha_\\rho > 1`.

    Parameters
    ----------
    rho, gamma : sympy expression or number, optional
        Default symbols ``RHO``, ``GAMMA``.

    Returns
    -------
    sympy.Expr
        :math:`\\mu^{*2}` (an exact number for exact inputs).
    """
    rho, gamma = exact(rho), exact(gamma)
    mu = sp.Symbol("mu")  # no sign assumption, so solve returns all roots
    g = layer_map(3, mu, rho, gamma)
    roots = [s for s in sp.solve(sp.Eq(g, mu), mu) if s != 0]
    if len(roots) != 2:
        raise RuntimeError(f"expected two nonzero roots, got {roots}")
    squares = {sp.simplify(s**2) for s in roots}
    if len(squares) != 1:
        raise RuntimeError(f"nonzero roots are not +/- one value: {roots}")
    return sp.factor(squares.pop())


# --------------------------------------------------------------------------
# docs/models/phase.md (11), (13): critical surfaces and Evans-Schulman thresholds
# --------------------------------------------------------------------------
def gamma_c(b, rho=RHO):
    """Critical fidelity :math:`\\gamma_c(\\rho, b)`, solved from :math:`\\alpha_\\rho = 1`.

    Derived: solve :func:`layer_map_gain` ``= 1`` for :math:`\\gamma`; the
    result is :math:`1/[\\rho + (1-\\rho) f_b'(0)]` (``docs/models/phase.md (11)``).

    Parameters
    ----------
    b : int
        Odd fan-in.
    rho : sympy expression or number, optional
        Default symbol ``RHO``.

    Returns
    -------
    sympy.Expr
    """
    sols = sp.solve(sp.Eq(layer_map_gain(b, rho, GAMMA), 1), GAMMA)
    if len(sols) != 1:
        raise RuntimeError(f"expected one solution for gamma_c, got {sols}")
    return sp.factor(sols[0])


def rho_c(b, gamma=GAMMA):
    """Critical correlation :math:`\\rho_c(\\gamma, b)`, solved from :math:`\\alpha_\\rho = 1`.

    Derived: solve :func:`layer_map_gain` ``= 1`` for :math:`\\rho`; the result
    is :math:`(f_b'(0) - 1/\\gamma)/(f_b'(0) - 1)` (``docs/models/phase.md (11)``). It may be
    negative (then no :math:`\\rho \\ge 0` amplifies).

    Parameters
    ----------
    b : int
        Odd fan-in.
    gamma : sympy expression or number, optional
        Default symbol ``GAMMA``.

    Returns
    -------
    sympy.Expr
    """
    rho = sp.Symbol("rho")  # no sign assumption: rho_c may be negative
    sols = sp.solve(sp.Eq(layer_map_gain(b, rho, gamma), 1), rho)
    if len(sols) != 1:
        raise RuntimeError(f"expected one solution for rho_c, got {sols}")
    return sp.factor(sols[0])


def evans_schulman_epsilon(b):
    """Evans--Schulman noise threshold :math:`\\epsilon_c` for ``b``-input majority.

    Derived here (``docs/models/phase.md (13)``): set :math:`\\rho = 0` and
    :math:`\\gamma = 1 - 2\\epsilon` (a binary symmetric channel with flip
    probability :math:`\\epsilon`) and solve :math:`\\alpha = 1`, giving
    :math:`\\epsilon_c = 1/2 - 1/(2 f_b'(0))`: 1/6, 7/30, 19/70 for b = 3, 5, 7.

    Parameters
    ----------
    b : int
        Odd fan-in.

    Returns
    -------
    sympy.Rational
    """
    sols = sp.solve(sp.Eq(layer_map_gain(b, 0, 1 - 2 * EPS), 1), EPS)
    if len(sols) != 1:
        raise RuntimeError(f"expected one threshold, got {sols}")
    return sp.Rational(sols[0])


# --------------------------------------------------------------------------
# docs/models/phase.md (17)-(19): the optimum of paper Thm 9 and the budget threshold
# --------------------------------------------------------------------------
def b_crit_closed(beta=BETA, t=T, c0=C0):
    """The closed form :math:`B_{crit} = c_0 r^{-r/(1-r)}/(1-r)`, :math:`r = \\beta/t`.

    ``docs/models/phase.md (19)``.

    Parameters
    ----------
    beta, t, c0 : sympy expression or number, optional
        Default symbols ``BETA``, ``T``, ``C0``.

    Returns
    -------
    sympy.Expr
    """
    beta, t, c0 = exact(beta), exact(t), exact(c0)
    r = beta / t
    return c0 * r ** (-r / (1 - r)) / (1 - r)


def thm9_optimum():
    """Optimum of paper Thm 9 and the budget threshold, derived by calculus.

    ``docs/models/phase.md (17)-(19)``.

    Derivation:

    1. maximise :math:`\\Phi(x) = \\beta\\ln x + t\\ln N` with
       :math:`N = B/(x + c_0)`: sympy solves :math:`d\\Phi/dx = 0` for the
       unique root :math:`x^* = \\beta c_0/(t-\\beta)`, and the second
       derivative there is :math:`-(t-\\beta)^3/(\\beta c_0^2 t)`
       (negative for :math:`t > \\beta`), so it is a maximum;
    2. :math:`N^* = B/(x^* + c_0) = B(t-\\beta)/(t c_0)`;
    3. :math:`B_{crit}` solves :math:`x^{*\\beta} N^{*t} = B^\\beta`: taking logs,
       the equation is linear in :math:`\\ln B`; sympy solves it, giving
       :math:`B_{crit} = c_0 t^{t/(t-\\beta)}\\beta^{-\\beta/(t-\\beta)}/(t-\\beta)`, and the
       result is certified equal to :func:`b_crit_closed` by substituting
       :math:`\\beta = r t` (``certified`` is ``True`` when the log-difference
       simplifies to 0).

    Returns
    -------
    dict
        ``x_star``, ``n_star``, ``b_crit`` (derived), ``b_crit_closed``
        (spec form), ``second_derivative`` (of :math:`\\Phi` at :math:`x^*`),
        ``certified`` (bool). All in the symbols ``BETA``, ``T``, ``C0``,
        ``BUDGET``. Valid for :math:`t > \\beta`.
    """
    n_of_x = BUDGET / (X + C0)
    phi = BETA * sp.log(X) + T * sp.log(n_of_x)
    sols = sp.solve(sp.diff(phi, X), X)
    if len(sols) != 1:
        raise RuntimeError(f"expected one stationary point, got {sols}")
    x_star = sp.factor(sols[0])
    second = sp.factor(sp.simplify(sp.diff(phi, X, 2).subs(X, x_star)))
    n_star = sp.factor(sp.simplify(n_of_x.subs(X, x_star)))

    # x*^beta N*^t = B^beta, in logs: linear in ln B.
    log_b = sp.Symbol("logB", real=True)
    # t > beta is needed for x* > 0; write t = beta + d with d > 0 for the logs.
    d = sp.Symbol("d", positive=True)
    eq = BETA * sp.log(x_star) + T * sp.log(n_star) - BETA * sp.log(BUDGET)
    eq = sp.expand_log(eq.subs(T, BETA + d), force=True).subs(sp.log(BUDGET), log_b)
    sol = sp.solve(sp.Eq(eq, 0), log_b)
    if len(sol) != 1:
        raise RuntimeError(f"expected one budget threshold, got {sol}")
    b_crit = sp.simplify(sp.exp(sp.expand(sol[0]))).subs(d, T - BETA)

    closed = b_crit_closed()
    # certify: log(b_crit) - log(closed) == 0 with beta = r t, 0 < r < 1
    s = sp.Symbol("s", positive=True)  # 1 - r
    diff = sp.log(b_crit) - sp.log(closed)
    diff = diff.subs(BETA, (1 - s) * T)
    certified = sp.simplify(sp.expand_log(diff, force=True)) == 0
    return {
        "x_star": x_star,
        "n_star": n_star,
        "b_crit": b_crit,
        "b_crit_closed": closed,
        "second_derivative": second,
        "certified": bool(certified),
    }


# --------------------------------------------------------------------------
# docs/models/phase.md (35), (36): continuous tree recursion
# --------------------------------------------------------------------------
def tree_risk_recursion():
    """Closed form of :math:`v_{\\ell+1} = \\lambda v_\\ell + \\sigma_c^2/b`, :math:`v_0` given.

    Derived with :func:`sympy.rsolve` (``docs/models/phase.md (35)``), in the symbols ``LAM``,
    ``SIGMA2``, ``B``, ``V0``, ``LEVEL``; for :math:`\\lambda \\ne 1` it equals
    :math:`\\lambda^L v_0 + \\tfrac{\\sigma^2}{b(1-\\lambda)}(1 - \\lambda^L)`.

    Returns
    -------
    sympy.Expr
        :math:`v_L` as a function of ``LEVEL``.
    """
    v = sp.Function("v")
    sol = sp.rsolve(v(LEVEL + 1) - LAM * v(LEVEL) - SIGMA2 / B, v(LEVEL), {v(0): V0})
    if sol is None:
        raise RuntimeError("rsolve found no solution")
    return sp.simplify(sol)


def tree_risk(depth=LEVEL, v0=V0, b=B, rho=RHO, sigma2=SIGMA2):
    """Per-level continuous tree risk :math:`v_L` (``docs/models/phase.md (35)``).

    Derived: :func:`tree_risk_recursion` with
    :math:`\\lambda = \\rho + (1-\\rho)/b` substituted (averaging ``b``
    equicorrelated children); equals :math:`\\lambda^L v_0 + v^*(1-\\lambda^L)`.

    Parameters
    ----------
    depth, v0, b, rho, sigma2 : sympy expression or number, optional
        Default symbols; exact numbers give an exact number.

    Returns
    -------
    sympy.Expr
    """
    lam = exact(rho) + (1 - exact(rho)) / exact(b)
    expr = tree_risk_recursion().subs(
        {LAM: lam, SIGMA2: exact(sigma2), B: exact(b), V0: exact(v0)}
    )
    return sp.simplify(expr.subs(LEVEL, exact(depth)))


def v_star(b=B, rho=RHO, sigma2=SIGMA2):
    """Floor :math:`v^*` of the continuous tree, the fixed point of the recursion.

    Derived: solve :math:`v = \\lambda v + \\sigma_c^2/b` with
    :math:`\\lambda = \\rho + (1-\\rho)/b`; simplifies to the paper's
    :math:`\\sigma_c^2/((b-1)(1-\\rho))` (paper Eq. 13, ``docs/models/phase.md (36)``).

    Parameters
    ----------
    b, rho, sigma2 : sympy expression or number, optional
        Default symbols ``B``, ``RHO``, ``SIGMA2``.

    Returns
    -------
    sympy.Expr
    """
    b, rho, sigma2 = exact(b), exact(rho), exact(sigma2)
    v = sp.Symbol("v")
    lam = rho + (1 - rho) / b
    sols = sp.solve(sp.Eq(v, lam * v + sigma2 / b), v)
    if len(sols) != 1:
        raise RuntimeError(f"expected one fixed point, got {sols}")
    return sp.factor(sols[0])


# --------------------------------------------------------------------------
# docs/models/phase.md (23)-(27): Beta moments, item-difficulty root bias, herding, global shock
# --------------------------------------------------------------------------
def beta_params(mu_bar, rho):
    """Beta parameters :math:`(a, c)` of the item model from :math:`(\\bar\\mu_0, \\rho)`.

    ``docs/models/phase.md (24)``: :math:`\\bar p = (1+\\bar\\mu_0)/2`,
    :math:`a = \\bar p(1-\\rho)/\\rho`, :math:`c = (1-\\bar p)(1-\\rho)/\\rho`.

    Parameters
    ----------
    mu_bar, rho : sympy expression or number
        Mean leaf bias and pairwise correlation (``rho > 0``).

    Returns
    -------
    (a, c) : tuple of sympy.Expr
    """
    mu_bar, rho = exact(mu_bar), exact(rho)
    if rho.is_number and not rho > 0:
        raise ValueError(f"rho must be in (0, 1) for the item model, got {rho}")
    pbar = (1 + mu_bar) / 2
    s = (1 - rho) / rho
    return sp.simplify(pbar * s), sp.simplify((1 - pbar) * s)


def beta_moment(k, a, c):
    """Exact Beta moment :math:`E[p^k] = \\prod_{j<k}(a+j)/(a+c+j)`, :math:`p\\sim Beta(a,c)`.

    ``docs/models/phase.md (25)``. See :func:`beta_moment_gamma` for the derivation from the Beta
    function that certifies this product.

    Parameters
    ----------
    k : int
        Order, ``k >= 0``.
    a, c : sympy expression or number
        Beta parameters.

    Returns
    -------
    sympy.Expr
    """
    a, c = exact(a), exact(c)
    out = sp.Integer(1)
    for j in range(int(k)):
        out *= (a + j) / (a + c + j)
    return out


def beta_moment_gamma(k, a=None, c=None):
    """Beta moment derived from :math:`E[p^k] = B(a+k, c)/B(a, c)`.

    Derived: :math:`\\int_0^1 p^{k} p^{a-1}(1-p)^{c-1}dp / B(a,c)` is a ratio
    of Beta functions; written with Gamma functions and simplified by
    :func:`sympy.gammasimp` it becomes the rising-factorial ratio
    :math:`(a)_k/(a+c)_k`, i.e. :func:`beta_moment`.

    Parameters
    ----------
    k : int
        Order.
    a, c : sympy expression, optional
        Default positive symbols ``a``, ``c``.

    Returns
    -------
    sympy.Expr
    """
    a = sp.Symbol("a", positive=True) if a is None else exact(a)
    c = sp.Symbol("c", positive=True) if c is None else exact(c)
    k = int(k)
    ratio = (sp.gamma(a + k) * sp.gamma(c) / sp.gamma(a + c + k)) / (
        sp.gamma(a) * sp.gamma(c) / sp.gamma(a + c)
    )
    return sp.gammasimp(sp.expand_func(ratio))


def _iterate_poly(b, depth, rho_node, gamma):
    """Poly in MU of g^depth, g = layer_map(b, MU, rho_node, gamma)."""
    g = sp.Poly(layer_map(b, MU, rho_node, gamma), MU)
    out = sp.Poly(MU, MU, domain=g.domain)
    for _ in range(depth):
        out = g.compose(out)
    return out


def iterate_layer_map(mu0, b, rho, gamma, depth):
    """Exact herding recursion :math:`[\\mu_0, g(\\mu_0), \\dots, g^{L}(\\mu_0)]`.

    ``docs/models/phase.md (4), (23)``: the bias at each level of the herding tree, computed by
    exact evaluation of :func:`layer_map`. Exact inputs give exact rationals.

    Parameters
    ----------
    mu0 : number
        Leaf bias.
    b : int
        Odd fan-in.
    rho, gamma : number
        Correlation and fidelity.
    depth : int
        Number of levels.

    Returns
    -------
    list of sympy.Expr
        ``depth + 1`` entries.
    """
    depth = _check_depth(depth)
    g = sp.Poly(layer_map(b, MU, rho, gamma), MU)
    out = [exact(mu0)]
    for _ in range(depth):
        out.append(sp.expand(g.eval(out[-1])))
    return out


def item_root_bias(b, depth, rho, gamma, mu_bar, rho_node=0):
    """Exact root bias of the item-difficulty model for a small tree
    (``docs/models/phase.md (25), (27)``).

    Derived: given the latent :math:`p`, the tree is the independent
    recursion, so :math:`E[\\mu_L] = E[h^L(2p-1)]` with
    :math:`h(\\mu) = \\rho_{node}\\gamma\\mu + (1-\\rho_{node}) f_b(\\gamma\\mu)`
    (:math:`\\rho_{node} = 0` gives :math:`h(\\mu) = f_b(\\gamma\\mu)`). The
    polynomial :math:`h^L(2p-1)` of degree :math:`b^L` is expanded in powers of
    :math:`p` and each power replaced by the exact moment :func:`beta_moment`
    of :math:`p \\sim Beta(a, c)`, :math:`(a, c)` = :func:`beta_params`.

    For example ``item_root_bias(3, 2, Rational(3, 10), 1, Rational(1, 10))``
    is ``514592838229276613/3920384000000000000`` (a test vector of
    ``tests/theory/test_symbolic_phase.py``).

    Parameters
    ----------
    b : int
        Odd fan-in.
    depth : int
        Tree depth ``L >= 0`` (cost grows like :math:`b^L`).
    rho : number or sympy expression
        Item correlation, ``0 < rho < 1``.
    gamma : number or sympy expression
        Channel fidelity.
    mu_bar : number or sympy expression
        Mean leaf bias :math:`\\bar\\mu_0`.
    rho_node : number or sympy expression, optional
        Node-level herding probability composed with the item latent
        (``docs/models/phase.md (27)``).

    Returns
    -------
    sympy.Expr
        Exact rational for exact inputs.
    """
    b = _check_b(b)
    depth = _check_depth(depth)
    a, c = beta_params(mu_bar, rho)
    hl = _iterate_poly(b, depth, exact(rho_node), exact(gamma))
    # h^L(2p - 1) as a polynomial in p (reusing the generator MU for p)
    in_p = hl.compose(sp.Poly(2 * MU - 1, MU, domain=hl.domain))
    total = sp.Integer(0)
    moment = sp.Integer(1)
    coeffs = in_p.all_coeffs()[::-1]  # coefficient of p^k at index k
    for k, coeff in enumerate(coeffs):
        if k > 0:
            moment = moment * (a + k - 1) / (a + c + k - 1)
        if coeff != 0:
            total += coeff * moment
    if total.is_Rational:
        return total
    return sp.simplify(total)


def item_slope_at_zero(b, depth=1, gamma=1, rho=RHO):
    """Slope :math:`dE[\\mu_L]/d\\bar\\mu_0` at :math:`\\bar\\mu_0 = 0` in the item model.

    Derived: differentiate :func:`item_root_bias` (with symbolic
    :math:`\\bar\\mu_0` and :math:`\\rho`) at :math:`\\bar\\mu_0 = 0`. For
    ``b = 3``, ``depth = 1``, ``gamma = 1`` this is
    :math:`(\\rho^2 + 3)/(2(1+\\rho))` (``docs/models/phase.md (25)``).

    Parameters
    ----------
    b : int
        Odd fan-in.
    depth : int, optional
        Depth (default 1; symbolic cost grows like :math:`b^L`).
    gamma : number or sympy expression, optional
        Fidelity (default 1).
    rho : sympy expression, optional
        Correlation, default the symbol ``RHO``.

    Returns
    -------
    sympy.Expr
    """
    expr = item_root_bias(b, depth, rho, gamma, MU_BAR)
    return sp.factor(sp.simplify(sp.diff(expr, MU_BAR).subs(MU_BAR, 0)))


def shock_root_bias(b, depth, rho, gamma, mu0, rho_node=0):
    """Exact root bias of the global-shock model (``docs/models/phase.md (26), (27)``).

    Derived here: :math:`E[\\mu_L] = \\rho\\mu_0 h^L(1) + (1-\\rho) h^L(\\mu_0)` with
    :math:`h` the layer map with node herding ``rho_node``
    (:math:`h(\\mu) = f_b(\\gamma\\mu)` when ``rho_node = 0``).

    Parameters
    ----------
    b : int
        Odd fan-in.
    depth : int
        Depth.
    rho, gamma, mu0 : number or sympy expression
        Shock probability, fidelity, leaf bias.
    rho_node : number or sympy expression, optional
        Node herding probability.

    Returns
    -------
    sympy.Expr
    """
    depth = _check_depth(depth)
    rho, mu0 = exact(rho), exact(mu0)
    hl = _iterate_poly(_check_b(b), depth, exact(rho_node), exact(gamma))
    return sp.expand(rho * mu0 * hl.eval(1) + (1 - rho) * hl.eval(mu0))


def beta_binomial_variance(n, pbar=P, rho=RHO):
    """Variance of the correct count of ``n`` samples of one question, docs/models/phase.md (46).

    Derived from the Beta moments (:func:`beta_moment`) of the item model (24):
    ``E K = n E p``, ``E K (K - 1) = n (n - 1) E p**2``; it simplifies to
    ``n pbar (1 - pbar) (1 + (n - 1) rho)``, so ``rho`` is the correlation of
    two samples' correctness, the parameter the fit (46) estimates.

    Returns
    -------
    sympy.Expr
        The variance, simplified.
    """
    n = exact(n)
    s = (1 - rho) / rho
    a, c = pbar * s, (1 - pbar) * s
    m1, m2 = beta_moment(1, a, c), beta_moment(2, a, c)
    return sp.factor(sp.simplify(n * m1 + n * (n - 1) * m2 - (n * m1) ** 2))


def channel_bias(mu=MU, eps=EPS):
    """Bias after a symmetric channel flipping with probability ``eps``, docs/models/phase.md (47).

    ``p' = p (1 - eps) + (1 - p) eps`` with ``p = (1 + mu)/2`` gives
    ``2 p' - 1 = (1 - 2 eps) mu``: the fidelity is ``gamma = 1 - 2 eps``.
    """
    p = (1 + mu) / 2
    return sp.factor(sp.expand(2 * (p * (1 - eps) + (1 - p) * eps) - 1))
