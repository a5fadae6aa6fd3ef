"""Sweep declarations of the models not yet moved into their packages (temporary).

Each model package will export its own ``SWEEP`` (:class:`sim.interface.SweepModel`);
until then its declaration lives here.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from sim.interface import Param, SweepModel, params_of
from sim.sweep.plot import first_slice as _first_slice
from sim.sweep.plot import plot_xy as _plot_xy
from theory._params import check_int


def _phase_point(values, seed, trials, backend):
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    df = sim_phase.simulate(PhaseParams(**values), trials, seed, backend)
    df["quantity"] = "accuracy"
    df["theory"] = df["p_theory"]
    df["estimate"] = df["p_sim"]
    return df


def _bbam_point(values, seed, trials, backend):
    from sim import bbam as sim_bbam

    df = sim_bbam.simulate(sim_bbam.BbamParams(**values), trials, seed, backend)
    df["quantity"] = "accuracy_percent"
    df["theory"] = df["accuracy_theory"]
    df["estimate"] = df["accuracy"]
    df["se"] = df["accuracy_se"]
    return df


def _knapsack_point(values, seed, trials, backend):
    from sim import knapsack as sim_knapsack

    df = sim_knapsack.simulate_batch(sim_knapsack.KnapsackSimParams(**values), None, trials,
                                     seed, backend)[0]
    df["quantity"] = "effective_gradient_ratio"
    df["theory"] = df["egr_expected"]
    df["estimate"] = df["egr_sim"]
    df["se"] = df["egr_se"]
    return df


#: Independent batches of teams behind the standard error of a coop point.
COOP_BATCHES = 4


def _coop_point(values, seed, trials, backend):
    from sim import coop as sim_coop
    from theory import coop as th_coop

    v = dict(values)
    n = v.pop("n")
    theta = v.pop("theta")
    noise, rounds = v.pop("noise"), v.pop("rounds")
    params = th_coop.CoopParams(n=n, theta=(theta,) * n, **v)
    eq = th_coop.solve(params)
    trials = check_int("trials", trials, COOP_BATCHES)
    ends = []
    for k in range(COOP_BATCHES):
        sub = int(np.random.SeedSequence(seed, spawn_key=(k,)).generate_state(1, np.uint64)[0]
                  >> np.uint64(1))
        df = sim_coop.repeated_play(params, trials // COOP_BATCHES, rounds, noise, seed=sub)
        ends.append(float(df["mean_effort"].iloc[-1]))
    ends = np.asarray(ends)
    return pd.DataFrame(dict(
        quantity=["mean_effort"], theory=[float(eq.mean_effort)], estimate=[ends.mean()],
        se=[ends.std(ddof=1) / math.sqrt(COOP_BATCHES)], unique=[bool(eq.unique)],
        teams=[trials // COOP_BATCHES * COOP_BATCHES]))


def _gamma_point(values, seed, trials, backend):
    from sim import gamma as sim_gamma

    v = dict(values)
    if v.pop("toy") == "geometric":
        model = sim_gamma.geometric_model(v.pop("h"))
        for k in ("p_wait", "p_end", "newline", "max_paragraph"):
            v.pop(k)
    else:
        v.pop("h")
        model = sim_gamma.paragraph_model(p_wait=v.pop("p_wait"), p_end=v.pop("p_end"),
                                          newline=v.pop("newline"),
                                          max_paragraph=v.pop("max_paragraph"))
    budget = v.pop("budget")
    pred = sim_gamma.fit_predictor(model, distortion=v.pop("distortion"))
    methods = [replace(m, strength=v["strength"]) if m.kind == "guided" else m
               for m in sim_gamma.default_methods(model)]
    df = sim_gamma.compare(model, budget, methods, pred, trials, seed, backend)
    return pd.DataFrame(dict(method=df["name"], quantity="adherence",
                             theory=df["adherence_exact"], estimate=df["adherence_sim"],
                             se=df["adherence_se_sim"], mean_length_exact=df["mean_length_exact"],
                             mean_length_sim=df["mean_length_sim"],
                             overshoot_p90=df["overshoot_p90_sim"]))



def _plot_phase(df, man, ax):
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    axes = man["axes"]
    if "rho" not in axes or "gamma" not in axes:
        raise ValueError("the phase figure needs ranges of both rho and gamma")
    part, _ = _first_slice(df, axes, ("rho", "gamma"))
    root = part[part["level"] == part["depth"]]
    first = root.iloc[0]
    params = PhaseParams(**{p.name: (first[p.name].item() if hasattr(first[p.name], "item")
                                     else first[p.name])
                            for p in params_of(PhaseParams) if p.name not in ("rho", "gamma")})
    return sim_phase.plot_phase_diagram(root[["rho", "gamma", "p_sim"]], params, ax)


def _plot_bbam(df, man, ax):
    from sim import bbam as sim_bbam

    if "budget" not in man["axes"]:
        raise ValueError("the bbam frontier needs a range of budget")
    part, _ = _first_slice(df, man["axes"], ("budget",))
    return sim_bbam.plot_frontier(part, ax)



def _plot_knapsack(df, man, ax):
    return _plot_xy(df, man, ax, "effective-gradient ratio (95% interval)",
             "knapsack: expected and simulated EGR by allocator")


def _plot_gamma(df, man, ax):
    return _plot_xy(df, man, ax, "P(T <= budget) (95% interval)",
             "gamma: exact and simulated budget adherence by decoding rule", group="method")


def _plot_coop(df, man, ax):
    if "theta" not in man["axes"]:
        raise ValueError("the coop figure (effort against loyalty) needs a range of theta")
    axes = {"theta": man["axes"]["theta"], **{k: v for k, v in man["axes"].items()
                                               if k != "theta"}}
    group = "n" if "n" in axes else "welfare_mode"
    return _plot_xy(df, dict(man, axes=axes), ax, "mean effort per member",
             "coop: equilibrium effort (line) and repeated play (points) against loyalty",
             log=True, group=group)




def _validate_phase(values):
    from theory.phase import PhaseParams
    PhaseParams(**values)


def _validate_bbam(values):
    from sim.bbam import BbamParams
    BbamParams(**values)


def _validate_knapsack(values):
    from sim.knapsack import KnapsackSimParams
    KnapsackSimParams(**values)


def _validate_coop(values):
    from theory import coop as th_coop
    v = dict(values)
    n, theta = v.pop("n"), v.pop("theta")
    check_int("rounds", v.pop("rounds"), 1)
    if not v.pop("noise") >= 0:
        raise ValueError(f"noise must be in [0, inf), got {values['noise']:g}")
    th_coop.CoopParams(n=n, theta=(theta,) * n, **v)


def legacy(name):
    """The :class:`SweepModel` of model ``name``."""
    from sim.bbam import BbamParams
    from sim.knapsack import KnapsackSimParams
    from theory.phase import PhaseParams

    if name == "phase":
        return SweepModel("phase", params_of(PhaseParams), _phase_point, trials=4096,
                          plot=_plot_phase, validate=_validate_phase)
    if name == "bbam":
        return SweepModel("bbam", params_of(BbamParams, skip=("m_counts",)), _bbam_point,
                          trials=20_000, plot=_plot_bbam, validate=_validate_bbam)
    if name == "knapsack":
        return SweepModel("knapsack", params_of(KnapsackSimParams, skip=("mixture",),
                                                kinds={"budget": int}),
                          _knapsack_point, trials=500, plot=_plot_knapsack,
                          validate=_validate_knapsack)
    if name == "coop":
        return SweepModel("coop", (
            Param("theta", float, 0.5), Param("n", int, 5), Param("omega", float, 25.0),
            Param("beta", float, 0.7), Param("c", float, 1.0), Param("phi_B", float, 0.8),
            Param("phi_C", float, 0.3), Param("a_min", float, 0.0), Param("a_max", float, 50.0),
            Param("welfare_mode", str, "paper"), Param("noise", float, 0.5),
            Param("rounds", int, 30),
        ), _coop_point, trials=2000, plot=_plot_coop, backends=("auto", "numba"),
            validate=_validate_coop)
    if name == "gamma":
        return SweepModel("gamma", (
            Param("toy", str, "paragraph"), Param("budget", int, 150), Param("h", float, 0.01),
            Param("p_wait", float, 0.25), Param("p_end", float, 0.01),
            Param("newline", float, 0.12), Param("max_paragraph", int, 20),
            Param("distortion", float, 0.0), Param("strength", float, 1.0),
        ), _gamma_point, trials=5000, plot=_plot_gamma)
    raise KeyError(name)


def phase_boundary(df):
    """Empirical critical fidelity of a phase sweep, next to the theory.

    For each (rho, b, depth, p0, ...) the simulated root accuracy is compared
    with the leaf accuracy ``p0`` along ``gamma``: a tree that amplifies beats
    its leaves and one that washes out falls below them. The boundary is the
    ``gamma`` of the last upward crossing, by linear interpolation between
    grid points (derived for this project: at depth L the root keeps the
    leaves' bias exactly when the finite-depth gain is 1, which tends to
    ``alpha = 1``, Thm 4, as the leaf bias goes to 0).

    Returns
    -------
    pandas.DataFrame
        One row per setting: ``gamma_emp`` (from ``estimate``),
        ``gamma_depth`` (the same crossing of the exact finite-depth theory
        column) and ``gamma_c`` (the model's critical fidelity from
        :func:`sim.phase.summary`); NaN where the grid has no crossing.
    """
    from sim import phase as sim_phase
    from theory.phase import PhaseParams

    root = df[df["level"] == df["depth"]]
    keys = [p.name for p in params_of(PhaseParams) if p.name != "gamma"]
    rows = []
    for vals, g in root.groupby(keys, sort=True):
        g = g.sort_values("gamma")
        setting = dict(zip(keys, vals))
        p0 = setting["p0"]
        row = dict(setting)
        for col, out in (("estimate", "gamma_emp"), ("theory", "gamma_depth")):
            y = g[col].to_numpy() - p0
            x = g["gamma"].to_numpy()
            below = np.flatnonzero(y[:-1] < 0)
            below = below[y[below + 1] >= 0]
            if below.size:
                i = below[-1]
                row[out] = float(x[i] + (x[i + 1] - x[i]) * (-y[i]) / (y[i + 1] - y[i]))
            else:
                row[out] = math.nan
        params = PhaseParams(**{k: (v.item() if hasattr(v, "item") else v)
                                for k, v in setting.items()}, gamma=1.0)
        row["gamma_c"] = sim_phase.summary(params)["gamma_c"]
        rows.append(row)
    return pd.DataFrame(rows)

