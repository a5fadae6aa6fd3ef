"""Seeded random streams shared by every simulator.

Two kinds of randomness are used:

* **Host draws** (per-trial latent variables such as an item's success
  probability) come from :class:`numpy.random.Generator` objects derived from one
  integer seed with :class:`numpy.random.SeedSequence`, one child stream per
  named purpose, so adding a purpose never shifts another purpose's numbers.
* **Kernel draws** come from a counter-based generator: the random 64-bit word
  number ``ctr`` of a stream with key ``key`` is ``splitmix64(key, ctr)``, the
  SplitMix64 output function (Steele, Lea and Flood, OOPSLA 2014) applied to a
  Weyl sequence. A word depends only on ``(key, ctr)``, never on the order in
  which words are drawn, so the Numba kernel (scalar code, many threads) and the
  array kernel for CuPy (whole arrays at once) produce bit-identical results.

:func:`weyl`, :func:`finalize` (their composition is :func:`splitmix64`),
:func:`bernoulli_step`, :func:`uniform` and :func:`normal` are written once, in
operations that mean the same on Python integers wrapped as ``numpy.uint64``, on
NumPy and CuPy ``uint64`` arrays and inside Numba-compiled code (call them from
an ``@njit`` function; Numba compiles them on first use).

Outside Numba, pass arrays (0-d arrays for one value): NumPy warns about the
intended wrap-around of 64-bit arithmetic on ``numpy.uint64`` scalars, not on
arrays.

**Words to numbers.** There is one conversion of a random word to a uniform,
:func:`uniform`: the top 53 bits as a multiple of 2**-53, a double in [0, 1)
(every value equally likely, the same rule as NumPy's ``random()``). A
Bernoulli(p) draw is ``uniform(w) < p``. A normal comes from two words by the
Box-Muller transform, :func:`normal`, using ``1 - uniform`` (in (0, 1]) inside
the logarithm. Kernels never write these conversions out themselves.

**Counter layout.** A kernel gives every random word it draws a distinct
counter. The constants below name the strides of the layouts the kernels share:
a lazy Bernoulli word consumes at most :data:`DIGITS` consecutive counters (one
per binary digit of the probability), and a normal consumes
:data:`NORMAL_WORDS`. Each model documents its own layout with these constants
in its kernel module (for example ``sim.phase.layout``).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
from numba.extending import register_jitable

__all__ = [
    "GOLDEN",
    "weyl",
    "finalize",
    "splitmix64",
    "bernoulli_step",
    "prob_to_fixed",
    "stream_key",
    "generator",
    "uniform",
    "normal",
    "U53",
    "DIGITS",
    "NORMAL_WORDS",
]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)

#: 2**-53, the spacing of the uniforms returned by :func:`uniform`.
U53 = 1.0 / 9007199254740992.0
#: Counters a lazy Bernoulli word may consume (one per binary digit of p).
DIGITS = 64
#: Counters one normal consumes (:func:`normal`).
NORMAL_WORDS = 2
_TWO_PI = 2.0 * math.pi


@register_jitable(inline="always")
def weyl(key, ctr):
    """Position ``ctr`` of the Weyl sequence of stream ``key``: ``key + ctr * 0x9E3779B97F4A7C15``.

    ``weyl(key, c + k) == weyl(key, c) + k * GOLDEN`` (mod 2**64), which lets a
    kernel compute the base once and step it by ``GOLDEN``.
    """
    return key + ctr * GOLDEN


@register_jitable(inline="always")
def finalize(z):
    """The SplitMix64 output function (a bijection of 64-bit words)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@register_jitable(inline="always")
def splitmix64(key, ctr):
    """Random 64-bit word number ``ctr`` of the stream ``key``.

    Parameters
    ----------
    key, ctr : numpy.uint64 or uint64 array
        Stream key and word counter; arithmetic wraps modulo 2**64.

    Returns
    -------
    numpy.uint64 or uint64 array
        ``finalize(weyl(key, ctr))``: SplitMix64 of the stream's Weyl sequence.
    """
    return finalize(weyl(key, ctr))


