"""Monte Carlo of GRPO rollout allocation, and ``python -m sim.knapsack``.

Simulates the allocation of a batch's rollout budget across prompts (Li et
al., "Knapsack RL", arXiv 2509.25849; spec ``specs/knapsack.md``):

* **One batch.** True success rates come from a population (by default the
  spec's section 7.3 mixture: 40% near-solved ``U[0.97, 1]``, 20% near-unsolved
  ``U[0, 0.02]``, 40% ``Beta(0.7, 0.7)``) or from a file of per-prompt rates.
  The allocator sees a stale, noisy estimate: the success rate of 16 rollouts
  of the prompt's previous visit, whose rate may have drifted
  (``stale_sd`` on the logit). Each allocation (``uniform``, ``knapsack``: the
  clean exact solver, ``knapsack-reference``: the authors' code with its
  fallback) is then rolled out many times: ``K_i ~ Bin(N_i, p_i)``, and the
  realised effective-gradient ratio (rollouts in mixed groups) and
  effective-prompt ratio are compared with their expectations (D6).
* **Training dynamics** (spec 7.4, a documented toy model): each prompt has
  a logit ``z_i`` and ``p_i = sigmoid(z_i + s)`` with a shared skill ``s``; a
  visit samples ``K_i ~ Bin(N_i, p_i)``, computes clipped GRPO advantages
  (D7) and moves ``z_i`` by the expected tabular policy gradient
  ``eta / sum(N) * sum_j A_ij (r_ij - p_i)``; ``s`` moves by ``kappa`` times the
  sum of the moves. A prompt whose group has no mixed outcome does not move.
  Estimates follow the official estimator (section 3.4): the previous visit if
  it had >= 16 rollouts, else padded with older rewards to 16; prompts with
  fewer than 8 rewards in total are not yet valid and get the uniform budget.

Rollouts are drawn from the shared counter-based stream of :mod:`sim.rng`:
draw ``r * sum(N) + j`` is rollout ``j`` (prompts in order) of replicate ``r``,
so the NumPy, Numba and CuPy kernels give identical outcomes.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from numba import njit, prange, uint64

from sim import __version__ as _VERSION
from sim import _cli
from sim import rng as _rng
from sim.backends import BackendUnavailable, resolve_backend
from theory import knapsack as th
from theory._params import check_int, check_real

__all__ = [
    "KnapsackSimParams",
    "ALLOCATORS",
    "sample_rates",
    "estimate_rates",
    "allocate_batch",
    "mixed_groups",
    "simulate_batch",
    "simulate_training",
    "load_rates",
    "allocate_greedy_numba",
    "main",
]

ALLOCATORS = ("uniform", "knapsack", "knapsack-reference")
TRAIN_ALLOCATORS = ("uniform", "uniform-2x", "knapsack", "knapsack-reference",
                    "knapsack-no-fallback")

_INV53 = 1.0 / 9007199254740992.0


@dataclass(frozen=True)
class KnapsackSimParams:
    """Batch, budget and estimator settings of the rollout simulation (project defaults).

    Parameters
    ----------
    prompts : int
        Prompts per batch, M (>= 1).
    n : int
        Homogeneous rollouts per prompt, N-bar; the budget defaults to M * n.
    budget : int or None
        Total rollouts per batch (>= M * n_low).
    n_low, n_up : int
        Bounds on each prompt's rollouts (2 and 128 in the official code).
    mixture : tuple of float
        Weights of the three population components (near-solved U[0.97, 1],
        near-unsolved U[0, 0.02], Beta(beta_a, beta_a)).
    beta_a : float
        Shape of the symmetric Beta component.
    estimate_samples : int
        Rollouts of the previous visit behind each estimate (16 in the code).
    stale_sd : float
        Drift of the logit since the previous visit (standard deviation, >= 0).
    """

    prompts: int = 256
    n: int = 8
    budget: int | None = None
    n_low: int = 2
    n_up: int = 128
    mixture: tuple = (0.4, 0.2, 0.4)
    beta_a: float = 0.7
    estimate_samples: int = 16
    stale_sd: float = 0.3

    def __post_init__(self):
        check_int("prompts", self.prompts, 1)
        check_int("n", self.n, 1)
        check_int("n_low", self.n_low, 1)
        check_int("n_up", self.n_up, 1)
        if self.n_low > self.n_up:
            raise ValueError(f"n_low must be <= n_up, got n_low={self.n_low} > n_up={self.n_up}")
        if self.budget is not None:
            check_int("budget", self.budget, self.prompts * self.n_low)
        mix = tuple(float(w) for w in self.mixture)
        if len(mix) != 3 or any(w < 0 for w in mix) or sum(mix) <= 0:
            raise ValueError(f"mixture must be three non-negative weights with a positive sum, "
                             f"got {self.mixture!r}")
        object.__setattr__(self, "mixture", mix)
        check_real("beta_a", self.beta_a, 0.0, lo_open=True)
        check_int("estimate_samples", self.estimate_samples, 1)
        check_real("stale_sd", self.stale_sd, 0.0)

    @property
    def total(self):
        """The batch's rollout budget."""
        return self.budget if self.budget is not None else self.prompts * self.n

    def theory_params(self, **kw):
        """The matching :class:`theory.knapsack.KnapsackParams`."""
        return th.KnapsackParams(n=self.n, n_low=self.n_low, n_up=self.n_up,
                                 budget=self.total, **kw)


