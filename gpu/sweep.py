"""A whole phase sweep on one GPU: ``python -m gpu.sweep``.

Points that share the tree shape (``b``, ``depth``, ``root_channel``) are
batched: the 64-trial words of many points are laid side by side and one level
of all their trees is computed per array operation, so the device stays busy
even when each point is small. Each word carries its own point's stream key,
herding probability and channel flip probability; the array kernel
(:func:`sim.phase.kernel_array.chunk_levels`) draws them at the counters of
:mod:`sim.phase.layout`, so every point's words are **bit-identical** to
``sim.phase`` with ``backend="numba"`` (or ``"cupy"``) at the point's seed, and
the rows equal those of ``python -m sim.sweep phase ...`` but for the
``backend`` column. (A node drawn with probability 0 gives the all-zero word,
so drawing it where the single-point kernel skips the draw changes nothing.)

The output directory, manifest, parts, resume and seeds are those of
:mod:`sim.sweep`; ``python -m sim.sweep collect DIR`` gathers the result.
``--device cpu`` runs the same code with NumPy arrays (how the tests run it).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from sim import _cli, sweep
from sim import phase as sim_phase
from sim.backends import BackendUnavailable, array_module
from sim.phase.kernel_array import chunk_levels
from sim.phase.layout import LANES
from sim.sweep import __main__ as sweep_cli
from theory.phase import PhaseParams

__all__ = ["batch_tree_words", "run_phase_sweep", "main"]


def batch_tree_words(params_list, trials, seeds, xp=None, max_elements=1 << 24):
    """Kernel words of many points of one tree shape, computed together.

    Parameters
    ----------
    params_list : sequence of theory.phase.PhaseParams
        Points with equal ``b``, ``depth`` and ``root_channel``.
    trials : int
    seeds : sequence of int
        One seed per point.
    xp : module or None
        ``numpy`` or ``cupy``; ``None`` means CuPy.
    max_elements : int
        Leaf words held at once (memory bound); a launch covers as many words,
        from as many points, as fit.

    Returns
    -------
    list of numpy.ndarray
        Per point, uint64 words of shape (ceil(trials / 64), depth + 1), equal to
        :func:`sim.phase.tree_words_numba` at that point's seed.
    """
    if xp is None:
        xp = array_module("cupy")
    p0 = params_list[0]
    b, depth, root_channel = p0.b, p0.depth, bool(p0.root_channel)
    if any((p.b, p.depth, bool(p.root_channel)) != (b, depth, root_channel)
           for p in params_list):
        raise ValueError("batch_tree_words needs points of one tree shape (b, depth, "
                         "root_channel)")
    kins = [sim_phase.kernel_inputs(p, trials, s, pad_words=1)
            for p, s in zip(params_list, seeds)]
    words = kins[0]["words"]
    key, P_rho, P_eps = (np.repeat(np.array([k[name] for k in kins], dtype=np.uint64), words)
                         for name in ("key", "P_rho", "P_eps"))
    wloc = np.tile(np.arange(words, dtype=np.uint64), len(kins))
    P_out = np.concatenate([k["P_out"] for k in kins])
    P_recv = np.concatenate([k["P_recv"] for k in kins])
    total = key.size
    chunk = max(1, max_elements // max(b ** depth, LANES))
    parts = []
    for w0 in range(0, total, chunk):
        w1 = min(total, w0 + chunk)
        lanes = slice(w0 * LANES, w1 * LANES)
        key_c, wloc_c, rho_c, eps_c = (xp.asarray(a[w0:w1]) for a in (key, wloc, P_rho, P_eps))
        lev = chunk_levels(xp, key_c, wloc_c, xp.asarray(P_out[lanes]), xp.asarray(P_recv[lanes]),
                           rho_c, eps_c, b, depth, root_channel)
        parts.append(lev.get() if hasattr(lev, "get") else np.asarray(lev))
    allw = np.concatenate(parts, axis=0)
    return [allw[i * words:(i + 1) * words] for i in range(len(kins))]


def _simulate_frame(params, words, trials, seed, backend):
    """The frame of :func:`sim.phase.simulate` from precomputed kernel words."""
    df = sim_phase.summarize_levels(params, sim_phase.unpack_levels(words, trials), trials)
    df["quantity"] = "accuracy"
    df["theory"] = df["p_theory"]
    df["estimate"] = df["p_sim"]
    return df


def run_phase_sweep(spec, out, xp=None, max_elements=1 << 24, progress=None, force=False):
    """Run the unfinished points of a phase sweep on one device, batched by tree shape.

    Parameters
    ----------
    spec : sim.sweep.SweepSpec
        A ``phase`` sweep.
    out : str or path
    xp : module or None
        ``None`` uses CuPy (BackendUnavailable without a usable GPU).
    max_elements : int
        Leaf words per launch.
    progress : callable or None
        Called once per written point.

    Returns
    -------
    sim.sweep.SweepSummary
    """
    if spec.model != "phase":
        raise ValueError(f"gpu.sweep runs phase sweeps, got model {spec.model!r}")
    if xp is None:
        xp = array_module("cupy")
    label = "cupy" if xp.__name__ == "cupy" else "array-numpy"
    with sweep.sweep_lock(out):
        return _run_locked(spec, out, xp, label, max_elements, progress, force)


def _run_locked(spec, out, xp, label, max_elements, progress, force):
    finished = sweep.prepare_dir(out, spec, force)
    key = sweep.sweep_key(spec.manifest())
    summary = sweep.SweepSummary(total=spec.size)
    groups = {}
    for values in sweep.point_params(spec):
        if sweep.point_id("phase", values) in finished:
            summary.skipped += 1
            continue
        shape = (values["b"], values["depth"], values["root_channel"])
        groups.setdefault(shape, []).append(values)
    summary.total = summary.skipped + sum(len(v) for v in groups.values())
    words = -(-spec.trials // LANES)
    t0 = time.perf_counter()
    try:
        for (b, depth, _), pts in groups.items():
            per = max(1, max_elements // max(1, words * b ** depth))
            for i in range(0, len(pts), per):
                batch = pts[i:i + per]
                params = [PhaseParams(**v) for v in batch]
                seeds = [sweep.point_seed(spec.seed, "phase", v) for v in batch]
                for v, p, s, w in zip(batch, params, seeds,
                                      batch_tree_words(params, spec.trials, seeds, xp,
                                                       max_elements)):
                    df = _simulate_frame(p, w, spec.trials, s, label)
                    sweep.write_part(out, sweep.tidy_rows("phase", v, df, s, spec.trials,
                                                          label), key)
                    summary.done += 1
                    if progress is not None:
                        progress()
    except KeyboardInterrupt:
        summary.interrupted = True
    summary.wall = time.perf_counter() - t0
    return summary


@_cli.command("python -m gpu.sweep")
def main(argv=None):
    """Run ``python -m gpu.sweep`` (the flags of ``python -m sim.sweep phase``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = sweep_cli._build_parser("phase")
    parser.prog = "python -m gpu.sweep"
    parser.description = ("A whole phase sweep on one GPU, points batched by tree shape "
                          "(flags as python -m sim.sweep phase; --executor is not used).")
    parser.add_argument("--device", default="gpu", choices=("gpu", "cpu"),
                        help="gpu (CuPy, default) or cpu (the same code on NumPy arrays)")
    parser.add_argument("--max-elements", type=int, default=1 << 24,
                        help="leaf words per launch (default 2**24, about 1 GiB of work arrays)")
    args, extra = parser.parse_known_args(["phase"] + argv)
    if extra:
        return _cli.fail(parser.prog, ValueError(f"unknown parameter {extra[0]} for model "
                                                 f"phase"))
    try:
        if args.executor is not None:
            raise ValueError("gpu.sweep runs on one device; --executor is not used")
        if not args.out:
            raise ValueError("--out DIR is required")
        values = {p.name: getattr(args, f"param_{p.name}")
                  for p in sweep.sweep_model("phase").params
                  if getattr(args, f"param_{p.name}") is not None}
        spec = sweep.make_spec("phase", values, trials=args.trials, seed=args.seed or 0,
                               backend="cupy", design=args.design or "grid",
                               points=args.points, yes=args.yes)
        xp = array_module("cupy") if args.device == "gpu" else np
        with sweep.sweep_lock(args.out):
            finished = sweep.prepare_dir(args.out, spec, args.force)
            with _cli.progress_bar(not args.json, "gpu sweep phase", spec.size - len(finished),
                                   unit="points") as advance:
                summary = run_phase_sweep(spec, args.out, xp, args.max_elements, advance)
        if args.plot:
            sweep_cli._write_figure(sweep.collect(args.out), sweep.read_manifest(args.out),
                                    args.plot, args.dpi)
    except (ValueError, TypeError, OSError, BackendUnavailable) as exc:
        return _cli.fail(parser.prog, exc)
    label = f"one device ({'cupy' if args.device == 'gpu' else 'numpy arrays'})"
    if args.json:
        print(json.dumps(_cli.envelope(spec.manifest(), **summary.as_dict(), model="phase",
                                       out=args.out, executor=label, trials=spec.trials,
                                       seed=spec.seed, plot=args.plot)))
    else:
        print(sweep_cli._summary_text(summary, spec, args.out, label,
                                  "cupy" if args.device == "gpu" else "array-numpy"))
    return 130 if summary.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
