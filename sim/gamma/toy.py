"""Toy language models of a thinking segment, Markov in a small latent state.

docs/models/gamma.md, "Toy language models": the geometric toy (stop with
probability ``h`` at every token) and the paragraph toy (paragraphs opened by
``Wait``, ``So`` or ``</think>``, words until a newline). Their parameters are
validated by :class:`theory.gamma.GammaParams`, whose defaults they share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory.gamma import TOY_TOKENS, GammaParams

__all__ = ["ToyLM", "geometric_model", "paragraph_model", "toy_model"]

_D = GammaParams()


@dataclass(frozen=True, eq=False)
class ToyLM:
    """A Markov toy language model of a thinking segment.

    In latent state ``s`` the next token is ``v`` with probability
    ``probs[s, v]``; emitting ``v`` moves to ``next_state[s, v]`` (``-1`` for
    the end-of-thinking token, which ends the segment). ``line_start[s]`` says
    whether the next token starts a line, where guidance at line starts acts
    (the authors' trigger, docs/models/gamma.md (13) and "Open choices").
    Thinking starts in ``start``.

    Parameters
    ----------
    name : str
    tokens : tuple of str
        Token names; ``tokens[end]`` is the end-of-thinking token.
    probs : ndarray, shape (S, V)
        Base next-token probabilities; rows sum to 1.
    next_state : ndarray of int, shape (S, V)
    line_start : ndarray of bool, shape (S,)
    start : int
    end : int
    params : dict
        The builder's parameters (for reports).
    state_names : tuple of str
    """

    name: str
    tokens: tuple
    probs: np.ndarray
    next_state: np.ndarray
    line_start: np.ndarray
    start: int
    end: int
    params: dict = field(default_factory=dict)
    state_names: tuple = ()

    def __post_init__(self):
        p = np.asarray(self.probs, dtype=np.float64)
        ns = np.asarray(self.next_state, dtype=np.int64)
        if p.ndim != 2 or p.shape != ns.shape or p.shape[1] != len(self.tokens):
            raise ValueError(f"probs and next_state must have shape (states, {len(self.tokens)})")
        if np.any(p < 0) or np.any(np.abs(p.sum(axis=1) - 1.0) > 1e-12):
            raise ValueError("probs must be non-negative with rows summing to 1")
        if np.any(ns[:, self.end] != -1) or np.any((ns < 0) & (np.arange(p.shape[1]) != self.end)):
            raise ValueError("next_state must be -1 exactly for the end token")
        if np.any(ns >= p.shape[0]):
            raise ValueError("next_state must index a state")
        object.__setattr__(self, "probs", p)
        object.__setattr__(self, "next_state", ns)
        object.__setattr__(self, "line_start", np.asarray(self.line_start, dtype=bool))

    @property
    def n_states(self):
        """Number of latent states ``S``."""
        return self.probs.shape[0]

    @property
    def n_tokens(self):
        """Number of tokens ``V``."""
        return self.probs.shape[1]

    def transition(self, sparse=False):
        """Sub-stochastic state-to-state matrix of the non-ending tokens (base law).

        ``sparse=True`` returns it as a :class:`scipy.sparse.csr_matrix` (at most
        ``V - 1`` entries a row), for toys with many states.
        """
        S, V = self.probs.shape
        if sparse:
            from scipy import sparse as sp

            cont = [v for v in range(V) if v != self.end]
            rows = np.repeat(np.arange(S), len(cont))
            cols = self.next_state[:, cont].ravel()
            return sp.csr_matrix((self.probs[:, cont].ravel(), (rows, cols)), shape=(S, S))
        m = np.zeros((S, S))
        for v in range(V):
            if v != self.end:
                np.add.at(m, (np.arange(S), self.next_state[:, v]), self.probs[:, v])
        return m


def geometric_model(h=_D.h):
    """The geometric toy: thinking stops with probability ``h`` at every token.

    One latent state and two tokens, ``</think>`` (probability ``h``) and
    ``step``. Every token is its own line, so guidance at line starts is
    guidance at every token. The thinking length is geometric,
    ``Pr(T = k) = h (1 - h)^(k - 1)``; under the exact oracle at every token it
    is truncated to the budget (docs/models/gamma.md (19)-(21)).

    Parameters
    ----------
    h : float
        Stop probability per token, in ``(0, 1]``.
    """
    h = GammaParams(toy="geometric", h=h).h
    return ToyLM("geometric", TOY_TOKENS["geometric"], np.array([[h, 1.0 - h]]),
                 np.array([[-1, 0]]), np.array([True]), start=0, end=0,
                 params=dict(h=h), state_names=("step",))


def paragraph_model(p_wait=_D.p_wait, p_end=_D.p_end, plan=_D.plan, plan_max=_D.plan_max,
                    wait_adds=_D.wait_adds, newline=_D.newline, max_paragraph=_D.max_paragraph):
    """The paragraph toy: move tokens open paragraphs, words run to a newline.

    The latent state is ``(k, j)``: ``k`` planned paragraphs still to write
    (``0..plan_max``) and ``j`` tokens written in the current paragraph
    (``0`` = at a paragraph start). Thinking starts at ``(plan, 0)``.

    * At a paragraph start with ``k > 0`` the move is ``Wait`` (probability
      ``p_wait``; ``k -> min(k + wait_adds, plan_max)``), ``</think>``
      (``p_end``, an early stop) or ``So`` (the rest; ``k -> k - 1``). With
      ``k = 0`` it is ``Wait`` (``p_wait``) or ``</think>`` (the rest).
    * Inside a paragraph (``1 <= j``) the next token is ``\\n`` with
      probability ``newline`` (a line ends; the next token is a paragraph
      start), else a word; at ``j = max_paragraph - 1`` it is ``\\n``, so a
      paragraph (move token, words, newline) has at most ``max_paragraph``
      tokens.

    The moves are this project's illustration of "``Wait`` leads to many more
    paragraphs, ``So`` to few, ``</think>`` to the end" (docs/models/gamma.md,
    "Toy language models"); the defaults give a mean thinking length of 252
    tokens (median 176). The parameters are validated as the fields of
    :class:`theory.gamma.GammaParams`.
    """
    q = GammaParams(toy="paragraph", p_wait=p_wait, p_end=p_end, plan=plan, plan_max=plan_max,
                    wait_adds=wait_adds, newline=newline, max_paragraph=max_paragraph)
    tokens = TOY_TOKENS["paragraph"]
    END, WAIT, SO, WORD, NL = range(len(tokens))
    J = q.max_paragraph
    S = (q.plan_max + 1) * J

    def sid(k, j):
        return k * J + j

    probs = np.zeros((S, len(tokens)))
    nxt = np.zeros((S, len(tokens)), dtype=np.int64)
    line = np.zeros(S, dtype=bool)
    names = []
    for k in range(q.plan_max + 1):
        for j in range(J):
            s = sid(k, j)
            names.append(f"k={k},j={j}")
            nxt[s, :] = s          # unused entries point at themselves
            nxt[s, END] = -1
            if j == 0:
                line[s] = True
                probs[s, WAIT] = q.p_wait
                nxt[s, WAIT] = sid(min(k + q.wait_adds, q.plan_max), 1)
                if k > 0:
                    probs[s, END] = q.p_end
                    probs[s, SO] = 1.0 - q.p_wait - q.p_end
                    nxt[s, SO] = sid(k - 1, 1)
                else:
                    probs[s, END] = 1.0 - q.p_wait
            else:
                hz = 1.0 if j == J - 1 else q.newline
                probs[s, NL] = hz
                probs[s, WORD] = 1.0 - hz
                nxt[s, NL] = sid(k, 0)
                nxt[s, WORD] = sid(k, min(j + 1, J - 1))
    params = dict(p_wait=q.p_wait, p_end=q.p_end, plan=q.plan, plan_max=q.plan_max,
                  wait_adds=q.wait_adds, newline=q.newline, max_paragraph=q.max_paragraph)
    return ToyLM("paragraph", tokens, probs, nxt, line, start=sid(q.plan, 0), end=END,
                 params=params, state_names=tuple(names))


def toy_model(params):
    """The toy language model that a :class:`theory.gamma.GammaParams` names."""
    if params.toy == "geometric":
        return geometric_model(params.h)
    return paragraph_model(p_wait=params.p_wait, p_end=params.p_end, plan=params.plan,
                           plan_max=params.plan_max, wait_adds=params.wait_adds,
                           newline=params.newline, max_paragraph=params.max_paragraph)