def sample_rates(params, gen):
    """True success rates of one batch from the population mixture."""
    M = params.prompts
    w = np.asarray(params.mixture) / sum(params.mixture)
    comp = gen.choice(3, size=M, p=w)
    p = np.where(comp == 0, gen.uniform(0.97, 1.0, M),
                 np.where(comp == 1, gen.uniform(0.0, 0.02, M),
                          gen.beta(params.beta_a, params.beta_a, M)))
    return p


def estimate_rates(p, params, gen):
    """Stale, noisy estimates: the success fraction of ``estimate_samples`` earlier rollouts."""
    if params.stale_sd > 0:
        with np.errstate(divide="ignore"):
            logit = np.log(p) - np.log1p(-p)
        prev = 1.0 / (1.0 + np.exp(-(logit + params.stale_sd * gen.standard_normal(p.shape))))
    else:
        prev = p
    return gen.binomial(params.estimate_samples, prev) / params.estimate_samples


def allocate_batch(name, p_hat, params, valid=None):
    """Rollouts per prompt (int64) and info dict of allocator ``name``."""
    M = p_hat.shape[0]
    if name == "uniform":
        return th.allocate_uniform(M, params.total), dict(fallback=False)
    if name == "uniform-2x":
        return th.allocate_uniform(M, 2 * params.total), dict(fallback=False)
    if name == "knapsack":
        return th.allocate(p_hat, valid, params.theory_params())
    if name == "knapsack-reference":
        return th.allocate(p_hat, valid, params.theory_params(mode="reference"))
    if name == "knapsack-no-fallback":
        return th.allocate(p_hat, valid, params.theory_params(fallback="none",
                                                              fallback_trigger="none"))
    raise ValueError(f"allocator must be one of {', '.join(TRAIN_ALLOCATORS)}, got {name!r}")


# ----------------------------------------------------------------------------
# Rollout kernels
# ----------------------------------------------------------------------------

def mixed_groups_array(xp, N, p, replicates, key):
    """Successes per prompt and replicate, on NumPy or CuPy arrays.

    Returns
    -------
    k : int64 array, shape (replicates, M)
    """
    N = xp.asarray(N, dtype=np.int64)
    p = xp.asarray(p, dtype=np.float64)
    total = int(N.sum())
    owner = xp.repeat(xp.arange(N.shape[0]), N)
    ctr = (xp.arange(replicates, dtype=np.uint64)[:, None] * np.uint64(total)
           + xp.arange(total, dtype=np.uint64)[None, :])
    u = ((_rng.splitmix64(key, ctr) >> np.uint64(11)).astype(np.float64) + 0.5) * _INV53
    hit = (u < p[owner][None, :]).astype(np.int64)
    cs = xp.concatenate([xp.zeros((replicates, 1), dtype=np.int64), xp.cumsum(hit, axis=1)],
                        axis=1)
    ends = xp.cumsum(N)
    return cs[:, ends] - cs[:, ends - N]


_weyl = njit(inline="always")(_rng.weyl)
_finalize = njit(inline="always")(_rng.finalize)


