"""Counter-based next-token sampling: a row's draws depend on its seed and the token index only.

Token ``n`` (0-based, counting every generated token, forced ones included) of a row with seed
``s`` uses one uniform number::

    u = sim.rng.uniform(sim.rng.splitmix64(stream_key(s, "token"), n))

and inverts the cumulative distribution of the nucleus: the tokens sorted by decreasing
probability (after ``logits / temperature``), kept while the mass before them is below
``top_p``, renormalised; the token chosen is the first whose cumulative mass exceeds ``u``
times the nucleus mass. ``temperature == 0`` is greedy (the first maximum). No generator state
is carried from token to token or from row to row, so a row gives the same tokens whatever
other rows share its batch and whichever order rows finish in, as long as its logits are the
same (a batched matrix product can change the last bits of a row's logits with the batch's
composition; such a difference changes a token only when ``u`` falls within about 1e-7 of a
boundary of the cumulative distribution).
"""

from __future__ import annotations

import numpy as np

from sim import rng

__all__ = ["PURPOSE", "row_keys", "uniforms", "choose"]

PURPOSE = "token"
_TOP_K = 256  # candidates tried before sorting the whole vocabulary


def row_keys(seeds):
    """The 64-bit stream key of each row's seed (``uint64 [n]``)."""
    return np.array([rng.stream_key(int(s), PURPOSE) for s in seeds], dtype=np.uint64)


def uniforms(keys, counter):
    """Uniform numbers in [0, 1) of token number ``counter`` for rows with stream ``keys``."""
    keys = np.asarray(keys, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return rng.uniform(rng.splitmix64(keys, np.uint64(counter)))


def choose(logits, temperature, top_p, u):
    """Next token of each row from ``logits [A, V]`` (float tensor) and uniforms ``u [A]``.

    Parameters
    ----------
    logits : torch.Tensor
        Next-token logits, float32 ``[A, V]``.
    temperature : float
        ``>= 0``; 0 is greedy.
    top_p : float
        Nucleus mass in ``(0, 1]``.
    u : ndarray
        One uniform in ``[0, 1)`` per row (:func:`uniforms`).

    Returns
    -------
    torch.Tensor
        ``[A]`` int64 token ids.
    """
    import torch

    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    z = logits.double() / float(temperature)
    lse = torch.logsumexp(z, dim=-1, keepdim=True)
    A, V = z.shape
    k = min(_TOP_K, V)
    vals, idx = torch.topk(z, k, dim=-1, sorted=True)
    probs = torch.exp(vals - lse)
    short = (probs.sum(-1) < top_p) & (k < V)
    out = torch.empty(A, dtype=torch.long)
    rows = torch.arange(A)
    for part, wide in ((~short, False), (short, True)):
        sel = rows[part]
        if len(sel) == 0:
            continue
        if wide:  # the nucleus is wider than the candidates: sort the whole row
            v, ix = torch.sort(z[sel], dim=-1, descending=True, stable=True)
            p = torch.exp(v - lse[sel])
        else:
            p, ix = probs[sel], idx[sel]
        before = torch.cumsum(p, -1) - p
        kept = torch.where(before < top_p, p, torch.zeros_like(p))
        cum = torch.cumsum(kept, -1)
        target = torch.as_tensor(np.asarray(u, dtype=np.float64)[sel.numpy()]) * cum[:, -1]
        j = torch.searchsorted(cum, target[:, None], right=True)[:, 0]
        last = (kept > 0).sum(-1) - 1
        j = torch.minimum(j, last)
        out[sel] = ix.gather(1, j[:, None])[:, 0]
    return out
