"""Uncertainty after a token budget, utility, and the allocation objective.

``docs/models/bbam.md`` (1)-(3): a sub-question's uncertainty after ``b``
tokens is ``c b**-beta + u_ale``, its utility is ``alpha (1 - U)``, and the
allocation problem minimises ``sum_j c_j b_j**-beta_j`` over a question's
sub-questions under the budget.
"""

from __future__ import annotations

import numpy as np

from theory._params import check_real_array
from theory.bbam._layout import NONNEG, POS, checked, layout, lead_out, out

__all__ = ["uncertainty", "utility", "objective"]


def _power_law(b, c, beta):
    """``c * b**(-beta)`` with ``inf`` at ``b == 0`` and no warnings."""
    with np.errstate(divide="ignore", over="ignore"):
        return c * np.power(b, -beta)


def uncertainty(b, c, beta, u_ale=0.0):
    """Total predictive uncertainty ``U(b) = c b**(-beta) + u_ale``, docs/models/bbam.md (1).

    The epistemic part follows the paper's inverse power law ``c / b**beta``
    (an assumption of the paper, not derived there) and the aleatoric part
    ``u_ale`` is constant in the budget (the paper's decomposition). No
    clipping to ``[0, 1]`` is done (docs/models/bbam.md, "Open choices").

    Parameters
    ----------
    b : array_like
        Tokens spent, ``>= 0`` (``b == 0`` gives ``inf``).
    c : array_like
        Initial epistemic uncertainty (the value at ``b = 1``), ``> 0``.
    beta : array_like
        Power-law exponent, ``> 0`` (the paper assumes ``beta >= 1``).
    u_ale : array_like, default 0.0
        Aleatoric uncertainty, ``>= 0``.

    Returns
    -------
    float or ndarray
        Broadcast of the inputs.
    """
    b = check_real_array("b", b, **NONNEG)
    c = check_real_array("c", c, **POS)
    beta = check_real_array("beta", beta, **POS)
    u_ale = check_real_array("u_ale", u_ale, **NONNEG)
    return out(_power_law(b, c, beta) + u_ale)


def utility(b, c, beta, u_ale=0.0, alpha=1.0):
    """Utility of a sub-question, ``r(b) = alpha (1 - U(b))``, docs/models/bbam.md (2) (paper).

    Equals ``alpha (1 - u_ale) - alpha c b**(-beta)``; it is ``-inf`` at
    ``b == 0``. No clipping is done, so ``r`` may be negative when
    ``U(b) > 1``.

    Parameters
    ----------
    b, c, beta, u_ale : array_like
        As in :func:`uncertainty`.
    alpha : array_like, default 1.0
        Reward scale, ``> 0``.

    Returns
    -------
    float or ndarray
    """
    alpha = check_real_array("alpha", alpha, **POS)
    u = np.asarray(uncertainty(b, c, beta, u_ale))
    return out(alpha * (1.0 - u))


def objective(b, c, beta, mask=None):
    """Allocation objective ``sum_j c_j b_j**(-beta_j)`` per question, docs/models/bbam.md (3).

    Minimising it under ``sum_j b_j <= B`` is the paper's allocation problem
    (equivalent to maximising the total utility ``sum_j r_j``). It is ``inf``
    when some existing ``b_j == 0``.

    Parameters
    ----------
    b : array_like
        Allocation, ``>= 0``, sub-questions on the last axis.
    c : array_like
        Initial epistemic uncertainties, ``> 0``; broadcasts against ``b``.
    beta : array_like
        Exponents, ``> 0``; broadcasts against ``b``.
    mask : array_like of bool, optional
        Existing sub-questions; the others do not count.

    Returns
    -------
    float or ndarray
        One value per question (the leading shape).
    """
    (b2, c2, beta2), mask2, _, lead, m = layout(
        "b", b, (("c", c), ("beta", beta)), mask)
    b2 = checked("b", b2, mask2, **NONNEG)
    c2 = checked("c", c2, mask2, **POS)
    beta2 = checked("beta", beta2, mask2, **POS)
    terms = _power_law(b2, c2, beta2)
    if mask2 is not None:
        terms[~mask2] = 0.0
    return lead_out(terms.sum(axis=-1), lead)


