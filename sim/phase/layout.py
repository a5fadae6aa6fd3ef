"""Counter layouts of the phase kernels' random stream, and the node layout of a tree.

Every random word a kernel draws is ``sim.rng.splitmix64(key, counter)``; the
counter says what the word is for, so the Numba kernel, the array kernel and
the GPU sweep job (``gpu.sweep``) draw the same words for the same purpose
and give bit-identical results (``docs/models/phase.md``, section "Monte
Carlo").

**Tree kernel.** Trials are packed 64 to a ``uint64`` word (one trial per bit
lane). Each word ``w`` of trials owns a block of :data:`NODE_STRIDE` counters
per node of its tree (nodes numbered by :func:`level_offsets`, leaves first),
and a node's block holds :data:`PURPOSES` lazy Bernoulli words of
:data:`sim.rng.DIGITS` counters each::

    counter = (w * n_nodes + node) * NODE_STRIDE + purpose offset + digit

Internal nodes use :data:`HERD` (the herding word) and :data:`FLIP` (the
channel flips of the node's output). A leaf other than leaf 0 uses
:data:`RECV` (its received bits: its vote and its channel drawn as one
Bernoulli word). Leaf 0, whose own vote is recorded as level 0, uses
:data:`OWN` (its vote) and :data:`OWN_FLIP` (its channel flips).

**Continuous warm-up kernel.** Trial ``t`` owns
``CONTINUOUS_NORMALS_PER_AGENT * (n + 2)`` normals of
:data:`sim.rng.NORMAL_WORDS` counters each, ``n`` being the number of agents
(leaves); the normals are drawn in a fixed order (shared shock, agents' errors,
message noise), never more than that block holds (:func:`continuous_block`).
"""

from __future__ import annotations

from sim.rng import DIGITS, NORMAL_WORDS

__all__ = ["LANES", "PURPOSES", "NODE_STRIDE", "HERD", "FLIP", "RECV", "OWN", "OWN_FLIP",
           "KERNEL_STREAM", "LATENT_STREAM", "NUMPY_STREAM", "CONTINUOUS_KERNEL_STREAM",
           "CONTINUOUS_NUMPY_STREAM", "CONTINUOUS_NORMALS_PER_AGENT", "continuous_block",
           "level_offsets"]

#: Trials per ``uint64`` word (bit lanes).
LANES = 64
#: Lazy Bernoulli words reserved per node.
PURPOSES = 4
#: Counters per node: :data:`PURPOSES` Bernoulli words of :data:`sim.rng.DIGITS` counters.
NODE_STRIDE = PURPOSES * DIGITS
#: Offset of an internal node's herding word.
HERD = 0 * DIGITS
#: Offset of an internal node's channel-flip word.
FLIP = 1 * DIGITS
#: Offset of a leaf's received-bits word (leaves other than leaf 0).
RECV = 0 * DIGITS
#: Offset of leaf 0's own vote.
OWN = 2 * DIGITS
#: Offset of leaf 0's channel-flip word.
OWN_FLIP = 3 * DIGITS

#: Stream of the tree kernels' words (Numba and array kernels).
KERNEL_STREAM = "phase/tree-kernel"
#: Host stream of the per-trial latent variables (item accuracy, shock).
LATENT_STREAM = "phase/tree-latent"
#: Host stream of the NumPy reference.
NUMPY_STREAM = "phase/tree-numpy"
#: Stream of the continuous warm-up kernel.
CONTINUOUS_KERNEL_STREAM = "phase/continuous-kernel"
#: Host stream of the continuous warm-up reference.
CONTINUOUS_NUMPY_STREAM = "phase/continuous-numpy"

#: Normals reserved per agent and trial by the continuous kernel (it uses at most 3).
CONTINUOUS_NORMALS_PER_AGENT = 4


def continuous_block(n_agents):
    """Counters one trial of the continuous kernel owns, for ``n_agents`` leaves or agents."""
    return CONTINUOUS_NORMALS_PER_AGENT * NORMAL_WORDS * (n_agents + 2)


def level_offsets(b, depth):
    """Start of each level in a flat array of all nodes, leaves first, and the node count.

    Level ``l`` holds ``b ** (depth - l)`` nodes; ``offsets[l]`` is its first
    index and ``offsets[depth + 1]`` the number of nodes.

    Returns
    -------
    offsets : list of int, length ``depth + 2``
    n_nodes : int
    """
    offsets = [0]
    count = b ** depth
    for _ in range(depth + 1):
        offsets.append(offsets[-1] + count)
        count //= b
    return offsets, offsets[depth + 1]
