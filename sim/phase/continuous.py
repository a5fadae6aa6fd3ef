"""The continuous warm-up: Monte Carlo risk of averaging stars, trees and chains.

Every agent holds a scalar estimate whose error has variance ``v0``; errors
are correlated with coefficient ``rho``; each message adds independent
``N(0, sigma2)`` noise; aggregators average (``docs/models/phase.md``,
section "The continuous warm-up"). Two backends: the NumPy reference (host
normals from ``sim.rng.generator``) and a Numba kernel whose normals are
:func:`sim.rng.normal` of counter-based words (``sim.phase.layout``). The
estimate of each organization is compared with its closed form in
:mod:`theory.phase.continuous`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, uint64

from sim import _cli
from sim import rng as _rng
from sim.backends import BackendUnavailable, resolve_backend
from sim.phase.layout import CONTINUOUS_KERNEL_STREAM, CONTINUOUS_NUMPY_STREAM, continuous_block
from sim.rng import NORMAL_WORDS, normal, splitmix64
from theory import phase as th
from theory._params import check_choice, check_int, check_odd_int, check_real

__all__ = ["ORGANIZATIONS", "simulate_continuous"]

#: The organizations of the warm-up, in the order of the kernel's codes.
ORGANIZATIONS = ("star", "tree", "tree_shock", "chain_relay", "chain_running")
#: Normals held at once (trials times agents) by the reference; trials go in chunks.
CHUNK_NORMALS = 1 << 20

#: Parallel chunks of trials of the kernel (results do not depend on it).
PARALLEL_CHUNKS = 256

_NW = np.uint64(NORMAL_WORDS)
_NEXT = np.uint64(1)


def _agents(org, size, b):
    """Number of leaf agents: ``b**size`` for trees, ``size`` otherwise."""
    return b ** size if org in ("tree", "tree_shock") else size


def _continuous_numpy(org, size, v0, rho, sigma2, b, trials, gen):
    """Final estimates' errors of ``trials`` organizations, drawn literally on the host."""
    sd, sc = math.sqrt(v0), math.sqrt(sigma2)
    out = np.empty(trials)
    n = _agents(org, size, b)
    chunk = max(1, CHUNK_NORMALS // max(n, 1))
    a_mean = math.sqrt(1.0 + (b - 1) * rho) if org == "tree" else 0.0
    a_dev = math.sqrt(1.0 - rho)
    for start in range(0, trials, chunk):
        t = min(chunk, trials - start)
        if org == "tree":
            e = sd * gen.standard_normal((t, n))
            for _ in range(size):
                g = e.reshape(t, -1, b)
                m = g.mean(axis=2, keepdims=True)
                u = a_dev * (g - m) + a_mean * m
                e = (u + sc * gen.standard_normal(u.shape)).mean(axis=2)
            est = e[:, 0]
        elif org == "tree_shock":
            z = gen.standard_normal((t, 1))
            e = sd * (math.sqrt(rho) * z + a_dev * gen.standard_normal((t, n)))
            for _ in range(size):
                e = (e + sc * gen.standard_normal(e.shape)).reshape(t, -1, b).mean(axis=2)
            est = e[:, 0]
        elif org == "star":
            z = gen.standard_normal((t, 1))
            e = sd * (math.sqrt(rho) * z + a_dev * gen.standard_normal((t, n)))
            est = (e + sc * gen.standard_normal(e.shape)).mean(axis=1)
        elif org == "chain_relay":
            est = sd * gen.standard_normal(t) + sc * gen.standard_normal((t, n)).sum(axis=1)
        else:  # chain_running
            z = gen.standard_normal(t)
            e = sd * (math.sqrt(rho) * z[:, None] + a_dev * gen.standard_normal((t, n)))
            noise = sc * gen.standard_normal((t, n))
            m = e[:, 0]
            for j in range(2, n + 1):
                m = ((j - 1) * (m + noise[:, j - 1]) + e[:, j - 1]) / j
            est = m
        out[start:start + t] = est
    return out


@njit(inline="always")
def _normal_at(key, ctr):
    """The standard normal of the two words at counters ``ctr`` and ``ctr + 1``."""
    return normal(splitmix64(key, ctr), splitmix64(key, ctr + _NEXT))


@njit(parallel=True, cache=True)
def _continuous_kernel(org, size, n, v0, rho, sigma2, b, trials, block, key):
    """Final estimates' errors; trial ``t`` draws its normals from counters ``t * block`` on."""
    sd = math.sqrt(v0)
    sc = math.sqrt(sigma2)
    sr = math.sqrt(rho)
    a_dev = math.sqrt(1.0 - rho)
    a_mean = math.sqrt(1.0 + (b - 1) * rho)
    out = np.empty(trials)
    nchunks = min(trials, PARALLEL_CHUNKS)
    for ch in prange(nchunks):
        lo = ch * trials // nchunks
        hi = (ch + 1) * trials // nchunks
        e = np.empty(n)
        for t in range(lo, hi):
            base = uint64(t) * block
            c = uint64(0)
            if org == 0 or org == 2 or org == 4:
                z = _normal_at(key, base)
                c = _NW
                for i in range(n):
                    e[i] = sd * (sr * z + a_dev * _normal_at(key, base + c))
                    c += _NW
            else:
                for i in range(n):
                    e[i] = sd * _normal_at(key, base + c)
                    c += _NW
            if org == 0:  # star
                s = 0.0
                for i in range(n):
                    s += e[i] + sc * _normal_at(key, base + c)
                    c += _NW
                out[t] = s / n
            elif org == 1 or org == 2:  # tree (per-level) / tree (global shock)
                m_nodes = n
                for _ in range(size):
                    m_nodes //= b
                    for j in range(m_nodes):
                        mean = 0.0
                        for q in range(b):
                            mean += e[j * b + q]
                        mean /= b
                        s = 0.0
                        for q in range(b):
                            x = e[j * b + q]
                            if org == 1:
                                x = a_dev * (x - mean) + a_mean * mean
                            s += x + sc * _normal_at(key, base + c)
                            c += _NW
                        e[j] = s / b
                out[t] = e[0]
            elif org == 3:  # relay chain
                s = e[0]
                for _ in range(n):
                    s += sc * _normal_at(key, base + c)
                    c += _NW
                out[t] = s
            else:  # running-average chain
                m = e[0]
                for j in range(2, n + 1):
                    m = ((j - 1) * (m + sc * _normal_at(key, base + c)) + e[j - 1]) / j
                    c += _NW
                out[t] = m
    return out


def _theory(org, size, v0, rho, sigma2, b):
    """The closed-form risk of ``org`` (``docs/models/phase.md (33)-(39)``)."""
    if org == "star":
        return th.star_risk(size, v0, rho, sigma2)
    if org == "tree":
        return th.tree_risk(size, v0, b, rho, sigma2)
    if org == "tree_shock":
        return th.tree_risk_global_shock(size, v0, b, rho, sigma2)
    if org == "chain_relay":
        return th.chain_risk_relay(size, v0, sigma2)
    return th.chain_risk_running(size, v0, rho, sigma2)


def simulate_continuous(org, size, *, v0=1.0, rho=0.0, sigma2=0.0, b=3, trials=100_000,
                        seed=_cli.DEFAULT_SEED, backend="auto"):
    """Monte Carlo risk of an averaging organization in the continuous warm-up.

    Every agent holds a scalar estimate with error variance ``v0``; messages
    add independent N(0, ``sigma2``) noise; aggregators average
    (``docs/models/phase.md``, section "The continuous warm-up").

    Parameters
    ----------
    org : {"star", "tree", "tree_shock", "chain_relay", "chain_running"}
        ``star``: N leaves with pairwise error correlation ``rho`` read by one
        aggregator (``docs/models/phase.md (33)``). ``tree``: b-ary averaging
        tree of depth ``size`` with per-level correlation ``rho`` between
        siblings (the model behind paper Eq. 13, ``(35)``); siblings' i.i.d.
        Gaussian errors are made exchangeable with pairwise correlation
        ``rho`` by the variance-preserving map ``(40)``,
        ``u = sqrt(1-rho)(e - mean) + sqrt(1+(b-1)rho) mean`` (derived here;
        it gives exactly the equicorrelated Gaussian law). ``tree_shock``: the
        same tree with one shock shared by all leaves (``(37)``).
        ``chain_relay``: one estimate relayed over ``size`` hops (``(38)``).
        ``chain_running``: ``size`` agents keeping a running average
        (``(39)``).
    size : int
        N for a star, depth L for trees, k for chains.
    v0, rho, sigma2 : float
        Leaf error variance, error correlation, message noise variance.
    b : int
        Fan-in of trees.
    trials, seed, backend :
        As for :func:`sim.phase.simulate` (``cupy`` is not offered here).

    Returns
    -------
    dict
        ``risk`` (mean squared error of the final estimate), ``se`` (its
        standard error), ``theory`` (closed form), ``z``, ``trials``,
        ``backend``.
    """
    check_choice("org", org, ORGANIZATIONS)
    size = check_int("size", size, 0 if org.startswith("tree") else 1)
    v0 = check_real("v0", v0, 0.0)
    rho = check_real("rho", rho, 0.0, 1.0, hi_open=True)
    sigma2 = check_real("sigma2", sigma2, 0.0)
    b = check_odd_int("b", b) if org.startswith("tree") else check_int("b", b, 1)
    trials = check_int("trials", trials, 2)
    seed = check_int("seed", seed, 0)
    name = resolve_backend(backend)
    if name == "cupy":
        raise BackendUnavailable("backend 'cupy' is not offered for the continuous warm-up; "
                                 "use numpy or numba")
    n = _agents(org, size, b)
    if name == "numpy":
        est = _continuous_numpy(org, size, v0, rho, sigma2, b, trials,
                                _rng.generator(seed, CONTINUOUS_NUMPY_STREAM))
    else:
        est = _continuous_kernel(ORGANIZATIONS.index(org), size, n, v0, rho, sigma2, b, trials,
                                 np.uint64(continuous_block(n)),
                                 _rng.stream_key(seed, CONTINUOUS_KERNEL_STREAM))
    sq = est * est
    risk = float(sq.mean())
    se = float(sq.std(ddof=1) / math.sqrt(trials))
    theory = float(_theory(org, size, v0, rho, sigma2, b))
    z = (risk - theory) / se if se > 0 else (0.0 if risk == theory else math.inf)
    return dict(org=org, size=size, risk=risk, se=se, theory=theory, z=z, trials=trials,
                backend=name)
