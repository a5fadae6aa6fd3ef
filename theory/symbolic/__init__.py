"""Symbolic (sympy) derivations behind the closed forms in :mod:`theory`.

Each module mirrors a numeric module of the same name (``theory.symbolic.phase``
for ``theory.phase``). Its free functions return sympy expressions or exact
``Rational`` values: they derive a closed form from its definition (a binomial
tail, a recursion, a first-order condition, a Beta integral) instead of quoting
it, so that the tests can certify the numeric code against exact arithmetic.
Nothing here is used at run time by the simulators.
"""