@njit(parallel=True, cache=True)
def _successes_numba(N, p, replicates, key):
    M = N.shape[0]
    start = np.zeros(M, np.int64)
    for i in range(1, M):
        start[i] = start[i - 1] + N[i - 1]
    total = start[M - 1] + N[M - 1]
    out = np.zeros((replicates, M), np.int64)
    for r in prange(replicates):
        base = uint64(r) * uint64(total)
        for i in range(M):
            k = 0
            for j in range(N[i]):
                z = _finalize(_weyl(key, base + uint64(start[i] + j)))
                u = ((z >> uint64(11)) + 0.5) * _INV53
                if u < p[i]:
                    k += 1
            out[r, i] = k
    return out


def mixed_groups(N, p, replicates, seed, backend="numba"):
    """Successes ``K`` (replicates, M) of ``N_i`` Bernoulli(``p_i``) rollouts per prompt."""
    key = _rng.stream_key(seed, "knapsack/rollouts")
    N = np.ascontiguousarray(N, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.float64)
    if backend == "numba":
        return _successes_numba(N, p, int(replicates), key)
    if backend == "numpy":
        return mixed_groups_array(np, N, p, int(replicates), key)
    from gpu import knapsack as gpu_knapsack

    return gpu_knapsack.successes(N, p, int(replicates), key)


@njit(inline="always")
def _sift_down(heap, size, i, gain, cnt):
    """Restore the heap below ``i``: larger gain first, ties to the smaller count, then position."""
    while True:
        c = 2 * i + 1
        if c >= size:
            return
        if c + 1 < size:
            a, b = heap[c + 1], heap[c]
            if gain[a] > gain[b] or (gain[a] == gain[b] and (
                    cnt[a] < cnt[b] or (cnt[a] == cnt[b] and a < b))):
                c += 1
        a, b = heap[c], heap[i]
        if gain[a] > gain[b] or (gain[a] == gain[b] and (
                cnt[a] < cnt[b] or (cnt[a] == cnt[b] and a < b))):
            heap[i], heap[c] = a, b
            i = c
        else:
            return


