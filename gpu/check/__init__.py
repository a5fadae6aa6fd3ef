"""GPU checks: ``python -m gpu.check <model>``.

One module per model (``gpu.check.phase``, ...), each with
``check(xp, trials, bench_trials, out=print) -> (ok, records)`` that runs the
model's array kernel on CuPy (or on NumPy with ``--device cpu``) against the
Numba kernel and measures its speed; ``gpu.check.runs`` and
``gpu.check.validation`` sample and check the in-project model with JAX.
The models come from :data:`sim.registry.MODELS`.
"""
