"""One guided decoding step of the budget-guidance processors, side by side.

``python benchmarks/guidance.py [--rows 64] [--vocab 49152] [--repeat 5]`` times, for one batch
of next-token logits of a SmolLM2-sized model (hidden size 576, a 64-wide MLP predictor over one
layer, per-token heads over the whole vocabulary):

* the hidden-state predictor's guided step (:func:`validation.guidance.core.guide_logits`, torch,
  one thread), every row guided;
* the same step with the position-only predictor (what the vLLM processor does);
* ``theory.gamma.guide`` in Bayes mode on NumPy (the reference law) on the same laws;
* the model's own cost per step is not timed here: compare with the engine table of
  docs/real-models.md (about 10 ms per token at batch 64 on one core).

Ratios are to the hidden-state step, measured in one process on a shared machine.
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_of as _best  # benchmarks/ is on sys.path when run as a script


def main(argv=None):
    import torch

    from theory import gamma as tg
    from validation import gamma as vg
    from validation.guidance import LengthModel, core

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=64)
    p.add_argument("--vocab", type=int, default=49152)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    cfg = vg.PredictorConfig(n_vocab=args.vocab, d_in=576, n_layers_in=1, width=64, depth=2)
    pred = vg.Predictor(params=vg.init_params(cfg), config=cfg,
                        info=dict(layers=[20], pos_scale=64.0))
    hid = LengthModel(pred)
    pos = LengthModel(vg.PositionBuckets(edges=np.array([-np.inf, 0.3, np.inf]),
                                         alpha=np.array([30.0, 20.0]),
                                         rate=np.array([9.0, 9.0]), counts=np.array([1, 1])))
    gen = torch.Generator().manual_seed(0)
    A, V = args.rows, args.vocab
    logits = torch.randn(A, V, generator=gen) * 3
    h = torch.randn(A, 1, 576, generator=gen)
    t = torch.randint(0, 60, (A,), generator=gen)
    gate = torch.ones(A, dtype=torch.bool)
    alpha, rate = (x.double().numpy() for x in hid.laws(t, h))
    rem = np.maximum(80 - t.numpy(), 1).astype(float)
    z = logits.double().numpy()
    cases = [
        ("guide_logits, hidden-state predictor", lambda: core.guide_logits(
            logits, hid, t, 80, gate, temperature=0.8, hidden=h)),
        ("guide_logits, position-only predictor", lambda: core.guide_logits(
            logits, pos, t, 80, gate, temperature=0.8)),
        ("theory.gamma.guide, numpy, bayes", lambda: tg.guide(z, alpha, rate, rem,
                                                              mode="bayes")),
    ]
    times = [(name, _best(fn, args.repeat)) for name, fn in cases]
    print(f"one guided step, {A} rows x {V} candidates (best of {args.repeat}, one thread)")
    print(f"{'implementation':42s} {'ms/step':>9s} {'ratio':>7s}")
    for name, sec in times:
        print(f"{name:42s} {1e3 * sec:9.1f} {sec / times[0][1]:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