@njit(cache=True)
def allocate_greedy_numba(p, budget, n_low, n_up):
    """Exact greedy marginal-gain allocation (spec P2) compiled with Numba.

    The same algorithm, arithmetic and tie rule as
    :func:`theory.knapsack.allocate_greedy` with ``method="heap"`` and the
    InfoGain weight: uninformative prompts (``p`` in {0, 1}) stay at ``n_low``;
    each further rollout goes to the informative prompt with the largest
    ``w_i Delta(N_i, p_i)`` (gains kept as running products ``p**N``,
    ``(1-p)**N``), ties to the smaller current ``N`` and then the lower index,
    until the budget is spent or every informative prompt is at ``n_up``.
    """
    M = p.shape[0]
    N = np.full(M, n_low, np.int64)
    left = budget - M * n_low
    idx = np.empty(M, np.int64)
    E = 0
    for i in range(M):
        if 0.0 < p[i] < 1.0:
            idx[E] = i
            E += 1
    if left <= 0 or n_up <= n_low or E == 0:
        return N
    pl = np.empty(E)
    ql = np.empty(E)
    wl = np.empty(E)
    pw = np.empty(E)
    qw = np.empty(E)
    gain = np.empty(E)
    cnt = np.full(E, n_low, np.int64)
    for j in range(E):
        pj = p[idx[j]]
        qj = 1.0 - pj
        pl[j] = pj
        ql[j] = qj
        wl[j] = pj * qj * qj
        pw[j] = pj ** float(n_low)
        qw[j] = qj ** float(n_low)
        gain[j] = wl[j] * (pw[j] * qj + pj * qw[j])
    # binary max-heap of positions, ordered by (gain desc, count asc, position asc);
    # a prompt at n_up gets gain -1 and is never popped again
    heap = np.arange(E)
    for root in range(E // 2 - 1, -1, -1):
        _sift_down(heap, E, root, gain, cnt)
    while left > 0:
        top = heap[0]
        if gain[top] < 0.0:
            break
        N[idx[top]] += 1
        left -= 1
        cnt[top] += 1
        if cnt[top] < n_up:
            pw[top] *= pl[top]
            qw[top] *= ql[top]
            gain[top] = wl[top] * (pw[top] * ql[top] + pl[top] * qw[top])
        else:
            gain[top] = -1.0
        _sift_down(heap, E, 0, gain, cnt)
    return N


# ----------------------------------------------------------------------------
# One batch
# ----------------------------------------------------------------------------

def simulate_batch(params=None, rates=None, replicates=2000, seed=0, backend="auto",
                   names=ALLOCATORS):
    """Allocate one batch with each allocator and roll it out ``replicates`` times.

    Parameters
    ----------
    params : KnapsackSimParams or None
    rates : array_like or None
        True per-prompt success rates; ``None`` draws them from the population.
        With rates given, ``params.prompts`` is taken from their number.
    replicates : int
        Independent rollouts of the same allocation.
    seed : int
    backend : {"auto", "numpy", "numba", "cupy"}

    Returns
    -------
    df : pandas.DataFrame
        One row per allocator: ``egr_expected``, ``egr_sim``, ``egr_se``,
        ``prompt_ratio`` (expected), ``prompt_ratio_sim``, ``prompt_ratio_se``,
        ``max_budget``, ``min_budget``, ``value`` (sum of Value(N_i, p_i) at the
        true rates), ``value_estimated`` (at the estimates), ``fallback``,
        ``budget_used``, and the parameters.
    allocation : dict
        Allocator name -> rollouts per prompt (input order).
    p, p_hat : ndarray
        True rates and the estimates the allocators saw.
    """
    params = params or KnapsackSimParams()
    replicates = check_int("replicates", replicates, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    gen = _rng.generator(seed, "knapsack/batch")
    if rates is None:
        p = sample_rates(params, gen)
    else:
        p = _check_rates(rates)
        params = replace(params, prompts=p.size)
        if params.budget is not None and params.budget < p.size * params.n_low:
            raise ValueError(f"budget must be >= prompts * n_low = {p.size * params.n_low}, "
                             f"got {params.budget}")
    p_hat = estimate_rates(p, params, gen)
    rows, allocation = [], {}
    for alloc in names:
        N, info = allocate_batch(alloc, p_hat, params)
        allocation[alloc] = N
        K = np.asarray(mixed_groups(N, p, replicates, seed, name))
        mixed = (K > 0) & (K < N[None, :])
        egr = (mixed * N[None, :]).sum(axis=1) / N.sum()
        epr = mixed.mean(axis=1)
        rows.append(dict(
            name=alloc,
            egr_expected=float(th.effective_gradient_ratio(N, p)),
            egr_sim=float(egr.mean()), egr_se=float(egr.std(ddof=1) / math.sqrt(replicates)),
            prompt_ratio=float(th.effective_prompt_ratio(N, p)),
            prompt_ratio_sim=float(epr.mean()),
            prompt_ratio_se=float(epr.std(ddof=1) / math.sqrt(replicates)),
            max_budget=int(N.max()), min_budget=int(N.min()),
            value=float(th.total_value(N, p)), value_estimated=float(th.total_value(N, p_hat)),
            fallback=bool(info.get("fallback", False)), budget_used=int(N.sum()),
        ))
    df = pd.DataFrame(rows)
    for k, v in asdict(params).items():
        df[k] = str(v) if isinstance(v, tuple) else v
    df["replicates"] = replicates
    _cli.add_provenance(df, seed, name)
    return df, allocation, p, p_hat


def _check_rates(rates):
    p = np.asarray(rates, dtype=float).ravel()
    if p.size == 0:
        raise ValueError("rates must be a non-empty list of success rates")
    if np.any(np.isnan(p)):
        raise ValueError("rates must not contain NaN")
    if np.any((p < 0) | (p > 1)):
        bad = p[(p < 0) | (p > 1)][0]
        raise ValueError(f"rates must be in [0, 1], got {bad:g}")
    return p


def load_rates(path):
    """Per-prompt success rates from a CSV or Parquet file with a column ``p``."""
    path = str(path)
    try:
        if path.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"rates file not found: {path}")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"rates file {path} could not be read: {first}")
    if "p" not in df.columns:
        raise ValueError(f"rates file {path} has no column 'p' (columns: "
                         f"{', '.join(map(str, df.columns)) or 'none'})")
    vals = pd.to_numeric(df["p"], errors="coerce")
    if vals.isna().any():
        raise ValueError(f"rates file {path}: column 'p' has missing or non-numeric values")
    return _check_rates(vals.to_numpy())


