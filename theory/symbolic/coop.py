"""Sympy derivations for the collective-action and loyalty model (``docs/models/coop.md``).

Every function derives its result from a definition rather than quoting the
closed form, and returns a sympy expression (or a dict or tuple of them):

* the loyalty-augmented utility ``U_i = pi_i + L_i`` (docs/models/coop.md
  (1)-(5)) built from team production, equal sharing, the teammates' welfare
  ``W_{-i}`` and the loyalty modifier, in both model versions;
* its first-order condition in own effort, the marginal-benefit multiplier
  ``k`` and effective cost ``c (1 - theta phi_C)`` read off that condition, and
  the second derivative (strict concavity; docs/models/coop.md (8)-(9));
* the best-response target ``S_i*`` (the FOC solved for ``S``) and the
  (clipped) best response (docs/models/coop.md (10)-(11));
* the symmetric equilibrium, obtained by imposing ``a_j = a`` for every member
  in the FOC and solving for ``a`` (per-member effort), and its aggregate
  (docs/models/coop.md (14));
* the Holmstrom free-riding baseline (the symmetric equilibrium at
  ``theta = 0``, paper Proposition 1) and the social optimum (the maximiser of
  ``Q - c S``), with the under-provision ratio ``n**(1/(1-beta))``
  (docs/models/coop.md (12)-(13));
* the loyalty multiplier ``a*/a_0*``, the effort-differentiation ratio and the
  mechanism-synergy identity (docs/models/coop.md (14), (19), (20));
* the comparative statics ``d log a* / d x`` for ``x`` in ``theta``,
  ``phi_B``, ``phi_C``, ``omega``, ``c``, ``n`` and their signs
  (docs/models/coop.md, section "Comparative statics"), proved by sympy's sign
  inference after a substitution that encodes the domains ``0 < beta < 1``,
  ``n > 1``, ``theta phi_C < 1`` and, for ``n`` in the paper variant,
  ``theta phi_B <= 1``.

Model versions are selected by ``welfare_mode`` as in :mod:`theory.coop`:
``"sum"`` (alias ``"paper"``) and ``"mean"`` (alias ``"repo"``),
docs/models/coop.md (3). Interior solutions only: the effort bounds enter only through
:func:`best_response`.

Numbers may be passed as ints, ``Rational``, sympy expressions or Python
floats; a float is converted through its shortest decimal ``repr``
(``0.3 -> 3/10``, see :func:`theory.symbolic.phase.exact`).

The tests in ``tests/theory/test_symbolic_coop.py`` check these results
against the numeric implementation in :mod:`theory.coop`.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .phase import exact

__all__ = [
    "OMEGA",
    "BETA",
    "C",
    "N",
    "THETA",
    "PHI_B",
    "PHI_C",
    "S",
    "A",
    "S_MINUS",
    "A_MIN",
    "A_MAX",
    "WELFARE_MODES",
    "COMPARATIVE_STATICS_VARIABLES",
    "exact",
    "production",
    "base_payoff",
    "teammates_welfare",
    "loyalty_modifier",
    "utility",
    "expanded_utility",
    "first_order_condition",
    "second_order_condition",
    "benefit_multiplier",
    "effective_cost",
    "target_aggregate",
    "interior_best_response",
    "best_response",
    "symmetric_equilibrium_effort",
    "symmetric_equilibrium_aggregate",
    "free_riding_aggregate",
    "free_riding_effort",
    "social_optimum_aggregate",
    "social_optimum_effort",
    "underprovision_ratio",
    "loyalty_multiplier",
    "effort_differentiation",
    "synergy_ratio",
    "synergy_identity",
    "comparative_statics",
    "domain_substitution",
    "comparative_static_sign",
    "evaluate",
]

# --------------------------------------------------------------------------
# Symbols, declared positive. The remaining domain facts
# (beta < 1, n >= 2, theta <= 1, theta phi_C < 1) are not sympy assumptions;
# :func:`domain_substitution` encodes them for sign proofs.
# --------------------------------------------------------------------------
#: The loyalties compared by the effort differentiation, and the synergy's (the authors').
_HIGH, _LOW, _SYNERGY_THETA = sp.Rational(9, 10), sp.Rational(1, 10), sp.Rational(7, 10)
OMEGA = sp.Symbol("omega", positive=True)  # productivity
BETA = sp.Symbol("beta", positive=True)  # returns to scale, in (0, 1)
C = sp.Symbol("c", positive=True)  # marginal effort cost
N = sp.Symbol("n", positive=True)  # team size (continuous for d/dn)
THETA = sp.Symbol("theta", positive=True)  # loyalty, in (0, 1]
PHI_B = sp.Symbol("phi_B", positive=True)  # loyalty-benefit strength
PHI_C = sp.Symbol("phi_C", positive=True)  # cost-tolerance strength
S = sp.Symbol("S", positive=True)  # aggregate effort
A = sp.Symbol("a", positive=True)  # own effort a_i
S_MINUS = sp.Symbol("S_minus", positive=True)  # others' effort S_{-i}
A_MIN = sp.Symbol("a_min", nonnegative=True)  # effort floor
A_MAX = sp.Symbol("a_max", positive=True)  # effort cap

#: Teammates' welfare versions, as in :data:`theory.coop.WELFARE_MODES`.
WELFARE_MODES = ("sum", "mean")
_MODE_ALIASES = {"paper": "sum", "P": "sum", "repo": "mean", "R": "mean"}

#: Parameters whose effect on the interior symmetric effort is derived.
COMPARATIVE_STATICS_VARIABLES = ("theta", "phi_B", "phi_C", "omega", "c", "n")
_VAR_SYMBOLS = {"theta": THETA, "phi_B": PHI_B, "phi_C": PHI_C, "omega": OMEGA, "c": C,
                "n": N}

# positive dummies for domain_substitution
_U = sp.Symbol("u_beta", positive=True)  # beta = 1/(1+u) in (0, 1)
_M = sp.Symbol("m_n", positive=True)  # n = 1 + m > 1
_SC = sp.Symbol("s_C", positive=True)  # theta phi_C = 1/(1+s) < 1
_TB = sp.Symbol("t_B", nonnegative=True)  # theta phi_B = 1/(1+t) <= 1


def _mode(welfare_mode):
    """Canonical welfare mode (``"paper"``/``"repo"`` map to ``"sum"``/``"mean"``)."""
    if isinstance(welfare_mode, str) and welfare_mode in _MODE_ALIASES:
        return _MODE_ALIASES[welfare_mode]
    if welfare_mode not in WELFARE_MODES:
        raise ValueError(f"welfare_mode must be one of {WELFARE_MODES + tuple(_MODE_ALIASES)}, "
                         f"got {welfare_mode!r}")
    return welfare_mode


# --------------------------------------------------------------------------
# docs/models/coop.md (1)-(5): payoffs from their definitions
# --------------------------------------------------------------------------
def production(S_=S):
    """Team production ``Q = omega S**beta`` (docs/models/coop.md (1)), for ``S > 0``.

    Parameters
    ----------
    S_ : sympy expression, default :data:`S`

    Returns
    -------
    sympy.Expr
    """
    return OMEGA * S_ ** BETA


def base_payoff(a=A, S_minus=S_MINUS):
    """Base payoff ``pi_i = Q/n - c a_i`` with ``S = a_i + S_{-i}`` (docs/models/coop.md (2)).

    Returns
    -------
    sympy.Expr
        In :data:`A` and :data:`S_MINUS` by default.
    """
    return production(a + S_minus) / N - C * a


def teammates_welfare(welfare_mode="sum", a=A, S_minus=S_MINUS):
    """Teammates' welfare ``W_{-i}`` (docs/models/coop.md (3)), from ``sum_{j != i} pi_j``.

    The teammates' base payoffs sum to ``(n-1) Q / n - c S_{-i}`` (their shares
    of ``Q`` minus their costs); the paper variant uses that sum, the repo variant divides it
    by ``n - 1``.

    Parameters
    ----------
    welfare_mode : {"sum", "mean"}, default "sum"
    a, S_minus : sympy expression, default :data:`A`, :data:`S_MINUS`

    Returns
    -------
    sympy.Expr
    """
    total = (N - 1) * production(a + S_minus) / N - C * S_minus
    return total if _mode(welfare_mode) == "sum" else total / (N - 1)


def loyalty_modifier(welfare_mode="sum", a=A, S_minus=S_MINUS, theta=THETA):
    """Loyalty modifier ``L_i = theta [phi_B W_{-i} + phi_C c a_i]`` (docs/models/coop.md (4)).

    Returns
    -------
    sympy.Expr
    """
    return theta * (PHI_B * teammates_welfare(welfare_mode, a, S_minus) + PHI_C * C * a)


def utility(welfare_mode="sum", a=A, S_minus=S_MINUS, theta=THETA):
    """Loyalty-augmented utility ``U_i = pi_i + L_i``, docs/models/coop.md (5), built from (1)-(4).

    Parameters
    ----------
    welfare_mode : {"sum", "mean"}, default "sum"
    a, S_minus, theta : sympy expression
        Own effort, others' effort and own loyalty; default the symbols.

    Returns
    -------
    sympy.Expr
    """
    return base_payoff(a, S_minus) + loyalty_modifier(welfare_mode, a, S_minus, theta)


def expanded_utility(welfare_mode="sum"):
    """The expanded form of ``U_i`` (docs/models/coop.md (6)), typed in for comparison.

    ``k/n omega S**beta - c (1 - theta phi_C) a - w theta phi_B c S_{-i}`` with
    ``S = a + S_{-i}``, ``k = 1 + (n-1) theta phi_B``, ``w = 1`` (paper) or
    ``k = 1 + theta phi_B``, ``w = 1/(n-1)`` (repo). Equal to :func:`utility`
    (checked in the tests).

    Returns
    -------
    sympy.Expr
    """
    if _mode(welfare_mode) == "sum":
        k, w = 1 + (N - 1) * THETA * PHI_B, 1
    else:
        k, w = 1 + THETA * PHI_B, 1 / (N - 1)
    return (k / N * OMEGA * (A + S_MINUS) ** BETA - C * (1 - THETA * PHI_C) * A
            - w * THETA * PHI_B * C * S_MINUS)


# --------------------------------------------------------------------------
# docs/models/coop.md (8)-(11): first-order condition, target, best response
# --------------------------------------------------------------------------
@cache
def first_order_condition(welfare_mode="sum"):
    """``dU_i/da_i`` of :func:`utility`, written in the aggregate ``S = a_i + S_{-i}``.

    docs/models/coop.md (9).
    Derived by differentiating docs/models/coop.md (5) in own effort and substituting
    ``a_i = S - S_{-i}``; the result depends on ``S`` only:
    ``k omega beta S**(beta-1) / n - c (1 - theta phi_C)``.

    Returns
    -------
    sympy.Expr
        In :data:`S` (and the parameters).
    """
    return _normal(sp.diff(utility(welfare_mode), A).subs(A, S - S_MINUS))


@cache
def second_order_condition(welfare_mode="sum"):
    """``d^2 U_i / da_i^2`` in ``S``: ``(beta - 1) k omega beta S**(beta-2) / n < 0``.

    Negative for ``beta < 1``, so ``U_i`` is strictly concave in own effort and
    the FOC characterises the best response.

    Returns
    -------
    sympy.Expr
    """
    d = sp.diff(utility(welfare_mode), A, 2).subs(A, S - S_MINUS)
    return sp.simplify(d)


def _normal(expr):
    """Expanded form with powers of products split, so :func:`sympy.solve` sees one generator."""
    expr = sp.expand_power_base(sp.simplify(expr), force=True)
    return sp.expand(sp.powsimp(expr, force=True))


def _foc_parts(welfare_mode):
    """Split the FOC into ``(marginal benefit, -marginal cost)`` parts by dependence on ``S``."""
    cost, benefit = first_order_condition(welfare_mode).as_independent(S, as_Add=True)
    return benefit, cost


@cache
def benefit_multiplier(welfare_mode="sum"):
    """Marginal-benefit multiplier ``k`` read off the FOC (docs/models/coop.md (8)).

    ``k = (S-dependent part of the FOC) * n / (omega beta S**(beta-1))``:
    ``1 + (n-1) theta phi_B`` (paper) or ``1 + theta phi_B`` (repo).

    Returns
    -------
    sympy.Expr
    """
    benefit, _ = _foc_parts(welfare_mode)
    return sp.expand(sp.simplify(benefit * N / (OMEGA * BETA * S ** (BETA - 1))))


@cache
def effective_cost(welfare_mode="sum"):
    """Effective marginal cost ``c (1 - theta phi_C)``: minus the ``S``-free part of the FOC.

    docs/models/coop.md (8).

    The same in both versions (the welfare term's cost part does not involve
    own effort).

    Returns
    -------
    sympy.Expr
    """
    _, cost = _foc_parts(welfare_mode)
    return sp.factor(-cost)


@cache
def target_aggregate(welfare_mode="sum"):
    """Best-response target ``S_i*``: the FOC solved for ``S`` by :func:`sympy.solve`.

    docs/models/coop.md (10).

    Equal to ``(k omega beta / (n c (1 - theta phi_C)))**(1/(1-beta))``.

    Returns
    -------
    sympy.Expr
    """
    sols = sp.solve(first_order_condition(welfare_mode), S)
    if len(sols) != 1:  # pragma: no cover - one positive root for positive symbols
        raise RuntimeError(f"expected one positive root of the FOC, got {sols}")
    return sols[0]


@cache
def interior_best_response(welfare_mode="sum"):
    """Unconstrained best response: ``dU_i/da_i = 0`` solved for own effort ``a_i``.

    docs/models/coop.md (11).

    Sympy cannot solve in ``a_i`` directly (two generators ``a_i`` and
    ``(a_i + S_{-i})**beta``), so the condition is solved in ``S`` after the
    change of variable ``a_i = S - S_{-i}``, which is then undone.

    Equal to ``S_i* - S_{-i}`` (checked in the tests).

    Returns
    -------
    sympy.Expr
        In :data:`S_MINUS`.
    """
    d = sp.diff(utility(welfare_mode), A).subs(A, S - S_MINUS)
    sols = sp.solve(_normal(d), S)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one best response, got {sols}")
    # undo the change of variable S = a_i + S_{-i}
    return sols[0] - S_MINUS


def best_response(welfare_mode="sum", a_min=A_MIN, a_max=A_MAX):
    """Clipped best response ``min(a_max, max(a_min, S_i* - S_{-i}))`` (docs/models/coop.md (11)).

    The clip of :func:`interior_best_response` to the effort interval; exact
    because ``U_i`` is strictly concave (:func:`second_order_condition`).

    Returns
    -------
    sympy.Expr
    """
    return sp.Min(exact(a_max), sp.Max(exact(a_min), interior_best_response(welfare_mode)))


# --------------------------------------------------------------------------
# docs/models/coop.md (12)-(14): symmetric equilibrium, Holmstrom baseline, social optimum
# --------------------------------------------------------------------------
@cache
def symmetric_equilibrium_effort(welfare_mode="sum"):
    """Interior symmetric equilibrium effort ``a*(theta)`` (docs/models/coop.md (14)).

    Derived by imposing ``a_j = a`` for all ``j`` (so ``S_{-i} = (n-1) a``) in
    ``dU_i/da_i = 0`` and solving for ``a``; equals ``S*_theta / n`` and
    ``a_0* [k / (1 - theta phi_C)]**(1/(1-beta))``.

    Returns
    -------
    sympy.Expr
    """
    d = sp.diff(utility(welfare_mode), A).subs(S_MINUS, (N - 1) * A)
    sols = sp.solve(_normal(d), A)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one symmetric equilibrium, got {sols}")
    return sols[0]


def symmetric_equilibrium_aggregate(welfare_mode="sum"):
    """Interior symmetric equilibrium aggregate ``S*_theta = n a*(theta)``.

    docs/models/coop.md (14).

    Returns
    -------
    sympy.Expr
    """
    return N * symmetric_equilibrium_effort(welfare_mode)


def free_riding_effort():
    """Holmstrom free-riding effort ``a_0*``: the symmetric equilibrium at ``theta = 0``.

    docs/models/coop.md (12).

    Equal to ``(omega beta / (c n**(2-beta)))**(1/(1-beta))`` (paper Proposition 1,
    the suite's "Correct formula"); identical in both versions.

    Returns
    -------
    sympy.Expr
    """
    return symmetric_equilibrium_effort("sum").subs(THETA, 0)


def free_riding_aggregate():
    """Free-riding aggregate ``S_0* = (omega beta / (n c))**(1/(1-beta))``, the target at theta 0.

    Not a per-member effort (docs/models/coop.md (12)).

    Returns
    -------
    sympy.Expr
    """
    return target_aggregate("sum").subs(THETA, 0)


@cache
def social_optimum_aggregate():
    """Efficient aggregate ``S^opt``: ``d(Q - c S)/dS = 0`` solved for ``S``.

    docs/models/coop.md (13).
    Equal to ``(omega beta / c)**(1/(1-beta))``.

    Returns
    -------
    sympy.Expr
    """
    sols = sp.solve(sp.diff(production() - C * S, S), S)
    if len(sols) != 1:  # pragma: no cover
        raise RuntimeError(f"expected one social optimum, got {sols}")
    return sols[0]


def social_optimum_effort():
    """Per-member efficient effort ``a^opt = S^opt / n`` (docs/models/coop.md (13)).

    Returns
    -------
    sympy.Expr
    """
    return social_optimum_aggregate() / N


def underprovision_ratio():
    """``a^opt / a_0*`` simplified; equals ``n**(1/(1-beta)) > 1`` (docs/models/coop.md (13)).

    Returns
    -------
    sympy.Expr
    """
    return sp.simplify(sp.powsimp(social_optimum_effort() / free_riding_effort(), force=True))


# --------------------------------------------------------------------------
# docs/models/coop.md (14), (19), (20): multipliers, differentiation, synergy
# --------------------------------------------------------------------------
def loyalty_multiplier(welfare_mode="sum"):
    """``a*(theta) / a_0*`` simplified: ``[k / (1 - theta phi_C)]**(1/(1-beta))``.

    docs/models/coop.md (14).

    Returns
    -------
    sympy.Expr
    """
    ratio = symmetric_equilibrium_effort(welfare_mode) / free_riding_effort()
    return sp.simplify(sp.powsimp(ratio, force=True))


def effort_differentiation(welfare_mode="sum", theta_high=_HIGH, theta_low=_LOW):
    """``a*(theta_high) / a*(theta_low)`` of the interior symmetric equilibrium.

    docs/models/coop.md (19).

    Free of ``omega`` and ``c`` (checked in the tests).

    Returns
    -------
    sympy.Expr
    """
    a = symmetric_equilibrium_effort(welfare_mode)
    ratio = a.subs(THETA, exact(theta_high)) / a.subs(THETA, exact(theta_low))
    return sp.simplify(sp.powsimp(ratio, force=True))


def synergy_ratio(welfare_mode="sum", theta=_SYNERGY_THETA):
    """Mechanism synergy ``E_c / (E_B + E_C)`` from the interior equilibrium.

    docs/models/coop.md (20).

    ``E_c = a*(theta) - a_0*``, ``E_B`` the same with ``phi_C = 0`` and ``E_C``
    with ``phi_B = 0``. Not simplified; compare with :func:`synergy_identity`.

    Returns
    -------
    sympy.Expr
    """
    a = symmetric_equilibrium_effort(welfare_mode).subs(THETA, exact(theta))
    a0 = free_riding_effort()
    Ec, EB, EC = a - a0, a.subs(PHI_C, 0) - a0, a.subs(PHI_B, 0) - a0
    return Ec / (EB + EC)


def synergy_identity(welfare_mode="sum", theta=_SYNERGY_THETA):
    """The closed form ``1 + (X-1)(Y-1)/((X-1)+(Y-1))`` of docs/models/coop.md (20).

    ``X = k(theta)**(1/(1-beta))`` (benefit only) and
    ``Y = (1 - theta phi_C)**(-1/(1-beta))`` (cost tolerance only), with ``k``
    from :func:`benefit_multiplier`.

    Returns
    -------
    sympy.Expr
    """
    t = exact(theta)
    p = 1 / (1 - BETA)
    X = benefit_multiplier(welfare_mode).subs(THETA, t) ** p
    Y = (1 - t * PHI_C) ** (-p)
    return 1 + (X - 1) * (Y - 1) / ((X - 1) + (Y - 1))


# --------------------------------------------------------------------------
# comparative statics (docs/models/coop.md, section "Comparative statics")
# --------------------------------------------------------------------------
@cache
def comparative_statics(welfare_mode="sum"):
    """``d log a*(theta) / d x`` of the interior symmetric effort for each parameter ``x``.

    Derived by differentiating ``log`` of :func:`symmetric_equilibrium_effort`
    (after ``expand_log``); the sign equals that of ``d a*/d x`` since
    ``a* > 0``. ``n`` is treated as continuous. Expected:
    ``theta``: ``(1/(1-beta)) [k_theta/k + phi_C/(1 - theta phi_C)]``;
    ``c``: ``-1/((1-beta) c)``; ``omega``: ``1/((1-beta) omega)``;
    ``n``: ``(1/(1-beta)) [-(2-beta)/n + k_n/k]``.

    Returns
    -------
    dict of str to sympy.Expr
        Keyed by :data:`COMPARATIVE_STATICS_VARIABLES`.
    """
    log_a = sp.expand_log(sp.log(symmetric_equilibrium_effort(welfare_mode)), force=True)
    return {name: sp.simplify(sp.diff(log_a, _VAR_SYMBOLS[name]))
            for name in COMPARATIVE_STATICS_VARIABLES}


def domain_substitution(bounded_benefit=False):
    """Substitution encoding the model's domains with positive dummy symbols (for sign proofs).

    ``beta = 1/(1+u)`` (so ``0 < beta < 1``), ``n = 1 + m`` (``n > 1``),
    ``phi_C = 1/(theta (1+s))`` (``theta phi_C < 1``) and, when
    ``bounded_benefit``, ``phi_B = 1/(theta (1+t))`` with ``t >= 0``
    (``theta phi_B <= 1``, the condition for ``d a*/d n < 0`` in the
    paper variant; always true for ``theta, phi_B`` in ``[0, 1]``).

    Returns
    -------
    dict of sympy.Symbol to sympy.Expr
    """
    sub = {BETA: 1 / (1 + _U), N: 1 + _M, PHI_C: 1 / (THETA * (1 + _SC))}
    if bounded_benefit:
        sub[PHI_B] = 1 / (THETA * (1 + _TB))
    return sub


def comparative_static_sign(name, welfare_mode="sum"):
    """Sign of ``d a*/d x`` proved by sympy on the model's domain, or 0 if undetermined.

    The derivative of :func:`comparative_statics` is rewritten with
    :func:`domain_substitution` (``bounded_benefit`` for ``x = n``) and put
    over a common denominator; sympy's assumption system then decides the
    sign. Expected: ``+1`` for ``theta``, ``phi_B``, ``phi_C`` (``theta > 0``)
    and ``omega``; ``-1`` for ``c`` and ``n``.

    Parameters
    ----------
    name : str
        One of :data:`COMPARATIVE_STATICS_VARIABLES`.
    welfare_mode : {"sum", "mean"}, default "sum"

    Returns
    -------
    int
        ``+1``, ``-1`` or ``0`` (sign not established).
    """
    if name not in _VAR_SYMBOLS:
        raise ValueError(f"name must be one of {COMPARATIVE_STATICS_VARIABLES}, got {name!r}")
    d = comparative_statics(welfare_mode)[name]
    d = sp.factor(sp.together(d.subs(domain_substitution(bounded_benefit=name == "n"),
                                     simultaneous=True)))
    if d.is_positive:
        return 1
    if d.is_negative:
        return -1
    return 0


# --------------------------------------------------------------------------
# numeric evaluation
# --------------------------------------------------------------------------
_NAMES = {"omega": OMEGA, "beta": BETA, "c": C, "n": N, "theta": THETA, "phi_B": PHI_B,
          "phi_C": PHI_C, "S": S, "a": A, "S_minus": S_MINUS, "a_min": A_MIN, "a_max": A_MAX}


def evaluate(expr, digits=30, **values):
    """Evaluate ``expr`` at exact values of the named symbols, to ``digits`` digits.

    Parameters
    ----------
    expr : sympy.Expr
    digits : int, default 30
    **values
        ``omega=..., beta=..., theta=...`` (names as in :data:`_NAMES`); floats
        are taken as ``Float`` of ``digits + 10`` digits, other numbers by
        :func:`exact`.

    Returns
    -------
    float
    """
    unknown = set(values) - set(_NAMES)
    if unknown:
        raise ValueError(f"unknown symbol names {sorted(unknown)}")
    # floats enter as high-precision Floats: exact rationals with huge
    # denominators make powers like x**(1/(1-beta)) very slow to evaluate
    sub = {_NAMES[k]: sp.Float(repr(v), digits + 10) if isinstance(v, float) else exact(v)
           for k, v in values.items()}
    return float(sp.N(expr.subs(sub, simultaneous=True), digits))
