"""Gamma check: the length predictor on a run's hidden states, and guided decoding of the model."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
from scipy import stats

from validation.check._common import Z99, Row, run_task, verdict
from validation.check._common import bootstrap as _bootstrap

NAME = "gamma"
NEEDS_MODEL = True

TOL_COVERAGE = 0.05
TOL_RELIABILITY = 0.05
POS_SCALE = 64.0


def predictor_data(hidden, lengths_ok=True):
    """Positions of a run's ``hidden.npz`` as :class:`validation.gamma.PredictorData`.

    Keeps closed traces (``remaining >= 1``); the candidate token is the
    ``token`` array, the trace id the row, the position feature ``t / 64``
    (:func:`validation.gamma.hidden_predictor_data`).
    """
    from validation import gamma as vg

    return vg.hidden_predictor_data(hidden)


def hidden_run(run):
    """The run whose hidden states train the predictor: ``run`` itself when it has them, else
    its hidden-state companion ``<RUN>-hidden`` beside it or ``runs/<name>-hidden`` (a run of the
    same model written with ``--hidden``, e.g. the first questions of the same question set;
    the recorded SmolLM2 run keeps its 169 MB of states out of the repository this way).
    """
    from validation import records

    if run.hidden is not None:
        return run
    name = run.path.name + "-hidden"
    places = [run.path.parent / name, Path("runs") / name]
    for place in places:
        if (place / "meta.json").is_file():
            other = records.read_run(place)
            if other.hidden is None:
                continue
            if other.meta.get("checkpoint_sha256") != run.meta.get("checkpoint_sha256"):
                raise ValueError(f"the hidden-state run {place} is of another model "
                                 f"(checkpoint {str(other.meta.get('checkpoint_sha256'))[:12]} "
                                 f"vs {str(run.meta.get('checkpoint_sha256'))[:12]})")
            return other
    raise ValueError("the gamma check needs hidden states: a run written with --hidden, or its "
                     "hidden-state run at " + " or ".join(str(p) for p in places))


def guidance_processor(predictor, budget, *, temperature=1.0, trigger="newline"):
    """A JAX logits processor: budget guidance with a fitted predictor (docs/models/gamma.md (11)).

    At a guided step it adds ``temperature * log a_v`` to the raw logits,
    ``a_v = F(log(b_t + 1); alpha_v, rate_v)`` with ``b_t = max(budget - t, 1)``
    and the predictor's whole-vocabulary ``(alpha, rate)`` from the current
    hidden states. The sampler divides by the temperature afterwards, so the
    result is ``q ∝ p_T a`` (open choice "logits processors": the temperature
    applies before the weights; pure-Bayes log space with the tail-safe weight
    (14), falling back to ``p`` in a row with no positive weight). ``trigger``:
    ``"newline"`` guides the first thinking token and every token after a
    newline (the authors' code); ``"every_token"`` guides every thinking step.
    """
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import gammainc, gammaln

    from validation import gamma as vg
    from validation import task

    params = jax.tree_util.tree_map(jnp.asarray, predictor.params)
    cfg = predictor.config
    newline = task.VOCAB.index("\n")
    budget = float(budget)
    temperature = float(temperature) if temperature > 0 else 1.0

    def proc(logits, state):
        h = state["hidden"].astype(jnp.float32)
        t = state["thinking_position"]
        pos = (t.astype(jnp.float32) / POS_SCALE)[:, None]
        z = vg._encode(params, cfg, h, pos)
        alpha = jax.nn.softplus(z @ params["w_alpha"].T)
        rate = jax.nn.softplus(z @ params["w_rate"].T)
        b = jnp.maximum(budget - t.astype(jnp.float32), 1.0)[:, None]
        x = rate * jnp.log(b + 1.0)
        p = gammainc(alpha, x)
        lead = alpha * jnp.log(x) - x - gammaln(alpha + 1.0)
        loga = jnp.where(p > 0, jnp.log(jnp.where(p > 0, p, 1.0)), lead)
        guided = logits + temperature * loga
        ok = jnp.any(jnp.isfinite(guided), axis=-1)
        rows = jnp.arange(logits.shape[0])
        prev = state["tokens"][rows, state["position"]]
        gate = state["thinking"] & state["generating"]
        if trigger == "newline":
            gate = gate & ((t == 0) | (prev == newline))
        gate = gate & ok
        return jnp.where(gate[:, None], guided, logits)

    return proc


def _decode_stats(samples, targets, budget):
    from validation import task

    T = np.array([s.thinking_length for s in samples])
    closed = np.array([s.finished for s in samples])
    correct = np.array([task.check_answer(s.answer, t) for s, t in zip(samples, targets)])
    over = np.maximum(T - budget, 0)
    return dict(adherence=float((T <= budget).mean()), mean_length=float(T.mean()),
                overshoot_p90=float(np.quantile(over, 0.9)), accuracy=float(correct.mean()),
                runaway=float((~closed).mean()), n=int(T.size), T=T, correct=correct)


def check_gamma(run, adapter, *, steps=4000, budgets_frac=(0.25, 0.5, 1.0), questions=200,
                seed=0, reps=200, likelihood="discrete", compare_faithful=True):
    """Predictor quality on held-out traces and guided decoding of the real model.

    docs/models/gamma.md, "Checking on a real model". The run's hidden states
    are split by question: 70 % train the predictor (:mod:`validation.gamma`,
    MLP encoder over all layers, per-token heads, position feature; trained by
    the discrete likelihood of docs/models/gamma.md (4), which JAX can
    differentiate in the shape; with ``compare_faithful`` the authors'
    continuous-density loss (9) is trained too and its calibration reported as
    an alternative), 30 % evaluate it against an unconditional Gamma and a
    position-only (bucketed) Gamma: mean discrete NLL (paired bootstrap),
    randomised PIT (25), central-interval coverage and event reliability (26)
    at the guided budgets. Then ``questions`` held-out questions are decoded
    at budgets of 1/4, 1/2 and 1 times the run's median thinking length:
    unguided, hard truncation (``max_thinking``) and guided.

    Returns
    -------
    rows : list of Row
    detail : dict
    """
    from theory import gamma as tg
    from validation import gamma as vg
    from validation import task

    hrun = hidden_run(run)
    data, keep = predictor_data(hrun.hidden)
    table = hrun.table
    qid = table["question_id"].to_numpy()[hrun.hidden["row"][keep]]
    uq = np.unique(qid)
    gen = np.random.default_rng(seed)
    test_q = gen.choice(uq, size=max(1, int(0.3 * uq.size)), replace=False)
    test = np.isin(qid, test_q)
    train = data.subset(~test)
    held = data.subset(test)
    hf = hasattr(adapter, "tokenizer")
    # the project's model: its whole vocabulary; a Hugging Face model: the candidates seen
    # (ids beyond get the untrained law in the processor)
    n_vocab = int(data.tokens.max()) + 1 if hf else len(task.VOCAB)

    def fit(likelihood):
        cfg = vg.PredictorConfig(n_vocab=n_vocab, d_in=data.h.shape[2],
                                 n_layers_in=data.h.shape[1], encoder="mlp", width=64, depth=2,
                                 use_position=True, n_pos=1, likelihood=likelihood, seed=seed)
        pred = vg.fit_predictor(cfg, train, steps=steps, lr=1e-2, batch_size=512, seed=seed,
                                schedule="cosine")
        layers = hrun.meta.get("hidden_layers") or list(range(data.h.shape[1]))
        info = dict(layers=[int(x) for x in layers], pos_scale=POS_SCALE)
        if hf:   # candidates never seen in training take the position-only law
            info.update(vg.fallback_info(train, vg.fit_position_buckets(train.pos[:, 0],
                                                                        train.lengths)))
        return dataclasses.replace(pred, info=info)

    pred = fit(likelihood)
    a_p, r_p = vg.predict(pred, held.h, held.pos, held.tokens)
    unc = vg.fit_unconditional(train.lengths)
    buckets = vg.fit_position_buckets(train.pos[:, 0], train.lengths)
    a_b, r_b = vg.predict_position(buckets, held.pos[:, 0])
    L = held.lengths
    nll = {
        "predictor": -tg.length_logpmf(L, a_p, r_p),
        "unconditional": -tg.length_logpmf(L, np.full(L.size, unc.alpha),
                                           np.full(L.size, unc.rate)),
        "position": -tg.length_logpmf(L, a_b, r_b),
    }
    traces = held.traces
    ut = np.unique(traces)
    tr_index = np.searchsorted(ut, traces)

    def per_trace(x):
        s = np.bincount(tr_index, weights=x, minlength=ut.size)
        c = np.bincount(tr_index, minlength=ut.size)
        return s, c

    rows = []
    detail = dict(nll={k: float(v.mean()) for k, v in nll.items()}, n_train=int(train.h.shape[0]),
                  n_held=int(L.size), history=np.asarray(pred.history))
    for base in ("unconditional", "position"):
        s_p, c = per_trace(nll["predictor"])
        s_b, _ = per_trace(nll[base])
        boot = _bootstrap(lambda idx, s_p=s_p, s_b=s_b, c=c: [s_p[idx].sum() / c[idx].sum(),
                                                              s_b[idx].sum() / c[idx].sum()],
                          ut.size, reps, seed)
        diff = boot[:, 1] - boot[:, 0]
        lo, hi = np.quantile(boot[:, 1], [0.025, 0.975])
        better = float(np.quantile(diff, 0.005)) > 0
        rows.append(Row("gamma", f"held-out discrete NLL: predictor vs {base} Gamma",
                        float(nll["predictor"].mean()), float(nll[base].mean()), lo, hi,
                        "pass" if better else "fail", 0.0))
    # Calibration: one position per trace for the PIT (positions within a trace are dependent).
    pick = np.array([gen.choice(np.nonzero(tr_index == i)[0]) for i in range(ut.size)])
    u = tg.randomized_pit(L[pick], a_p[pick], r_p[pick], seed=seed)
    ks = tg.pit_uniformity(u)
    rows.append(Row("gamma", f"randomised PIT, KS distance (one position per trace, "
                             f"{likelihood} training)", 0.0,
                    ks.ks_statistic, 0.0, float(stats.kstwo.ppf(0.99, u.size)),
                    "pass" if ks.p_value > 0.01 else "fail", float("nan")))
    if compare_faithful and likelihood != "continuous":
        # The authors' loss (density of log(L+1), (9)) as an alternative theory.
        alt = fit("continuous")
        a_c, r_c = vg.predict(alt, held.h, held.pos, held.tokens)
        ks_c = tg.pit_uniformity(tg.randomized_pit(L[pick], a_c[pick], r_c[pick], seed=seed))
        nll_c = float(-tg.length_logpmf(L, a_c, r_c).mean())
        rows.append(Row("gamma", f"randomised PIT, KS distance, faithful continuous-density "
                                 f"training (held-out discrete NLL {nll_c:.3f})", 0.0,
                        ks_c.ks_statistic, 0.0, float(stats.kstwo.ppf(0.99, u.size)),
                        "follows" if ks_c.p_value > 0.01 else "departs", float("nan"),
                        primary=False))
        detail["faithful"] = dict(nll=nll_c, ks=ks_c.ks_statistic)
    cov = tg.interval_coverage(L, a_p, r_p, levels=(0.5, 0.9), seed=seed)
    for r in cov.itertuples():
        se_eff = r.se * math.sqrt(L.size / ut.size)  # design effect: dependent positions
        rows.append(Row("gamma", f"central {100 * r.level:.0f}% interval coverage",
                        r.level, r.coverage_randomized, r.level - 1.96 * se_eff,
                        r.level + 1.96 * se_eff,
                        verdict(r.level, r.coverage_randomized, se_eff, TOL_COVERAGE),
                        TOL_COVERAGE))
    med = float(np.median(run.table["thinking_length"][run.table["finished"]]))
    budgets = sorted({max(1, int(round(f * med))) for f in budgets_frac})
    rel = tg.event_reliability(L, a_p, r_p, budgets)
    for r in rel.summary.itertuples():
        se = math.sqrt(max(r.observed * (1 - r.observed), 1e-4) / ut.size)
        rows.append(Row("gamma", f"event P(L <= {int(r.budget)}): mean predicted vs frequency "
                                 f"(ECE {r.ece:.3f})",
                        r.mean_predicted, r.observed, r.observed - 1.96 * se,
                        r.observed + 1.96 * se,
                        verdict(r.mean_predicted, r.observed, se, TOL_RELIABILITY),
                        TOL_RELIABILITY))
    detail.update(pit=u, coverage=cov, reliability=rel, budgets=budgets, median_length=med)

    # Guided decoding on held-out questions.
    dec = run.meta.get("decoding", {})
    temperature = float(dec.get("temperature", 0.8))
    top_p = float(dec.get("top_p", 0.95))
    lo_d, hi_d = int(run.table["difficulty"].min()), int(run.table["difficulty"].max())
    qs = run_task(run).make_questions(questions, difficulty=(lo_d, hi_d), seed=seed + 7919)
    prompts = [q.text for q in qs]
    targets = [str(q.answer) for q in qs]
    kw = dict(temperature=temperature, top_p=top_p, seed=seed + 1)
    base = _decode_stats(adapter.generate(prompts, **kw), targets, 10 ** 9)
    if hf:
        from validation.guidance import BudgetGuidanceLogitsProcessor
        from validation.guidance import core as gcore

        ends = gcore.end_sequences(adapter.tokenizer, (adapter.fmt.forced,))
        lines = gcore.newline_ids(adapter.tokenizer)

        def guider(b):
            return BudgetGuidanceLogitsProcessor(pred, b, temperature=temperature, end_ids=ends,
                                                 newline_token_ids=lines)
    else:
        def guider(b):
            return guidance_processor(pred, b, temperature=temperature)
    detail["decoding"] = {"unguided": base}
    for b in budgets:
        forced = _decode_stats(adapter.generate(prompts, max_thinking=b, **kw), targets, b)
        guided = _decode_stats(adapter.generate(
            prompts, logits_processor=guider(b), **kw), targets, b)
        unguided_adh = float((base["T"] <= b).mean())
        se = math.sqrt(max(guided["adherence"] * (1 - guided["adherence"]), 0.25 / len(qs))
                       / len(qs))
        rows.append(Row("gamma", f"adherence P(T <= {b}): guided vs unguided (must rise)",
                        unguided_adh, guided["adherence"], guided["adherence"] - 1.96 * se,
                        guided["adherence"] + 1.96 * se,
                        "pass" if guided["adherence"] > unguided_adh else "fail", 0.0))
        se_a = math.sqrt((guided["accuracy"] * (1 - guided["accuracy"])
                          + forced["accuracy"] * (1 - forced["accuracy"])) / len(qs) + 1e-12)
        rows.append(Row("gamma", f"accuracy at budget {b}: budget forcing vs guided "
                                 f"(mean T {forced['mean_length']:.0f} vs "
                                 f"{guided['mean_length']:.0f})",
                        forced["accuracy"], guided["accuracy"],
                        guided["accuracy"] - 1.96 * se_a, guided["accuracy"] + 1.96 * se_a,
                        "follows" if guided["accuracy"] >= forced["accuracy"] - Z99 * se_a
                        else "departs", float("nan"), primary=False))
        detail["decoding"][f"forced {b}"] = forced
        detail["decoding"][f"guided {b}"] = guided
    detail["predictor"] = pred
    return rows, detail


def plot_check(detail, axes=None):
    """The gamma check's figure: PIT, event reliability and guided decoding of the real model.

    Three panels: the randomised PIT of the held-out predictions (one position
    per trace; docs/models/gamma.md (25)), the reliability of the guidance
    event at each budget ((26); marker area in proportion to the positions in a
    bin), and accuracy against mean thinking length for budget forcing and
    budget guidance at each budget, with unguided decoding.

    Parameters
    ----------
    detail : dict
        The second result of :func:`check_gamma`.
    axes : sequence of three matplotlib.axes.Axes or None
        Default: a new pyplot figure.

    Returns
    -------
    ndarray of matplotlib.axes.Axes
    """
    from sim.gamma.plot import plot_pit

    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 3, figsize=(10.5, 3.2), layout="constrained")
    a0, a1, a2 = np.asarray(axes).ravel()[:3]
    plot_pit(detail["pit"], a0, bins=10, title="randomised PIT, held out")
    rel = detail["reliability"].table
    for i, (b, g) in enumerate(rel.groupby("budget")):
        # marker area in proportion to the positions in the bin: sparse bins are noisy
        a1.plot(g.mean_predicted, g.observed, "-", lw=0.8, color=f"C{i}", label=f"b = {int(b)}")
        a1.scatter(g.mean_predicted, g.observed, s=60 * g["count"] / g["count"].max() + 4,
                   color=f"C{i}", alpha=0.8, lw=0)
    a1.plot([0, 1], [0, 1], "k--", lw=0.8, label="calibrated")
    a1.set_xlim(0, 1)
    a1.set_ylim(0, 1)
    a1.set_xlabel("predicted P(L ≤ b)", fontsize=8)
    a1.set_ylabel("observed frequency", fontsize=8)
    a1.set_title("reliability of the guidance event", fontsize=9)
    a1.legend(fontsize=7, frameon=False)
    dec = detail["decoding"]
    budgets = detail["budgets"]
    for kind, mk, label in (("forced", "s", "budget forcing"), ("guided", "o", "budget guidance")):
        x = [dec[f"{kind} {b}"]["mean_length"] for b in budgets]
        y = [dec[f"{kind} {b}"]["accuracy"] for b in budgets]
        a2.plot(x, y, mk + "-", ms=4, label=label)
        if kind == "guided":
            for b, xi, yi in zip(budgets, x, y):
                a2.annotate(f"b={b}", (xi, yi), textcoords="offset points", xytext=(4, -9),
                            fontsize=6)
    a2.plot([dec["unguided"]["mean_length"]], [dec["unguided"]["accuracy"]], "k*", ms=9,
            label="unguided")
    a2.set_xlabel("mean thinking length (tokens)", fontsize=8)
    a2.set_ylabel("accuracy", fontsize=8)
    a2.set_title("guided decoding of the real model", fontsize=9)
    a2.legend(fontsize=7, frameon=False)
    for ax in (a1, a2):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return np.asarray(axes)


#: Default sizes of the check (held-out questions decoded, predictor training steps).
SIZES = dict(gamma_questions=120, gamma_steps=4000)
#: Size of the report's figure (inches) and its number of panels.
FIGSIZE = (10.5, 3.2)
PANELS = 3


def check(run, adapter=None, *, seed=0, sizes=None):
    """The gamma check on a loaded run: ``(rows, detail)`` (the check's common entry point).

    ``adapter`` runs the model (guided decoding); ``sizes`` overrides :data:`SIZES`.
    """
    sizes = {**SIZES, **(sizes or {})}
    return check_gamma(run, adapter, seed=seed, questions=sizes["gamma_questions"],
                       steps=sizes["gamma_steps"])


def plot(detail, ax=None):
    """The check's figure on ``ax`` (a sequence of 3 axes; new ones when None); returns it."""
    return plot_check(detail, ax)