# ----------------------------------------------------------------------------
# Training dynamics (spec 7.4)
# ----------------------------------------------------------------------------

def _estimate_from_history(hist_k, hist_n, want):
    """Official estimator: last visit if it has >= want rollouts, else pad with older ones.

    ``hist_k``/``hist_n`` are lists (newest last) of successes and rollouts of
    past visits; a partly used oldest visit contributes its success fraction.
    """
    if not hist_n:
        return 0.0, 0
    if hist_n[-1] >= want:
        return hist_k[-1] / hist_n[-1], sum(hist_n)
    k_sum, n_sum = 0.0, 0
    for k, n in zip(reversed(hist_k), reversed(hist_n)):
        take = min(n, want - n_sum)
        k_sum += k * take / n
        n_sum += take
        if n_sum >= want:
            break
    return k_sum / n_sum, sum(hist_n)


def simulate_training(params=None, epochs=10, dataset=1024, lr=100.0, transfer=0.0,
                      seed=0, names=TRAIN_ALLOCATORS, progress=None):
    """Toy GRPO training under each allocator at equal budget (spec 7.4).

    Parameters
    ----------
    params : KnapsackSimParams or None
        Batch size, N-bar, bounds; ``prompts`` prompts per step.
    epochs : int
    dataset : int
        Number of prompts; their initial rates come from the population.
    lr : float
        eta of the logit update.
    transfer : float
        kappa: the shared skill moves by kappa times the sum of logit moves.
    seed : int
    names : sequence of str
        Allocators (see :data:`TRAIN_ALLOCATORS`); every allocator starts from
        the same prompts and uses the same seed.

    Returns
    -------
    pandas.DataFrame
        One row per allocator and epoch: ``egr`` (realised, rollout-weighted),
        ``prompt_ratio``, ``mean_p`` (mean true success rate after the epoch),
        ``stuck`` (fraction of prompts with p < 0.01), ``max_budget``,
        ``rollouts`` (spent in the epoch), ``fallback_steps``.
    """
    params = params or KnapsackSimParams()
    epochs = check_int("epochs", epochs, 1)
    dataset = check_int("dataset", dataset, params.prompts)
    lr = check_real("lr", lr, 0.0)
    transfer = check_real("transfer", transfer, 0.0)
    gen0 = _rng.generator(seed, "knapsack/train-init")
    p0 = sample_rates(replace(params, prompts=dataset), gen0)
    p0 = np.clip(p0, 1e-6, 1 - 1e-6)
    z0 = np.log(p0) - np.log1p(-p0)
    rows = []
    for alloc in names:
        gen = _rng.generator(seed, "knapsack/train")
        z = z0.copy()
        s = 0.0
        hist_k = [[] for _ in range(dataset)]
        hist_n = [[] for _ in range(dataset)]
        for epoch in range(epochs):
            order = gen.permutation(dataset)
            mixed_roll = total_roll = mixed_prompts = visited = 0
            max_budget = 0
            fallback_steps = 0
            for b0 in range(0, dataset - params.prompts + 1, params.prompts):
                idx = order[b0:b0 + params.prompts]
                est = [_estimate_from_history(hist_k[i], hist_n[i], params.estimate_samples)
                       for i in idx]
                p_hat = np.array([e[0] for e in est])
                valid = np.array([e[1] >= 8 for e in est])
                N, info = allocate_batch(alloc, p_hat, params, valid)
                fallback_steps += bool(info.get("fallback", False))
                p = 1.0 / (1.0 + np.exp(-(z[idx] + s)))
                K = gen.binomial(N, p)
                mixed = (K > 0) & (K < N)
                a_pos, a_neg = th.grpo_advantages(K, N)
                # sum_j A_ij (r_ij - p_i) over the group, token-mean weighting
                dz = lr * (K * a_pos * (1 - p) - (N - K) * a_neg * p) / N.sum()
                dz = np.where(mixed, dz, 0.0)
                z[idx] += dz
                s += transfer * dz.sum()
                for i, k, n in zip(idx, K, N):
                    hist_k[i].append(int(k))
                    hist_n[i].append(int(n))
                mixed_roll += int((N * mixed).sum())
                total_roll += int(N.sum())
                mixed_prompts += int(mixed.sum())
                visited += len(idx)
                max_budget = max(max_budget, int(N.max()))
            p_all = 1.0 / (1.0 + np.exp(-(z + s)))
            rows.append(dict(allocator=alloc, epoch=epoch + 1, egr=mixed_roll / total_roll,
                             prompt_ratio=mixed_prompts / visited, mean_p=float(p_all.mean()),
                             stuck=float(np.mean(p_all < 0.01)), max_budget=max_budget,
                             rollouts=total_roll, fallback_steps=fallback_steps))
            if progress is not None:
                progress()
    df = pd.DataFrame(rows)
    df["seed"] = seed
    df["version"] = _VERSION
    return df


