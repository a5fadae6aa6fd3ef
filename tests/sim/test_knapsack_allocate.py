"""Allocation on the user's own rates: ``allocate``, ``allocate_table`` and the verl drop-in.

Equation numbers refer to docs/models/knapsack.md.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest

from sim import knapsack as sk
from sim.knapsack.__main__ import main
from theory import knapsack as th


def run_json(capsys, *argv):
    assert main(["allocate", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def random_rates(gen, m):
    """Rates on a k/16 grid with extra mass at 0 and 1, and string ids in shuffled order."""
    p = gen.integers(0, 17, m) / 16
    p[gen.uniform(size=m) < 0.15] = 0.0
    p[gen.uniform(size=m) < 0.15] = 1.0
    ids = [f"q{i:04d}" for i in gen.permutation(10 * m)[:m]]
    return pd.DataFrame({"prompt": ids, "rate": p})


@pytest.mark.parametrize("seed", range(12))
def test_cli_allocation_is_the_library_allocation_on_the_given_rates(seed, tmp_path, capsys):
    gen = np.random.default_rng(seed)
    m = int(gen.integers(2, 30))
    df = random_rates(gen, m)
    budget = int(gen.integers(2 * m, 20 * m))
    n_up = int(gen.integers(max(2, -(-budget // m)), 40))
    path = tmp_path / ("r.parquet" if seed % 2 else "r.csv")
    (df.to_parquet if seed % 2 else df.to_csv)(path, index=False)
    out = tmp_path / "out.csv"
    res = run_json(capsys, path, "--budget", budget, "--n-up", n_up,
                   "--fallback", "none", "--id-column", "prompt", "--p-column", "rate",
                   "--out", out)
    N = np.array([a["n"] for a in res["allocation"]])
    # ids carried through in input order
    assert [a["id"] for a in res["allocation"]] == list(df.prompt)
    written = pd.read_csv(out)
    assert list(written.prompt) == list(df.prompt) and list(written.n) == list(N)
    assert written.n.dtype.kind == "i"
    # exactly the library's allocation on these rates, prompt by prompt
    lib, _ = th.allocate(df.rate.to_numpy(), None, th.KnapsackParams(
        n=max(2, budget // m), n_low=2, n_up=n_up, budget=budget, fallback="none"))
    assert np.array_equal(N, lib)
    # the exact optimum of (5): at least the exact dynamic program's value
    dp = th.allocate_dp(df.rate.to_numpy(), budget, 2, n_up)
    assert th.total_value(N, df.rate) >= th.total_value(dp, df.rate) - 1e-12
    assert N.sum() <= budget and N.min() >= 2 and N.max() <= n_up


def test_summary_compares_with_uniform_at_the_same_budget(tmp_path, capsys):
    path = tmp_path / "r.csv"
    pd.DataFrame({"id": range(6), "p": [0.5, 0.0, 0.02, 1.0, 0.3, 0.9]}).to_csv(path,
                                                                               index=False)
    res = run_json(capsys, path, "--budget", 48)
    N = [a["n"] for a in res["allocation"]]
    p = [0.5, 0.0, 0.02, 1.0, 0.3, 0.9]
    assert res["egr_expected"] == pytest.approx(th.effective_gradient_ratio(N, p))
    assert res["egr_uniform"] == pytest.approx(th.effective_gradient_ratio([8] * 6, p))
    assert res["egr_ratio"] == pytest.approx(res["egr_expected"] / res["egr_uniform"])
    assert res["egr_ratio"] > 1.2 and sum(N) == 48
    assert {"params", "version", "allocation", "value", "value_uniform", "fallback"} <= set(res)
    assert "mixture" not in res["params"] and res["params"]["budget"] == 48


def test_count_column_marks_prompts_without_a_valid_rate(tmp_path, capsys):
    path = tmp_path / "r.csv"
    pd.DataFrame({"id": list("abcd"), "p": [0.3, 0.5, 0.1, 0.0],
                  "k": [16, 4, 16, 16]}).to_csv(path, index=False)
    res = run_json(capsys, path, "--budget", 40, "--count-column", "k")
    N = [a["n"] for a in res["allocation"]]
    assert N[1] == 10  # fewer than 8 rewards: n = budget // prompts
    assert sum(N) == 40 and res["valid"] == 3


def test_python_function_takes_and_returns_a_frame():
    df = pd.DataFrame({"id": ["x", "y", "z"], "p": [0.1, 0.5, 0.9], "other": [1, 2, 3]})
    out = sk.allocate_table(df, th.KnapsackParams(budget=30, fallback="none"))
    assert list(out.columns) == ["id", "p", "n"] and list(out.id) == ["x", "y", "z"]
    assert out.n.sum() == 30 and out.attrs["summary"]["egr_ratio"] > 1
    duet = sk.allocate_table(df.assign(length=[400, 300, 200]), allocator="duet",
                             token_budget=4000.0)
    assert list(duet.columns) == ["id", "p", "length", "n", "cap"]
    assert (duet.n * duet.length).sum() <= 4000


def test_duet_form_other_checks_rely_on(tmp_path, capsys):
    gen = np.random.default_rng(5)
    m = 40
    ell = gen.integers(100, 3000, m).astype(float)
    path = tmp_path / "d.csv"
    pd.DataFrame({"id": [f"p{i}" for i in range(m)], "p": gen.uniform(0, 1, m),
                  "length": ell}).to_csv(path, index=False)
    B = 6 * ell.sum()
    res = run_json(capsys, path, "--allocator", "duet", "--token-budget", B)
    n = np.array([a["n"] for a in res["allocation"]])
    cap = np.array([a["cap"] for a in res["allocation"]])
    assert all(isinstance(a["n"], int) and isinstance(a["cap"], int) for a in res["allocation"])
    assert n.min() >= 1 and n.max() <= 32 and cap.min() >= 32 and cap.max() <= 4096
    assert float(n @ ell) <= B
    assert 0 < res["variance_ratio"] < 1 and res["variance_ratio_unclipped"] <= 1
    assert res["variance_ratio"] >= res["variance_ratio_unclipped"] - 0.05
    assert res["params"]["token_budget"] == B and res["params"]["n_max"] == 32


def bad_files(d):
    files = {
        "noid.csv": "p\n0.5\n0.2\n",
        "missing.csv": "id,p\na,0.5\n,0.2\n",
        "dup.csv": "id,p\na,0.5\nb,0.2\na,0.1\n",
        "range.csv": "id,p\na,0.5\nb,1.5\n",
        "nan.csv": "id,p\na,0.5\nb,nan\n",
        "text.csv": "id,p\na,0.5\nb,high\n",
        "bool.csv": "id,p\na,True\nb,False\n",
        "one.csv": "id,p\na,0.5\n",
        "count.csv": "id,p,k\na,0.5,16\nb,0.2,2.5\n",
        "ok.csv": "id,p\na,0.5\nb,0.2\nc,0.1\n",
        "zero.csv": "id,p\na,0.5\nb,0.0\nc,0.1\n",
        "dl.csv": "id,p,length\na,0.5,100\nb,0.2,0\n",
    }
    for name, text in files.items():
        (d / name).write_text(text)
    os.mkfifo(d / "fifo.csv")
    (d / "dir.csv").mkdir()
    return d


BAD = [
    (["{d}/noid.csv"], "id_column 'id' is not a column of the rates (columns: p)"),
    (["{d}/missing.csv"], "has a missing id in row 2"),
    (["{d}/dup.csv"], "repeats id 'a' (rows 1, 3)"),
    (["{d}/range.csv"], "must hold success rates in [0, 1], got 1.5 at id 'b'"),
    (["{d}/nan.csv"], "missing or non-numeric value"),
    (["{d}/text.csv"], "missing or non-numeric value 'high' at id 'b'"),
    (["{d}/bool.csv"], "holds booleans (True/False), not success rates"),
    (["{d}/one.csv"], "at least 2 prompts"),
    (["{d}/count.csv", "--count-column", "k"], "integer counts >= 0, got 2.5 at id 'b'"),
    (["{d}/ok.csv", "--p-column", "rate"], "p_column 'rate' is not a column"),
    (["{d}/ok.csv", "--budget", "400"], "budget must be at most 384"),
    (["{d}/ok.csv", "--budget", "4"], "budget must be at least"),
    (["{d}/fifo.csv"], "is a FIFO"),
    (["{d}/dir.csv"], "is a directory"),
    (["{d}/absent.csv"], "does not exist"),
    (["{d}/ok.csv", "--out", "{d}/out.txt"], "--out must end in .csv or .parquet"),
    (["{d}/ok.csv", "--out", "{d}/nodir/out.csv"], "does not exist"),
    (["{d}/ok.csv", "--token-budget", "100"], "--token-budget does not apply to --allocator "
                                              "knapsack"),
    (["{d}/ok.csv", "--allocator", "duet", "--budget", "10", "--token-budget", "9"],
     "--budget does not apply to --allocator duet"),
    (["{d}/ok.csv", "--allocator", "duet"], "needs --token-budget"),
    (["{d}/ok.csv", "--allocator", "duet", "--token-budget", "10"], "'length' is not a column"),
    (["{d}/dl.csv", "--allocator", "duet", "--token-budget", "1000"],
     "must hold mean lengths > 0, got 0 at id 'b'"),
    (["{d}/ok.csv", "--n-low", "5", "--n-up", "3"], "n_up must be an integer in [5, inf]"),
    (["{d}/zero.csv", "--mode", "reference", "--budget", "300"], "above n_up"),
    (["{d}/ok.csv", "--mode", "reference", "--budget", "300"], "fails on these rates"),
]


@pytest.mark.parametrize("argv,message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_nothing_written(argv, message, tmp_path, cli_exit):
    d = bad_files(tmp_path)
    out = d / "result.csv"
    argv = [a.format(d=d) for a in argv]
    status, err = cli_exit(main, ["allocate", *argv, *([] if "--out" in argv else
                                                       ["--out", str(out)])])
    assert status == 2, err
    assert err.count("\n") == 1, err
    assert message in err
    assert not out.exists()
    assert not [f for f in os.listdir(d) if f.startswith(".tmp-")]


def test_memory_guard_of_the_authors_dynamic_program(tmp_path, cli_exit, monkeypatch):
    path = tmp_path / "r.csv"
    pd.DataFrame({"id": range(50), "p": np.linspace(0.01, 0.99, 50)}).to_csv(path, index=False)
    monkeypatch.setenv("BUDGETLAB_MEMORY_LIMIT", "1000")
    status, err = cli_exit(main, ["allocate", str(path), "--mode", "reference"])
    assert status == 2 and "needs about" in err and "--yes" in err
    status, err = cli_exit(main, ["allocate", str(path), "--mode", "reference", "--yes"])
    assert status == 0


def test_report_and_default_run_unchanged(tmp_path, capsys):
    path = tmp_path / "r.csv"
    pd.DataFrame({"id": range(12), "p": np.linspace(0, 1, 12)}).to_csv(path, index=False)
    assert main(["allocate", str(path)]) == 0
    text = capsys.readouterr().out
    assert "expected effective-gradient ratio" in text and "2 more rows" in text
    assert main(["--trials", "20", "--prompts", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["allocators"][0]["name"] == "uniform"


def test_default_run_writes_its_table(tmp_path, capsys):
    out = tmp_path / "batch.parquet"
    assert main(["--trials", "20", "--prompts", "8", "--out", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df.name) == list(sk.ALLOCATORS) and "egr_expected" in df


# ----------------------------------------------------------------------------
# the verl drop-in
# ----------------------------------------------------------------------------

def verl_instance(gen):
    m = int(gen.integers(2, 40))
    n = int(gen.integers(2, 17))
    min_n = int(gen.integers(1, n + 1))
    max_n = int(gen.integers(n, 3 * n + 1))
    valid = gen.uniform(size=m) < 0.85
    rate = gen.integers(0, 17, m) / 16
    rate[gen.uniform(size=m) < 0.1] = 0.0
    count = np.where(valid, 16, gen.integers(0, 8, m))
    states = [[int(v), float(r if v else 0.0), int(c)] for v, r, c in zip(valid, rate, count)]
    lo = min_n * valid.sum() + n * (~valid).sum()
    hi = max_n * valid.sum() + n * (~valid).sum()
    budget = int(gen.integers(lo, hi + 1))
    return states, n, min_n, max_n, budget, valid, rate


def test_verl_drop_in_reaches_the_exact_dp_on_100_random_instances():
    gen = np.random.default_rng(2024)
    for _ in range(100):
        states, n, min_n, max_n, budget, valid, rate = verl_instance(gen)
        N, info = sk.sampling_budget_by_knapsack(
            np.array(states, dtype=object), n, min_n=min_n, max_n=max_n, total_budget=budget)
        assert N.dtype == np.int32 and N.shape == (len(states),)
        assert {"fallback", "fallback_effective_ratio"} <= set(info)
        assert np.all(N[~valid] == n)
        assert N[valid].min() >= min_n and N.max() <= max(max_n, n)
        # the knapsack (5) over the valid prompts with what the invalid ones leave
        rest = budget - n * int((~valid).sum())
        dp = th.allocate_dp(rate[valid], rest, min_n, max_n)
        assert th.total_value(N[valid], rate[valid]) >= th.total_value(dp, rate[valid]) - 1e-12
        assert N.sum() == budget or info["unspent"] > 0


def test_the_authors_allocator_can_fall_below_the_dp():
    # with the coverage trigger the knapsack is given less than it could use
    gen = np.random.default_rng(7)
    worse = 0
    for _ in range(100):
        states, n, min_n, max_n, budget, valid, rate = verl_instance(gen)
        try:
            N, _ = sk.sampling_budget_by_knapsack(states, n, min_n=min_n, max_n=max_n,
                                                  total_budget=budget, mode="reference")
        except AssertionError:
            continue
        rest = budget - n * int((~valid).sum())
        dp = th.allocate_dp(rate[valid], rest, min_n, max_n)
        worse += th.total_value(N[valid], rate[valid]) < th.total_value(dp, rate[valid]) - 1e-9
    assert worse > 0


def test_verl_reference_mode_is_the_port():
    states = [[1, p, 16] for p in (0.02, 0.3, 0.6, 0.95, 0.5, 0.125, 0.0625, 0.8)]
    N, info = sk.sampling_budget_by_knapsack(states, 8, min_n=2, max_n=128, mode="reference")
    assert N.tolist() == [2, 10, 7, 2, 7, 16, 13, 7] and info["fallback"] is False
    p = np.array([s[1] for s in states])
    assert np.array_equal(N, th.allocate_reference(p)[0])


def test_verl_drop_in_rejects_bad_layouts():
    with pytest.raises(ValueError, match=r"shape \(batch_size, 3\)"):
        sk.sampling_budget_by_knapsack([[1, 0.5]], 8, max_n=16)
    with pytest.raises(ValueError, match="success_rate must be in"):
        sk.sampling_budget_by_knapsack([[1, 1.5, 3], [1, 0.5, 3]], 8, max_n=16)
    with pytest.raises(ValueError, match="negative_n must be None or min_n"):
        sk.sampling_budget_by_knapsack([[1, 0.5, 3], [1, 0.0, 3]], 8, max_n=16, negative_n=4)


# ----------------------------------------------------------------------------
# DUET beside the knapsack at equal token budget
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def duet_run():
    from theory.knapsack.duet import DuetSimParams

    return sk.simulate_duet(DuetSimParams(prompts=32), trials=1500, seed=3)


def test_duet_reweighted_gradient_is_unbiased(duet_run):
    df = duet_run
    un = df[df.estimator == "unclamped"]
    assert list(un.allocator) == list(sk.DUET_ALLOCATORS)
    # every allocation's per-prompt mean, the abort rule's 1/eps included, is unbiased
    assert (un.theory == un.target).all()
    assert (un.z.abs() <= 4).all(), un[["allocator", "estimate", "theory", "se"]]
    duet = df[df.allocator == "duet"].set_index("estimator")
    # the authors' clamped weights and the estimate without 1/eps have other expectations
    for est in ("authors", "no-abort-correction"):
        r = duet.loc[est]
        assert abs(r.z) <= 4
        assert abs(r.estimate - r.target) > 8 * r.se, est


def test_duet_tokens_and_variance_match_their_closed_forms(duet_run):
    df = duet_run[duet_run.estimator == "unclamped"]
    assert ((df.tokens_sim - df.tokens_expected).abs() <= 4 * df.tokens_se).all()
    assert (df.tokens_expected <= df.token_budget * (1 + 1e-12)).all()
    rel = (df.variance_sim / df.variance_expected - 1).abs()
    assert (rel <= 0.3).all(), df[["allocator", "variance_sim", "variance_expected"]]
    r = df.set_index("allocator")
    # DUET's rollout axis lowers the variance against uniform, within the Neyman gain's reach
    assert r.loc["duet-rollouts", "variance_ratio"] < 1
    # the length axis saves tokens: more rollouts at the same budget
    assert r.loc["duet", "rollouts"] > r.loc["duet-rollouts", "rollouts"]
    assert r.loc["knapsack+length", "rollouts"] > r.loc["knapsack", "rollouts"]


def test_duet_command_line(tmp_path, capsys):
    out = tmp_path / "duet.csv"
    assert main(["duet", "--trials", "40", "--prompts", "8", "--json", "--out", str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {r["allocator"] for r in res["rows"]} == set(sk.DUET_ALLOCATORS)
    assert res["params"]["prompts"] == 8 and res["token_budget"] > 0
    assert len(pd.read_csv(out)) == len(res["rows"])
    import dataclasses

    from sim.knapsack.cli_duet import DUET_FLAGS, build_parser
    from theory.knapsack.duet import DuetParams, DuetSimParams

    parser = build_parser()
    for f in dataclasses.fields(DuetSimParams):
        assert parser.get_default(f.name) == f.default
    for name in DUET_FLAGS:
        assert parser.get_default(name) == getattr(DuetParams(), name)


def test_allocate_parser_defaults_are_the_library_defaults():
    from sim.knapsack.cli_allocate import build_parser
    from sim.knapsack.estimator import MIN_VALID
    from theory.knapsack.duet import DuetParams

    parser = build_parser()
    k, d = th.KnapsackParams(), DuetParams()
    for name in ("budget", "n_low", "n_up", "fallback", "fallback_trigger", "alpha", "cost",
                 "weight", "mode"):
        assert parser.get_default(name) == getattr(k, name), name
    for name in ("n_min", "n_max", "sigma_min", "multiplier"):
        assert parser.get_default(name) == getattr(d, name), name
    assert parser.get_default("min_count") == MIN_VALID
    # --n defaults to the library's n, or to budget // prompts when --budget is given
    args = parser.parse_args(["f.csv"])
    from sim.knapsack.cli_allocate import _params

    assert _params(args, 10).n == k.n
    assert _params(parser.parse_args(["f.csv", "--budget", "120"]), 10).n == 12