@register_jitable(inline="always")
def bernoulli_step(res, und, plane, r):
    """One step of the bit-sliced lazy comparison ``U < p`` for 64 lanes.

    Each of the 64 bit lanes of a word holds one Bernoulli trial. A lane's
    uniform ``U`` is revealed one binary digit per step (a bit of the random
    word ``r``) and compared with the matching binary digit of its probability
    (the bit of ``plane``), most significant digit first. The lane is decided
    at the first digit where the two differ: ``U < p`` exactly when the digit of
    ``p`` is 1 and that of ``U`` is 0. Each step decides half of the open lanes
    on average, so a whole word needs about log2(64) + 1.3 = 7.3 random words,
    and the outcome is exact to the 64 binary digits of ``p``.

    Parameters
    ----------
    res : uint64
        Lanes decided true so far.
    und : uint64
        Lanes still undecided (all ones before the first step).
    plane : uint64
        Bit ``k`` (MSB first) of each lane's probability, one bit per lane.
    r : uint64
        A fresh random word.

    Returns
    -------
    res, und : uint64
        Updated words; the draw is complete when ``und == 0``.
    """
    res = res | (und & plane & ~r)
    und = und & ~(plane ^ r)
    return res, und


@register_jitable(inline="always")
def uniform(word):
    """The one conversion of a random 64-bit word to a uniform double in ``[0, 1)``.

    ``(word >> 11) * 2**-53``: the top 53 bits of the word as a fraction, so
    the 2**53 possible values are equally likely and exact. ``uniform(w) < p``
    is a Bernoulli(p) draw (never true for ``p = 0``, always for ``p = 1``).
    Works on ``numpy.uint64`` scalars, NumPy and CuPy ``uint64`` arrays and in
    Numba-compiled code.
    """
    return (word >> _S11) * U53


@register_jitable(inline="always")
def normal(w1, w2):
    """A standard normal from two random words (Box-Muller, cosine branch).

    ``sqrt(-2 log(1 - uniform(w1))) * cos(2 pi uniform(w2))``; ``1 - uniform``
    lies in ``(0, 1]``, so the logarithm is finite. Draw ``w1`` and ``w2`` at
    two consecutive counters (:data:`NORMAL_WORDS`). NumPy's ufuncs work on
    scalars, NumPy and CuPy arrays and inside Numba; the last bit of ``log``
    and ``cos`` may differ between those libraries, so normals agree across
    backends to rounding, uniforms exactly.
    """
    return np.sqrt(-2.0 * np.log(1.0 - uniform(w1))) * np.cos(_TWO_PI * uniform(w2))


def prob_to_fixed(p):
    """Probabilities as 64-bit fixed point numbers ``floor(p * 2**64)``.

    ``p = 1`` maps to ``2**64 - 1`` (an error of ``2**-64``); values outside
    ``[0, 1]`` are an error.
    """
    p = np.asarray(p, dtype=np.float64)
    if np.any(~np.isfinite(p)) or np.any(p < 0.0) or np.any(p > 1.0):
        raise ValueError("probabilities must be in [0, 1]")
    scaled = np.ldexp(p, 64)
    # The largest double below 2**64; its uint64 value keeps every bit of p < 1.
    top = np.float64(18446744073709549568.0)
    out = np.minimum(scaled, top).astype(np.uint64)
    out = np.where(p >= 1.0, np.uint64(0xFFFFFFFFFFFFFFFF), out)
    return out


def _purpose_id(purpose):
    if isinstance(purpose, str):
        return zlib.crc32(purpose.encode())
    return int(purpose)


def stream_key(seed, purpose):
    """The 64-bit key of the counter-based stream ``purpose`` under ``seed``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(_purpose_id(purpose),))
    return np.uint64(ss.generate_state(1, dtype=np.uint64)[0])


def generator(seed, purpose):
    """A :class:`numpy.random.Generator` for host draws of ``purpose`` under ``seed``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(_purpose_id(purpose),))
    return np.random.Generator(np.random.PCG64(ss))
