"""The text reports of ``python -m sim.coop``, one per experiment."""

from __future__ import annotations

from sim.coop.paper import PUBLISHED

__all__ = ["report_team", "report_paper", "report_apache", "report_robustness",
           "report_repeated"]


def report_team(res, params, variant):
    """One team's equilibrium, welfare and free-riding comparison."""
    fr = res["free_riding"]
    print(f"budgetlab coop  variant={variant}  omega={params.omega:g} beta={params.beta:g} "
          f"c={params.c:g} n={params.n} phi_B={params.phi_B:g} phi_C={params.phi_C:g} "
          f"bounds=[{params.a_min:g}, {params.a_max:g}]")
    print("  loyalty theta: " + ", ".join(f"{t:g}" for t in params.theta))
    print("  equilibrium efforts: " + ", ".join(f"{a:.4g}" for a in res["efforts"])
          + ("" if res["unique"] else "  (tied targets: one selection of many)"))
    print(f"  aggregate S* = {res['aggregate']:.6g}, mean effort = {res['mean_effort']:.6g}")
    print(f"  team output Q = {res['output']:.6g}, welfare Q - cS = {res['welfare']:.6g}, "
          f"cohesion C = {res['cohesion']:.4f}")
    print("free riding (theta = 0):")
    print(f"  Holmstrom effort a0* = {fr['analytical_effort']:.6g} "
          f"(solver {fr['equilibrium_effort']:.6g}), output {fr['output']:.6g}, "
          f"welfare {fr['welfare']:.6g}")
    print(f"  social optimum effort = {fr['social_optimum_effort']:.6g}, "
          f"welfare {fr['social_optimum_welfare']:.6g}")
    print(f"  loyalty raises effort by {fr['effort_increase_pct']:.1f} % and output by "
          f"{fr['output_increase_pct']:.1f} %")


def report_paper(res):
    """The six targets and the statistics beside the published figures."""
    variant = res["variant"]
    pub = PUBLISHED[variant]
    print(f"budgetlab coop  sweep of {res['configurations']} configurations, "
          f"variant={variant}")
    print(f"{'target':<17s} {'share':>8s} {'count':>11s} {'status':>6s}  published")
    for t in res["targets"]:
        print(f"{t['name']:<17s} {t['share'] * 100:7.2f}% {t['count']:>5d}/{t['units']:<5d} "
              f"{'pass' if t['passed'] else 'FAIL':>6s}  {pub[t['name']]}")
    rows = [("median differentiation", f"{res['median_differentiation']:.3f}x",
             "median_differentiation"),
            ("median synergy", f"{res['median_synergy']:.4f}", "median_synergy"),
            ("paired t (0.9 vs 0)", f"{res['t_stat']:.3f}", "t_stat"),
            ("p value", f"{res['p_value']:.3g}", "p_value"),
            ("Cohen's d (ddof 0)", f"{res['cohens_d']:.4f}", "cohens_d"),
            ("Apache score", f"{res['apache_score']}/60", "apache_score")]
    for label, val, key in rows:
        print(f"{label:<24s} {val:>12s}  published {pub[key]}")
    if "bootstrap" in res:
        b = res["bootstrap"]
        print(f"bootstrap mean differentiation {b['estimate']:.3f}, 95% CI "
              f"[{b['ci_low']:.2f}, {b['ci_high']:.2f}] ({b['resamples']} resamples, "
              f"seed {b['seed']})")


def report_apache(res):
    """The Apache phases, their rubric items and the secondary statistics."""
    print(f"budgetlab coop  Apache HTTP Server case, variant={res['variant']}")
    print(f"{'phase':<11s} {'n':>3s} {'mean theta':>10s} {'cohesion':>8s} {'predicted':>10s} "
          f"{'expected':>8s}  conv rank pattern trend  score")
    for p in res["phases"]:
        it = p["items"]
        print(f"{p['name']:<11s} {p['n']:>3d} {p['mean_theta']:10.4f} {p['cohesion']:8.4f} "
              f"{p['predicted']:10.4g} {p['expected']:8.1f}  {it['convergence']:>4d} "
              f"{it['ranking']:>4d} {it['pattern']:>7d} {it['trend']:>5d}  {p['score']:>5d}")
    print(f"score {res['score']}/{res['max_score']} (published "
          f"{PUBLISHED[res['variant']]['apache_score']})")
    print(f"vs expected effort: Pearson r {res['pearson_r']:.3f} (p {res['pearson_p']:.3g}), "
          f"RMSE {res['rmse']:.2f}, MAPE {res['mape']:.1f} %; founders' top/bottom effort "
          f"{res['founders_skew']:.4g} (observed {res['observed_skew']:g})")


def report_robustness(res):
    """The robustness run's shares and ratio."""
    print(f"budgetlab coop  Monte Carlo robustness, variant={res['variant']}, "
          f"trials={res['trials']}, seed={res['seed']}")
    print(f"  monotone {res['monotone'] * 100:.1f} %, ratio > 2 in "
          f"{res['ratio_above_2'] * 100:.1f} %, ratio {res['ratio_mean']:.3f} "
          f"+/- {res['ratio_sd']:.3f}")


def report_repeated(df, trust):
    """Selected rounds of repeated play against the equilibrium."""
    first = df.iloc[0]
    print(f"budgetlab coop  repeated play: {int(first['trials'])} teams x {len(df)} rounds, "
          f"noise {first['noise']:g}, trust dynamics {'on' if trust else 'off'}, "
          f"backend {first['backend']}, seed {int(first['seed'])}")
    print(f"{'round':>5s} {'mean effort':>12s} {'se':>9s} {'equilibrium':>12s} "
          f"{'|S - S*|':>10s} {'mean theta':>11s}")
    show = sorted({0, 1, 2, 4, 9, len(df) - 1} & set(range(len(df))))
    for k in show:
        r = df.iloc[k]
        print(f"{int(r['round']):5d} {r['estimate']:12.5g} {r['se']:9.2g} {r['theory']:12.5g} "
              f"{r['aggregate_gap']:10.4g} {r['mean_theta']:11.4f}")