# ----------------------------------------------------------------------------
# Plot and command line
# ----------------------------------------------------------------------------

def plot(path, allocation, p_hat, train=None):
    """Budget per prompt against estimated success rate; EGR over epochs with ``train``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = 2 if train is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6.0 * ncols, 4.4), dpi=120, squeeze=False)
    ax = axes[0, 0]
    markers = {"uniform": ("k", "_"), "knapsack": ("C0", "o"), "knapsack-reference": ("C3", "x")}
    for name, N in allocation.items():
        color, marker = markers.get(name, ("C2", "."))
        ax.scatter(p_hat, N, s=14, c=color, marker=marker, label=name, alpha=0.7)
    ax.set_xlabel(r"estimated success rate $\hat p$")
    ax.set_ylabel("rollouts per prompt $N_i$")
    ax.set_yscale("log")
    ax.set_title("budget per prompt", fontsize=10)
    ax.legend(fontsize=8)
    if train is not None:
        ax = axes[0, 1]
        for name, g in train.groupby("allocator", sort=False):
            ax.plot(g["epoch"], g["egr"], marker="o", ms=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel("effective-gradient ratio (realised)")
        ax.set_ylim(0, 1)
        ax.set_title("toy training dynamics (spec 7.4)", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _build_parser():
    p = _cli.ArgumentParser(
        prog="python -m sim.knapsack",
        description="Allocating GRPO rollouts across prompts as a knapsack: expected and "
                    "simulated effective-gradient ratios per allocator, and a toy training "
                    "model (Li et al., arXiv 2509.25849).")
    p.add_argument("--prompts", type=int, default=256, help="prompts per batch M (default 256)")
    p.add_argument("--n", type=int, default=8, help="homogeneous rollouts per prompt (default 8)")
    p.add_argument("--budget", type=int, default=None, help="rollouts per batch (default M*n)")
    p.add_argument("--n-low", type=int, default=2, help="minimum rollouts per prompt (default 2)")
    p.add_argument("--n-up", type=int, default=128, help="maximum rollouts per prompt (default 128)")
    p.add_argument("--rates", metavar="FILE", help="CSV or Parquet file with a column 'p' of "
                                                    "true per-prompt success rates")
    p.add_argument("--stale-sd", type=float, default=0.3,
                   help="logit drift since the previous visit (default 0.3)")
    p.add_argument("--estimate-samples", type=int, default=16,
                   help="rollouts behind each estimate (default 16)")
    p.add_argument("--show-allocation", action="store_true",
                   help="also print each allocator's rollouts per prompt")
    t = p.add_argument_group("training dynamics (toy model, spec 7.4)")
    t.add_argument("--train", action="store_true", help="run the toy training comparison")
    t.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    t.add_argument("--dataset", type=int, default=1024, help="prompts in the dataset (default 1024)")
    t.add_argument("--lr", type=float, default=100.0, help="logit step size eta (default 100)")
    t.add_argument("--transfer", type=float, default=0.0,
                   help="shared-skill transfer kappa (default 0)")
    _cli.add_common_arguments(p, trials=2000)
    return p




def main(argv=None):
    """Run ``python -m sim.knapsack``; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        rates = load_rates(args.rates) if args.rates else None
        prompts = rates.size if rates is not None else args.prompts
        params = KnapsackSimParams(prompts=prompts, n=args.n, budget=args.budget,
                                   n_low=args.n_low, n_up=args.n_up, stale_sd=args.stale_sd,
                                   estimate_samples=args.estimate_samples)
        check_int("trials", args.trials, 2)
        check_int("seed", args.seed, 0)
        backend = resolve_backend(args.backend)
        with _cli.progress_spinner(not args.json, "allocating and rolling out"):
            df, allocation, p, p_hat = simulate_batch(params, rates, args.trials, args.seed,
                                                      backend)
        train = None
        if args.train:
            check_int("epochs", args.epochs, 1)
            check_int("dataset", args.dataset, params.prompts)
            with _cli.progress_bar(not args.json, "training", args.epochs * len(TRAIN_ALLOCATORS)) \
                    as advance:
                train = simulate_training(params, args.epochs, args.dataset, args.lr,
                                          args.transfer, args.seed, progress=advance)
        if args.plot:
            plot(args.plot, allocation, p_hat, train)
    except (ValueError, TypeError, BackendUnavailable, OSError) as exc:
        return _cli.fail(parser.prog, exc)
    cols = ["name", "egr_expected", "egr_sim", "egr_se", "prompt_ratio", "prompt_ratio_sim",
            "max_budget", "min_budget", "value", "fallback"]
    if args.json:
        pdict = asdict(params)
        pdict.update(budget=params.total, replicates=args.trials, seed=args.seed,
                     backend=backend, rates=args.rates)
        payload = dict(params=pdict,
                       allocators=[dict(zip(cols, r)) for r in df[cols].itertuples(index=False)],
                       version=_VERSION)
        if args.show_allocation:
            payload["allocation"] = {k: v for k, v in allocation.items()}
        if train is not None:
            payload["training"] = train.drop(columns=["version"]).to_dict(orient="records")
        print(json.dumps(_cli.jsonable(payload)))
        return 0
    _report(params, df, allocation, train, args, backend)
    return 0


