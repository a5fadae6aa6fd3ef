"""``python -m gpu.check``: the command line of the GPU checks."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys

import numpy as np

from sim import _cli, guard
from sim.backends import BackendUnavailable, array_module
from sim.registry import MODELS as _MODELS

#: Checks of the in-project model with JAX, beside the models' kernel checks.
JAX_CHECKS = ("runs", "validation")
#: Every check this command runs: the registered models that have a GPU check, then the JAX ones.
MODELS = tuple(m for m in _MODELS if importlib.util.find_spec(f"gpu.check.{m}")) + JAX_CHECKS

def _jax_gpu_or_fail():
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if not gpus:
        raise ValueError("JAX sees no GPU (install a CUDA build: pip install 'jax[cuda12]'), "
                         "or use --device cpu")


def _params(args):
    return dict(model=args.model, device=args.device, trials=args.trials,
                bench_trials=args.bench_trials)


@_cli.command("python -m gpu.check")
def main(argv=None):
    parser = _cli.ArgumentParser(prog="python -m gpu.check",
                                 description="Check a GPU kernel against the Numba kernel.")
    _cli.add_version(parser)
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--device", choices=("gpu", "cpu"), default="gpu",
                        help="gpu (CuPy) or cpu (the same array code on NumPy, small sizes)")
    parser.add_argument("--trials", type=_cli.integer, default=None,
                        help="Monte Carlo size of each agreement case, in the model's unit "
                        "(trees, questions, batch replicates, teams, runs; default 2**20 on "
                        "gpu, 4096 on cpu); for runs and validation: traces to sample (default "
                        "and minimum 100000 on gpu, 256 on cpu)")
    parser.add_argument("--bench-trials", type=_cli.integer, default=None,
                        help="trees timed for throughput (default 2**24 on gpu, 8192 on cpu)")
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.add_argument("--real-model", default=None, metavar="MODEL",
                        help="runs: sample this Hugging Face model (smollm2 or hf:PATH) with "
                             "transformers (CUDA when available), with and without budget "
                             "guidance, instead of the in-project model")
    parser.add_argument("--predictor", default=None, metavar="FILE.npz",
                        help="runs --real-model: the guidance predictor (python -m "
                             "validation.gamma; default: the position-only law of the recorded "
                             "SmolLM2 run)")
    _cli.add_guard_argument(parser)
    args = parser.parse_args(argv)
    if (args.real_model or args.predictor) and args.model != "runs":
        return _cli.fail(parser.prog, ValueError("--real-model and --predictor apply to the runs "
                                                 "check only"))
    if args.model in JAX_CHECKS:
        try:
            if args.predictor and not args.real_model:
                raise ValueError("--predictor needs --real-model")
            if args.predictor:
                _cli.regular_file(args.predictor, "--predictor")
            if args.device == "gpu" and not args.real_model:
                _jax_gpu_or_fail()
            if args.trials is not None and args.trials < 1:
                raise ValueError("trials (traces to sample) must be >= 1")
        except ValueError as exc:
            return _cli.fail(parser.prog, exc)
        say = (lambda s: None) if args.json else print
        say(f"gpu.check {args.model} on jax {args.device}")
        fn = importlib.import_module(f"gpu.check.{args.model}").check
        kw = dict(model=args.real_model, predictor=args.predictor) if args.real_model else {}
        ok, records = fn(args.device == "gpu", args.trials, out=say, **kw)
        if args.json:
            print(json.dumps(_cli.envelope(_params(args), model=args.model, device=args.device,
                                           ok=ok, records=records)))
        else:
            print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    try:
        xp = array_module("cupy") if args.device == "gpu" else np
        trials = ((1 << 20) if args.device == "gpu" else 4096) if args.trials is None \
            else args.trials
        bench = ((1 << 24) if args.device == "gpu" else 8192) if args.bench_trials is None \
            else args.bench_trials
        if trials < 64:
            raise ValueError(f"trials must be >= 64, got {trials}")
        if bench < 64:
            raise ValueError(f"bench-trials must be >= 64, got {bench}")
        limit = 1 << 30
        guard.check("--trials", work=trials, unit="trials per case", work_limit=limit,
                    allow=args.yes)
        guard.check("--bench-trials", work=bench, unit="trials", work_limit=limit,
                    allow=args.yes)
    except (BackendUnavailable, ValueError) as exc:
        return _cli.fail(parser.prog, exc)
    say = (lambda s: None) if args.json else print
    say(f"gpu.check {args.model} on {xp.__name__}")
    check = importlib.import_module(f"gpu.check.{args.model}").check
    ok, records = check(xp, trials, bench, out=say)
    if args.json:
        print(json.dumps(_cli.envelope(_params(args), model=args.model, device=args.device, ok=ok,
                                       records=records)))
    else:
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
