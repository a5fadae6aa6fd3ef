"""The majority map ``f_b`` of ``b`` independent votes and its correlated form ``f_{b,rho}``.

``docs/models/phase.md (1)-(3)``.
"""

from __future__ import annotations

from theory._params import accepts_params, check_odd_int, check_real_array
from theory.phase._numeric import _f, _fprime, _fprime0, _out

__all__ = ["f_b", "f_b_prime", "f_b_prime0", "f_b_rho"]


@accepts_params
def f_b(mu, b):
    """Majority map of ``b`` independent +-1 votes with common bias ``mu``.

    ``f_b(mu) = 2 P[Bin(b, (1+mu)/2) >= (b+1)/2] - 1
    = f_b'(0) * int_0^mu (1 - u^2)^((b-1)/2) du`` (``docs/models/phase.md (1)``;
    the standard binomial tail, its integral form derived here). Evaluated as a
    Horner polynomial for ``b <= 15`` and as ``sign(mu) * I_{mu^2}(1/2, (b+1)/2)`` (regularised
    incomplete Beta) above, both to about 1e-15 relative.

    Parameters
    ----------
    mu : array_like
        Input bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 1`` (``b = 1`` is the identity).

    Returns
    -------
    float or ndarray
        Output bias; odd, increasing, concave on ``[0, 1]``, ``f_b(1) = 1``.
    """
    b = check_odd_int("b", b, lo=1)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    return _out(_f(mu, b))


@accepts_params
def f_b_prime(mu, b):
    """Derivative of the majority map, ``f_b'(mu) = f_b'(0) (1 - mu^2)^((b-1)/2)``.

    ``docs/models/phase.md (2)``, derived here by differentiating the integral
    form of :func:`f_b`.

    Parameters
    ----------
    mu : array_like
        Bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 1``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b, lo=1)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    return _out(_fprime(mu, b))


@accepts_params
def f_b_prime0(b):
    """Slope of the majority map at zero, ``b C(b-1, (b-1)/2) / 2^(b-1)``.

    The paper's closed form (``docs/models/phase.md (2)``); it enters the gain
    of paper Thm 4.
    Computed from the exact rational. ``f_b'(0) ~ sqrt(2 b / pi)`` for large
    ``b`` (derived here, by Stirling's formula).

    Parameters
    ----------
    b : int
        Odd fan-in ``>= 1``.

    Returns
    -------
    float
    """
    b = check_odd_int("b", b, lo=1)
    return _fprime0(b)


@accepts_params
def f_b_rho(mu, b, rho):
    """Correlated majority map ``f_{b,rho}(mu) = rho mu + (1 - rho) f_b(mu)``.

    ``docs/models/phase.md (3)``. The name is the paper's; this form is derived
    here from the
    paper's slope ``rho + (1 - rho) f_b'(0)`` and its reading of ``rho`` as the
    pairwise correlation of signed correctness, and is realised exactly by
    node herding (``docs/models/phase.md (23)``).

    Parameters
    ----------
    mu : array_like
        Bias in ``[-1, 1]``.
    b : int
        Odd fan-in ``>= 3``.
    rho : array_like
        Correlation in ``[0, 1)``.

    Returns
    -------
    float or ndarray
    """
    b = check_odd_int("b", b)
    mu = check_real_array("mu", mu, -1.0, 1.0)
    rho = check_real_array("rho", rho, 0.0, 1.0, hi_open=True)
    return _out(rho * mu + (1.0 - rho) * _f(mu, b))