def _report(params, df, allocation, train, args, backend):
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    src = f"rates from {args.rates}" if args.rates else \
        "rates: 40% U[0.97,1], 20% U[0,0.02], 40% Beta(0.7,0.7)"
    console.print(f"budgetlab knapsack  prompts={params.prompts} budget={params.total} "
                  f"(N-bar={params.n}, N in [{params.n_low}, {params.n_up}]) "
                  f"replicates={args.trials} seed={args.seed} backend={backend}", markup=False)
    console.print(f"  {src}; estimates from {params.estimate_samples} rollouts of the previous "
                  f"visit, logit drift {params.stale_sd:g}", markup=False)
    table = Table(title="allocators (EGR = rollouts in mixed groups / all rollouts)",
                  title_justify="left")
    for col in ("allocator", "EGR expected", "EGR simulated", "prompt ratio", "max N", "min N",
                "value", "fallback"):
        table.add_column(col, justify="right")
    for r in df.itertuples():
        table.add_row(r.name, f"{r.egr_expected:.4f}", f"{r.egr_sim:.4f} ± {r.egr_se:.4f}",
                      f"{r.prompt_ratio:.4f}", str(r.max_budget), str(r.min_budget),
                      f"{r.value:.3f}", "yes" if r.fallback else "no")
    console.print(table)
    if args.show_allocation:
        for name, N in allocation.items():
            console.print(f"{name}: {' '.join(map(str, N.tolist()))}", markup=False)
    if train is not None:
        t = Table(title=f"toy training, {args.epochs} epochs of {args.dataset} prompts "
                        "(last epoch; EGR averaged over epochs >= 2)", title_justify="left")
        for col in ("allocator", "mean EGR", "final mean p", "stuck p<0.01", "max N",
                    "rollouts/epoch"):
            t.add_column(col, justify="right")
        for name, g in train.groupby("allocator", sort=False):
            last = g.iloc[-1]
            later = g[g.epoch >= 2] if len(g) > 1 else g
            t.add_row(name, f"{later.egr.mean():.4f}", f"{last.mean_p:.4f}", f"{last.stuck:.4f}",
                      str(int(g.max_budget.max())), str(int(last.rollouts)))
        console.print(t)
    if args.plot:
        console.print(f"figure written to {args.plot}", markup=False)


if __name__ == "__main__":
    sys.exit(main())
