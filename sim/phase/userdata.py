"""The phase model on the user's numbers: ``python -m sim.phase decide`` and ``fit``.

* :func:`fit_files` estimates ``kappa``, ``beta`` (accuracy against compute),
  ``p0``, ``rho`` (repeated samples per question) and ``gamma`` (messages
  before and after a channel) from the user's CSV or Parquet files,
  docs/models/phase.md (45)-(47), as one table with a row per parameter that
  :func:`load_fit_table` reads back for ``decide``;
* :func:`decision_table` is the table of every organisation ``decide``
  weighed, docs/models/phase.md (42)-(44); :func:`decision_diagram` the
  closed-form phase diagram around the user's operating point;
* :func:`leaf_law_data`, :func:`question_samples`, :func:`message_samples`
  draw such measurements with the project's own simulator (the NumPy
  reference), to check the fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim._tables import binary_column, numeric_column, read_table, require_columns
from theory import phase as th

__all__ = ["FIT_PARAMETERS", "compute_counts", "question_counts", "message_pairs", "fit_files",
           "load_fit_table", "decision_table", "decision_diagram", "leaf_law_data",
           "question_samples", "message_samples"]

#: Parameters a fit table may hold, in its order.
FIT_PARAMETERS = ("kappa", "beta", "p0", "rho", "gamma")


def _counts(df, flag, path, key, correct_col):
    """``(key values, n, k)`` per row: 0/1 ``correct`` per attempt or ``n``, ``k`` columns."""
    if correct_col in df.columns:
        k = binary_column(df, correct_col, flag, path)
        n = np.ones_like(k)
    elif "n" in df.columns and "k" in df.columns:
        n = numeric_column(df, "n", flag, path, lo=1.0, integer=True)
        k = numeric_column(df, "k", flag, path, lo=0.0, integer=True)
        if np.any(k > n):
            i = int(np.flatnonzero(k > n)[0])
            raise ValueError(f"{flag} {path}: k must be <= n, got {k[i]} > {n[i]} at row {i + 1}")
    else:
        raise ValueError(f"{flag} {path} needs a 0/1 column {correct_col!r} per attempt or "
                         f"columns 'n' and 'k' per row (columns: {', '.join(df.columns)})")
    return key, n, k


def compute_counts(path, compute_col="compute", correct_col="correct", max_bytes=None):
    """Attempts and successes per compute value of the ``--compute`` file."""
    kw = {} if max_bytes is None else dict(max_bytes=max_bytes)
    df = read_table(path, "--compute", **kw)
    require_columns(df, [compute_col], "--compute", path)
    x = numeric_column(df, compute_col, "--compute", path, lo=0.0, lo_open=True)
    return _counts(df, "--compute", path, x, correct_col)


def question_counts(path, question_col="question", correct_col="correct", max_bytes=None):
    """Samples and successes per question of the ``--samples`` file (rows pooled per question)."""
    kw = {} if max_bytes is None else dict(max_bytes=max_bytes)
    df = read_table(path, "--samples", **kw)
    require_columns(df, [question_col], "--samples", path)
    if df[question_col].isna().any():
        i = int(np.flatnonzero(df[question_col].isna().to_numpy())[0])
        raise ValueError(f"--samples {path}: column {question_col!r} has a missing value at row "
                         f"{i + 1}")
    q, n, k = _counts(df, "--samples", path, df[question_col].to_numpy(), correct_col)
    g = pd.DataFrame({"q": q, "n": n, "k": k}).groupby("q", sort=False)[["n", "k"]].sum()
    return g["n"].to_numpy(), g["k"].to_numpy()


def message_pairs(path, sent_col="sent", received_col="received", max_bytes=None):
    """Correctness of every message as written and as read, from the ``--messages`` file."""
    kw = {} if max_bytes is None else dict(max_bytes=max_bytes)
    df = read_table(path, "--messages", **kw)
    require_columns(df, [sent_col, received_col], "--messages", path)
    return (binary_column(df, sent_col, "--messages", path),
            binary_column(df, received_col, "--messages", path))


def fit_files(compute=None, samples=None, messages=None, level=0.95, columns=None,
              max_bytes=None):
    """The fit table of docs/models/phase.md (45)-(47) from the files given.

    Parameters
    ----------
    compute, samples, messages : str, optional
        The files (at least one).
    level : float
        Coverage of the intervals.
    columns : dict, optional
        Column names: ``compute``, ``correct``, ``question``, ``sent``, ``received``.
    max_bytes : int, optional
        Size limit of the files.

    Returns
    -------
    DataFrame
        One row per parameter: ``parameter``, ``estimate``, ``low``,
        ``high``, ``level``, ``source`` (the file), ``n`` (attempts,
        samples or messages), ``test`` (the goodness of fit), ``statistic``,
        ``df``, ``p_value``.
    """
    cols = dict(compute="compute", correct="correct", question="question", sent="sent",
                received="received")
    cols.update(columns or {})
    if compute is None and samples is None and messages is None:
        raise ValueError("fit needs at least one of --compute, --samples, --messages")
    rows = []

    def add(names, res, source, n, test, stat_key):
        for name in names:
            rows.append(dict(parameter=name, estimate=res[name], low=res[f"{name}_low"],
                             high=res[f"{name}_high"], level=level, source=source, n=n,
                             test=test, statistic=res[stat_key], df=res["df"],
                             p_value=res["p_value"]))

    if compute is not None:
        x, n, k = compute_counts(compute, cols["compute"], cols["correct"], max_bytes)
        res = th.fit_leaf_law(x, n, k, level)
        add(("kappa", "beta"), res, compute, res["attempts"], "binomial deviance (45)",
            "deviance")
    if samples is not None:
        n, k = question_counts(samples, cols["question"], cols["correct"], max_bytes)
        res = th.fit_correlation(n, k, level)
        add(("p0", "rho"), res, samples, res["samples"], "Pearson chi2 of counts per question "
            "(46)", "chi2")
    if messages is not None:
        s, r = message_pairs(messages, cols["sent"], cols["received"], max_bytes)
        res = th.fit_fidelity(s, r, level)
        add(("gamma",), res, messages, res["messages"], "likelihood ratio, equal flip rates "
            "(47)", "lr")
    return pd.DataFrame(rows)


def load_fit_table(path, max_bytes=None):
    """``{parameter: estimate}`` from a table of :func:`fit_files` (``--params FILE``)."""
    kw = {} if max_bytes is None else dict(max_bytes=max_bytes)
    df = read_table(path, "--params", **kw)
    require_columns(df, ["parameter", "estimate"], "--params", path)
    est = numeric_column(df, "estimate", "--params", path)
    names = df["parameter"].astype(str).str.strip().tolist()
    unknown = [n for n in names if n not in FIT_PARAMETERS]
    if unknown:
        raise ValueError(f"--params {path}: unknown parameter {unknown[0]!r} (known: "
                         f"{', '.join(FIT_PARAMETERS)})")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"--params {path}: parameter {dup!r} appears twice")
    return dict(zip(names, (float(v) for v in est)))


def decision_table(res):
    """Every organisation of a :func:`theory.phase.decide` result, one row each.

    Rows: one agent (``organisation="single"``, depth 0, one leaf) and every
    tree evaluated; ``chosen`` marks the answer.
    """
    single = dict(organisation="single", b=None, depth=0, leaves=1,
                  compute_per_leaf=res["budget"], p_leaf=res["p_single"],
                  p_tree=res["p_single"])
    rows = [single] + [dict(organisation="tree", **c) for c in res["candidates"]]
    df = pd.DataFrame(rows).rename(columns={"p_tree": "p_predicted"})
    if res["choice"] == "single":
        chosen = df["organisation"] == "single"
    else:
        chosen = (df["b"] == res["b"]) & (df["depth"] == res["depth"])
    df["chosen"] = chosen.to_numpy()
    df["b"] = df["b"].astype("Int64")
    return df


def decision_diagram(b, depth, p_leaf, correlation="herding", grid=60):
    """Closed-form root accuracy on a (rho, gamma) grid for a tree of ``b``, ``depth``, (23)-(27).

    Returns
    -------
    DataFrame
        ``rho``, ``gamma``, ``p_theory`` per cell (what
        :func:`sim.phase.plot_phase_diagram` draws with ``value="p_theory"``).
    """
    from sim.phase.diagram import diagram_axes

    rhos, gammas = diagram_axes(grid)
    rr, gg = np.meshgrid(rhos, gammas, indexing="ij")
    mu0 = 2.0 * p_leaf - 1.0
    if correlation == "herding":
        mu = np.asarray(th.level_biases("herding", b, depth, rr, gg, mu0))[-1]
    else:
        mu = np.array([[float(th.level_biases(correlation, b, depth, r, g, mu0)[-1])
                        for g in gammas] for r in rhos])
    return pd.DataFrame({"rho": rr.ravel(), "gamma": gg.ravel(),
                         "p_theory": (1.0 + mu.ravel()) / 2.0})


def leaf_law_data(kappa, beta, computes, attempts, seed=0):
    """Successes of independent agents at each compute, drawn by the NumPy reference.

    At compute ``x`` an agent is right with probability (45); each compute is
    one run of :func:`sim.phase.reference_levels` on independent leaves
    (herding with ``rho = 0``).

    Returns
    -------
    DataFrame
        ``compute``, ``n``, ``k``.
    """
    from sim.phase.reference import reference_levels

    rows = []
    for i, x in enumerate(computes):
        p = float(th.leaf_accuracy(x, kappa, beta))
        params = th.PhaseParams(b=3, rho=0.0, gamma=1.0, depth=1, p0=p)
        _, _, leaves = reference_levels(params, -(-attempts // 3), seed * 1000 + i,
                                        want_leaves=True)
        k = int((leaves.ravel()[:attempts] > 0).sum())
        rows.append(dict(compute=float(x), n=int(attempts), k=k))
    return pd.DataFrame(rows)


def question_samples(p0, rho, questions, samples=9, seed=0):
    """Per-question counts of correct samples under the item-difficulty model (24).

    Each question is one trial of the simulator's item model (a tree of
    ``samples = 3**depth`` leaves sharing the question's accuracy).

    Returns
    -------
    DataFrame
        ``question``, ``n``, ``k``.
    """
    from sim.phase.reference import reference_levels

    depth = int(round(np.log(samples) / np.log(3)))
    if 3**depth != samples:
        raise ValueError(f"samples must be a power of 3, got {samples}")
    params = th.PhaseParams(b=3, rho=rho, gamma=1.0, depth=depth, p0=p0, correlation="item")
    _, _, leaves = reference_levels(params, questions, seed, want_leaves=True)
    k = (leaves > 0).sum(axis=1)
    return pd.DataFrame({"question": np.arange(questions), "n": samples, "k": k})


def message_samples(gamma, p, messages, seed=0):
    """Correctness of messages before and after the simulator's channel of fidelity ``gamma``.

    One level of a tree (depth 1, ``rho = 0``): the leaves' votes are the
    messages sent, the root's received bits the messages read (30).

    Returns
    -------
    DataFrame
        ``sent``, ``received`` (0/1).
    """
    from sim.phase.reference import reference_levels

    params = th.PhaseParams(b=3, rho=0.0, gamma=gamma, depth=1, p0=p)
    trials = -(-messages // 3)
    _, votes, leaves = reference_levels(params, trials, seed, want_votes=True, want_leaves=True)
    sent = (leaves.ravel()[:messages] > 0).astype(int)
    received = (votes.ravel()[:messages] > 0).astype(int)
    return pd.DataFrame({"sent": sent, "received": received})
