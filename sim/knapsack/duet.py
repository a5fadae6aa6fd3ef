"""DUET beside the knapsack at equal token budget: rewards, lengths, the stop and abort rule.

One batch of the scenario :class:`theory.knapsack.duet.DuetSimParams`
(``docs/models/knapsack.md (31)``): success rates from a Beta law, each
rollout's answer marker at a length from the gamma model's law, the
marker-gated stop and the abort rule of DUET's length axis (``(28)``). Five
allocations spend the same token budget (a share of the full GRPO budget):
uniform, the knapsack (``(5)``), DUET's rollouts alone, DUET with its length
axis, and the knapsack with DUET's length axis. Each is rolled out
``trials`` times; the batch gradient of a tabular policy is estimated per
prompt and the estimate, its variance and the tokens spent stand beside their
closed forms (``(32)``). For DUET the authors' SNIPS weights (``(29)``) and
the estimate without the ``1 / eps_abort`` factor are checked too.

The draws come from the array kernel
:func:`sim.knapsack.kernel_array.duet_draws` (NumPy, or CuPy on a GPU); the
gamma model's quantile function turns a uniform into the marker's position
on the host.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import _cli
from sim import guard as _guard
from sim import rng as _rng
from sim.backends import array_module
from sim.knapsack import kernel_array
from sim.knapsack.core import MAX_WORK as _WORK_LIMIT
from sim.knapsack.layout import DUET_STREAM
from theory import gamma as tg
from theory import knapsack as th
from theory._params import check_choice, check_int
from theory._stats import Moments
from theory.knapsack import duet as du

__all__ = ["DUET_ALLOCATORS", "DUET_ESTIMATORS", "DUET_TRIALS", "ROLLOUT_OPERATIONS",
           "duet_cost", "scenario", "simulate_duet"]

#: The allocations compared at equal token budget.
DUET_ALLOCATORS = ("uniform", "knapsack", "duet-rollouts", "duet", "knapsack+length")
#: Estimators of the batch gradient: the per-prompt mean (the unclamped
#: propensity), the authors' SNIPS weights, and DUET without the abort correction.
DUET_ESTIMATORS = ("unclamped", "authors", "no-abort-correction")
#: Batch replicates of one run.
DUET_TRIALS = 2000
#: Bounds of the knapsack at equal token budget (the authors' 2 and 128).
_KNAPSACK = th.KnapsackParams()
#: What one simulated rollout costs, in the operations of :data:`sim.knapsack.core.MAX_WORK`
#: (about 0.4 microseconds: three words, the length quantile, the stop rule, the estimators).
ROLLOUT_OPERATIONS = 400
#: Bytes one rollout of one replicate holds while a chunk is rolled out.
_ROLLOUT_BYTES = 160


def _max_rollouts(params, duet):
    """A bound on the rollouts of one allocation: every prompt at the largest count allowed."""
    return params.prompts * max(duet.n_max, _KNAPSACK.n_up, duet.ref_n)


def duet_cost(params, duet, trials):
    """The size of :func:`simulate_duet` for :func:`sim.guard.check`: operations and bytes.

    The scenario tabulates every prompt's length law up to ``max_response``
    (about 100 operations and 32 bytes a cell); the replicates roll out every
    allocation at :data:`ROLLOUT_OPERATIONS` a rollout, in chunks of bounded memory.
    """
    cells = float(params.prompts) * params.max_response
    rollouts = float(_max_rollouts(params, duet)) * len(DUET_ALLOCATORS)
    return dict(param="--trials * --prompts and --prompts * --max-response",
                work=100.0 * cells + float(trials) * rollouts * ROLLOUT_OPERATIONS,
                unit="operations", work_limit=_WORK_LIMIT, memory=32.0 * cells + 2**28)


def scenario(params, duet, seed):
    """The batch of one run: rates, length laws and the closed forms of the rollouts' costs.

    Returns
    -------
    dict
        ``p``, ``rate`` (of the gamma model's law per prompt), ``k1``, ``k2``
        (the marker windows at the fixed point of the authors' refit: the
        quantiles of the batch's natural lengths), ``cost0`` and ``cost1``
        (expected tokens of one rollout without and with the length axis),
        ``eligible`` (chance of no marker at the abort checkpoint),
        ``token_budget``.
    """
    gen = _rng.generator(seed, "knapsack/duet")
    M = params.prompts
    p = gen.beta(params.beta_a, params.beta_b, M)
    means = params.mean_length * np.exp(params.length_spread * (0.5 - p))
    rate = np.asarray(du.gamma_rate_for_mean(means, params.length_alpha))
    top = params.max_response
    k = np.arange(1, top + 1)
    cdf = np.asarray(tg.length_cdf(np.arange(0, top, dtype=float)[None, :],
                                   params.length_alpha, rate[:, None]))
    pmf = np.diff(np.concatenate([cdf, np.ones((M, 1))], axis=1), axis=1)  # k = 1..top
    end = np.minimum(k + params.tail, top)
    mix = pmf.mean(axis=0)
    law = np.bincount(end - 1, weights=mix, minlength=top).cumsum()
    q1 = int(np.searchsorted(law, duet.k1_quantile)) + 1
    q2 = int(np.searchsorted(law, duet.k2_quantile)) + 1
    k1 = max(32, q1)
    k2 = max(k1 + duet.k_gap, q2)
    rule = dict(k1=k1, k2=k2, grace=duet.grace, min_tokens=duet.min_tokens,
                hysteresis=duet.hysteresis, poll=duet.poll, max_response=top)
    kept_len, _, _ = du.stop_length(k, end, True, **rule)
    cut_len, aborted, _ = du.stop_length(k, end, False, **rule)
    eps = duet.eps_abort
    axis_cost = np.where(aborted, eps * kept_len + (1 - eps) * cut_len, kept_len)
    cost0 = pmf @ end
    budget = duet.budget_frac * M * duet.ref_n * float(cost0.mean())
    return dict(p=p, rate=rate, k1=k1, k2=k2, rule=rule, cost0=cost0, cost1=pmf @ axis_cost,
                eligible=pmf @ aborted.astype(float), token_budget=budget)


def _knapsack_at_tokens(p, cost, budget):
    """The knapsack allocation with the most rollouts whose expected tokens fit ``budget``.

    Rollout budgets nest (open choice "tie rule"), so the tokens grow with the
    rollout budget and a bisection finds the largest that fits; the pure
    optimum (no fallback trigger) is used.
    """
    M = p.size

    def alloc(R):
        return th.allocate(p, None, th.KnapsackParams(
            n=max(_KNAPSACK.n_low, R // M), n_low=_KNAPSACK.n_low, n_up=_KNAPSACK.n_up,
            budget=R, fallback_trigger="none"))[0]

    lo, hi = M * _KNAPSACK.n_low, M * _KNAPSACK.n_up
    if float(alloc(hi) @ cost) <= budget:
        return alloc(hi)
    if float(alloc(lo) @ cost) > budget:
        return alloc(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(alloc(mid) @ cost) <= budget:
            lo = mid
        else:
            hi = mid
    return alloc(lo)


def _allocations(sc, duet):
    p, B = sc["p"], sc["token_budget"]
    g, var0 = du.reweighted_moments(p, sc["eligible"], duet.eps_abort, length_axis=False)
    _, var1 = du.reweighted_moments(p, sc["eligible"], duet.eps_abort, length_axis=True)
    n_u = max(1, int(B // sc["cost0"].sum()))
    kw = dict(n_min=duet.n_min, n_max=duet.n_max, multiplier=duet.multiplier,
              iterations=duet.iterations)
    return {
        "uniform": (np.full(p.size, n_u, dtype=np.int64), False),
        "knapsack": (_knapsack_at_tokens(p, sc["cost0"], B), False),
        "duet-rollouts": (du.duet_allocate(np.sqrt(var0), sc["cost0"], B, **kw)[0], False),
        "duet": (du.duet_allocate(np.sqrt(var1), sc["cost1"], B, **kw)[0], True),
        "knapsack+length": (_knapsack_at_tokens(p, sc["cost1"], B), True),
    }, g, var0, var1


def _rollouts(sc, params, duet, n, axis, trials, key, xp, first=0):
    """Per replicate: tokens, and the three estimates of the batch gradient."""
    p, M = sc["p"], sc["p"].size
    reward, u_len, lottery = kernel_array.duet_draws(xp, n, p, duet.eps_abort, trials, key,
                                                     first)
    if xp is not np:
        reward, u_len, lottery = reward.get(), u_len.get(), lottery.get()
    owner = np.repeat(np.arange(M), n)
    ell = np.asarray(tg.length_quantile(u_len, params.length_alpha, sc["rate"][owner]))
    marker = np.clip(np.ceil(ell), 1, params.max_response).astype(np.int64)
    end = np.minimum(marker + params.tail, params.max_response)
    if axis:
        length, aborted, won = du.stop_length(marker, end, lottery, **sc["rule"])
    else:
        length, aborted, won = end, np.zeros_like(lottery), np.zeros_like(lottery)
    r = reward.astype(float)
    x = (r - 0.5) * (r - p[owner])
    a = np.where(aborted, 0.0, np.where(won, 1.0 / duet.eps_abort, 1.0))
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    per_prompt = np.add.reduceat(a * x, starts, axis=1) / n
    p_pre = du.propensities(n, duet.eps_pre, "authors")
    w = np.where(aborted, 0.0, du.snips_weights(p_pre[owner], won, duet.eps_abort,
                                                duet.weight_cap))
    authors = (w * x).sum(axis=1) / (M * n.mean())
    plain = np.add.reduceat(np.where(aborted, 0.0, x), starts, axis=1) / n
    return (length.sum(axis=1).astype(float), per_prompt.mean(axis=1), authors,
            plain.mean(axis=1))


def simulate_duet(params=None, duet=None, trials=DUET_TRIALS, seed=_cli.DEFAULT_SEED,
                  backend="numpy", allow=False):
    """Uniform, knapsack and DUET at equal token budget, simulated beside the closed forms.

    Parameters
    ----------
    params : theory.knapsack.duet.DuetSimParams or None
        The scenario (``None``: the defaults).
    duet : theory.knapsack.duet.DuetParams or None
        DUET's rule and budget (``None``: the defaults).
    trials : int
        Replicates of the batch, ``>= 2``.
    seed : int
    backend : {"numpy", "cupy", "auto"}
        Where the array kernel draws (``auto``: NumPy).
    allow : bool
        Run even when :func:`duet_cost` exceeds this machine's limits.

    Returns
    -------
    pandas.DataFrame
        One row per allocator and estimator: ``allocator``, ``estimator``,
        ``length_axis``, ``target`` (the batch gradient ``mean_q p_q (1 -
        p_q)``), ``theory`` (the estimator's expectation,
        ``docs/models/knapsack.md (32)``), ``estimate``, ``se``, ``z``,
        ``variance_expected`` and ``variance_sim`` of the per-prompt mean,
        ``variance_ratio`` (expected, against uniform), ``tokens_expected``,
        ``tokens_sim``, ``tokens_se``, ``token_budget``, ``rollouts``,
        ``max_n``, ``min_n``, ``egr_expected`` (``(12)`` at the allocation),
        ``k1``, ``k2``, the parameters and the provenance.
    """
    params = du.DuetSimParams() if params is None else params
    duet = du.DuetParams() if duet is None else duet
    if not isinstance(params, du.DuetSimParams):
        raise TypeError(f"params must be a DuetSimParams, got {type(params).__name__}")
    if not isinstance(duet, du.DuetParams):
        raise TypeError(f"duet must be a DuetParams, got {type(duet).__name__}")
    trials = check_int("trials", trials, 2)
    seed = check_int("seed", seed, 0)
    check_choice("backend", backend, ("auto", "numpy", "cupy"))
    name = "numpy" if backend == "auto" else backend
    est = duet_cost(params, duet, trials)
    _guard.check(est.pop("param"), allow=allow, **est)
    xp = np if name == "numpy" else array_module(name)
    sc = scenario(params, duet, seed)
    allocs, g, var0, var1 = _allocations(sc, duet)
    key = _rng.stream_key(seed, DUET_STREAM)
    M, target = g.size, float(g.mean())
    v_uniform = None
    rows = []
    for alloc in DUET_ALLOCATORS:
        n, axis = allocs[alloc]
        var = var1 if axis else var0
        v_exp = float(np.sum(var / n)) / M**2
        v_uniform = v_exp if alloc == "uniform" else v_uniform
        cost = sc["cost1"] if axis else sc["cost0"]
        m = Moments()  # rows: tokens, the per-prompt mean, the authors', without correction
        for lo, hi in _guard.chunks(trials, _ROLLOUT_BYTES * float(n.sum())):
            m.add(np.stack(_rollouts(sc, params, duet, n, axis, hi - lo, key, xp, lo)))
        tok_mean, mean_mean, authors_mean, plain_mean = m.mean
        tok_se, *_ = m.se()
        se_of = dict(zip(DUET_ESTIMATORS, m.se()[1:]))
        mean_var = float(m.var(1)[1])
        q = sc["eligible"] if axis else np.zeros(M)
        p_pre = du.propensities(n, duet.eps_pre, "authors")
        w_in = np.minimum(1.0 / p_pre, duet.weight_cap)
        w_won = np.minimum(1.0 / (p_pre * duet.eps_abort), duet.weight_cap)
        w_eff = (1 - q) * w_in + q * duet.eps_abort * w_won
        expect = {"unclamped": target,
                  "authors": du.weighted_expectation(n, g, w_eff),
                  "no-abort-correction": float(np.mean(g * (1 - q + duet.eps_abort * q)))}
        sims = {"unclamped": mean_mean, "authors": authors_mean,
                "no-abort-correction": plain_mean}
        shown = DUET_ESTIMATORS if alloc == "duet" else ("unclamped",)
        for est in shown:
            mean = float(sims[est])
            se = float(se_of[est])
            rows.append(dict(
                allocator=alloc, estimator=est, length_axis=axis, target=target,
                theory=expect[est], estimate=mean, se=se,
                z=float((mean - expect[est]) / se) if se > 0 else 0.0,
                variance_expected=v_exp, variance_sim=mean_var,
                variance_ratio=v_exp / v_uniform,
                tokens_expected=float(n @ cost), tokens_sim=float(tok_mean),
                tokens_se=float(tok_se),
                token_budget=sc["token_budget"], rollouts=int(n.sum()), max_n=int(n.max()),
                min_n=int(n.min()), egr_expected=float(th.effective_gradient_ratio(n, sc["p"])),
                k1=sc["k1"], k2=sc["k2"]))
    df = pd.DataFrame(rows)
    for k, v in {**params.__dict__, "budget_frac": duet.budget_frac, "eps_abort": duet.eps_abort,
                 "multiplier": duet.multiplier}.items():
        df[k] = v
    df["trials"] = trials
    return _cli.add_provenance(df, seed, name)
