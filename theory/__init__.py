"""Closed forms of the budgetlab models.

One module per model (``theory.phase``, ...): pure, vectorised numpy/scipy
functions of validated parameters, each citing the paper equation or theorem it
implements, or saying how it was derived. ``theory.symbolic`` holds the sympy
derivations that certify them. Simulators in ``sim`` call these functions and
never re-derive a formula.
"""
