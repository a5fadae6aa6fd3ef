"""Budget guidance on toy LMs: exact dynamic programme against Monte Carlo (docs/models/gamma.md).

The geometric toy, the paragraph toy, the fitted Gamma predictor and untrained candidates
(docs/models/gamma.md, "Toy language models"), the backends, the guidance operator on arrays,
the sweep and the command line.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim import gamma as g
from sim import rng as _rng
from sim.gamma.layout import STREAM
from theory import gamma as th

BUDGET = 150
UNGUIDED = g.Method("unguided", kind="unguided", predictor=None)
FORCING = g.Method("forcing", kind="forcing", predictor=None)
ORACLE = g.Method("oracle", predictor="oracle", trigger="every_token")
ORACLE_NL = g.Method("oracle newline", predictor="oracle", trigger="newline")
GAMMA_NL = g.Method("gamma newline", predictor="gamma", trigger="newline")


@pytest.fixture(scope="module")
def para():
    m = g.paragraph_model()
    return m, g.remaining_length_pmf(m)


@pytest.fixture(scope="module")
def para_pred(para):
    m, rem = para
    return g.fit_predictor(m, rem=rem)


def _exact(model, method, budget=BUDGET, pred=None, rem=None):
    return g.exact_law(model, g.guided_table(model, method, budget, pred, rem))


def _chi2_pvalue(lengths, pmf, runaway=0.0, min_expected=5.0):
    """Chi-square goodness of fit of simulated lengths to an exact pmf, bins pooled to >= 5."""
    n = lengths.size
    top = pmf.size
    obs = np.bincount(np.minimum(lengths, top + 1) - 1, minlength=top + 1).astype(float)
    exp_ = np.append(pmf, max(1.0 - pmf.sum(), runaway)) * n
    o_bins, e_bins = [], []
    o_acc = e_acc = 0.0
    for o, e in zip(obs, exp_):
        o_acc += o
        e_acc += e
        if e_acc >= min_expected:
            o_bins.append(o_acc)
            e_bins.append(e_acc)
            o_acc = e_acc = 0.0
    o_bins[-1] += o_acc
    e_bins[-1] += e_acc
    o_bins, e_bins = np.array(o_bins), np.array(e_bins)
    e_bins *= o_bins.sum() / e_bins.sum()
    return stats.chisquare(o_bins, e_bins).pvalue


# --- the toy models ----------------------------------------------------------

def test_models_are_valid_markov_chains(para):
    for m in (g.geometric_model(0.01), para[0]):
        assert np.allclose(m.probs.sum(axis=1), 1.0)
        law = _exact(m, UNGUIDED)
        assert law["pmf"].sum() + law["runaway"] == pytest.approx(1.0, abs=1e-12)


def test_geometric_base_law_is_geometric():
    h = 0.03
    law = _exact(g.geometric_model(h), UNGUIDED)
    k = np.arange(1, 200)
    assert np.allclose(law["pmf"][:199], h * (1 - h) ** (k - 1), rtol=1e-12, atol=0)


def test_paragraph_length_is_capped(para):
    m, _ = para
    J = m.params["max_paragraph"]
    # No state lets a paragraph run past max_paragraph tokens without a newline.
    words = m.tokens.index("word")
    for s, name in enumerate(m.state_names):
        j = int(name.split("j=")[1])
        if j == J - 1:
            assert m.probs[s, words] == 0.0


def test_remaining_length_pmf_matches_monte_carlo(para):
    m, rem = para
    k = np.arange(1, rem.shape[1] + 1)
    mean_start = float((k * rem[m.start]).sum())
    r = g.decode(m, UNGUIDED, BUDGET, trials=20_000, seed=3, backend="numba")
    L = r["lengths"]
    se = L.std(ddof=1) / math.sqrt(L.size)
    assert abs(L.mean() - mean_start) < 4 * se


# --- the geometric toy: exact oracle at every token, docs/models/gamma.md (19)-(21) ----

@pytest.mark.parametrize("h,lbar", [(0.01, 150), (0.05, 20), (0.2, 3), (0.5, 1)])
def test_geometric_toy_exact_law_is_truncated_geometric(h, lbar):
    m = g.geometric_model(h)
    law = _exact(m, ORACLE, lbar)
    k = np.arange(1, lbar + 1)
    assert np.allclose(law["pmf"][:lbar], th.truncated_geometric_pmf(k, h, lbar), atol=1e-13)
    assert law["pmf"][lbar:].sum() + law["runaway"] < 1e-13


@pytest.mark.parametrize("h", [0.01, 0.2])
def test_geometric_toy_guided_stop_probability(h):
    m = g.geometric_model(h)
    tab = g.guided_table(m, ORACLE, 60)
    b = np.arange(1, 61)
    assert np.allclose(tab.rows[1:, 0, m.end], th.geometric_guided_stop_prob(h, b), rtol=1e-12)
    assert tab.rows[1, 0, m.end] == 1.0


def test_geometric_toy_monte_carlo_never_overshoots_and_fits_the_pmf():
    # h = 0.01, budget 150: exact mean 57.33 by (21), never over budget by (15).
    m = g.geometric_model(0.01)
    r = g.decode(m, ORACLE, 150, trials=100_000, seed=0, backend="numba")
    L = r["lengths"]
    assert L.max() <= 150
    mean = th.truncated_geometric_mean(0.01, 150)
    assert mean == pytest.approx(57.33, abs=0.005)
    assert abs(L.mean() - mean) < 4 * L.std(ddof=1) / math.sqrt(L.size)
    pmf = th.truncated_geometric_pmf(np.arange(1, 151), 0.01, 150)
    assert _chi2_pvalue(L, pmf) > 1e-4


# --- the paragraph toy -----------------------------------------------------------

def test_paragraph_toy_every_token_oracle_is_the_conditional_law(para):
    m, rem = para
    base = _exact(m, UNGUIDED, rem=rem)["pmf"]
    law = _exact(m, ORACLE, rem=rem)
    cond = base[:BUDGET] / base[:BUDGET].sum()
    assert np.allclose(law["pmf"][:BUDGET], cond, atol=1e-12)
    assert law["pmf"][BUDGET:].sum() + law["runaway"] < 1e-12
    r = g.decode(m, ORACLE, BUDGET, trials=20_000, seed=1, backend="numba")
    assert r["lengths"].max() <= BUDGET            # zero overshoot, every run


def test_paragraph_toy_newline_oracle_overshoot_bounded_by_a_paragraph(para):
    m, rem = para
    law = _exact(m, ORACLE_NL, rem=rem)
    s = g.law_summary(law["pmf"], BUDGET, law["runaway"])
    assert 0 < s["overshoot_max"] <= m.params["max_paragraph"]
    assert law["pmf"][BUDGET:].sum() > 0          # gating does break the guarantee
    r = g.decode(m, ORACLE_NL, BUDGET, trials=20_000, seed=2, backend="numba")
    assert r["lengths"].max() - BUDGET <= m.params["max_paragraph"]


@pytest.mark.parametrize("method", [UNGUIDED, ORACLE_NL, GAMMA_NL, FORCING],
                         ids=lambda m: m.name)
def test_paragraph_toy_monte_carlo_matches_dynamic_programme(para, para_pred, method):
    m, rem = para
    tab = g.guided_table(m, method, BUDGET, para_pred, rem)
    law = g.exact_law(m, tab, max_tokens=4000)
    r = g.decode(m, method, BUDGET, trials=20_000, seed=5, backend="numba",
                 predictor=para_pred, max_tokens=4000, table=tab)
    assert _chi2_pvalue(r["lengths"], law["pmf"], law["runaway"]) > 1e-4
    adh = law["pmf"][:BUDGET].sum()
    se = math.sqrt(max(adh * (1 - adh), 1e-12) / r["lengths"].size)
    assert abs((r["lengths"] <= BUDGET).mean() - adh) <= 4 * se + 1e-12
    g_se = r["guided_steps"].std(ddof=1) / math.sqrt(r["lengths"].size) + 1e-12
    assert abs(r["guided_steps"].mean() - law["guided_steps"]) < 4 * g_se


def test_forcing_never_exceeds_budget(para):
    m, _ = para
    r = g.decode(m, FORCING, 40, trials=5000, seed=0, backend="numba")
    assert r["lengths"].max() == 40


# --- the fitted Gamma predictor ------------------------------------------------------

def test_fitted_gamma_is_the_population_mle(para, para_pred):
    m, rem = para
    cand = g.candidate_length_pmf(m, rem)
    s, v = m.start, m.tokens.index("So")
    w = cand[s, v]
    keep = w > 1e-15
    ell = np.arange(1, w.size + 1)[keep]
    # Maximum likelihood on a large sample of the candidate's law lands near the population fit.
    gen = np.random.default_rng(0)
    sample = gen.choice(ell, size=200_000, p=w[keep] / w[keep].sum())
    fit = th.fit_gamma(sample)
    info = np.linalg.inv(th.fisher_information(fit.alpha, fit.rate)) / sample.size
    se = np.sqrt(np.diag(info))
    assert abs(fit.alpha - para_pred.alpha[s, v]) < 4 * se[0]
    assert abs(fit.rate - para_pred.rate[s, v]) < 4 * se[1]


def test_fitted_gamma_adherence_degrades_gracefully_with_misspecification(para):
    m, rem = para
    adh = []
    for d in (0.0, -0.1, -0.25, -0.5, -1.0):
        pred = g.fit_predictor(m, distortion=d, rem=rem)
        law = _exact(m, GAMMA_NL, pred=pred, rem=rem)
        adh.append(law["pmf"][:BUDGET].sum())
    adh = np.array(adh)
    assert np.all(np.diff(adh) < 0)                 # worse with every step of misfit
    assert np.all(-np.diff(adh) < 0.25)             # no cliff
    base = _exact(m, UNGUIDED, rem=rem)["pmf"][:BUDGET].sum()
    assert adh[-1] > base                           # still better than no guidance


def test_fitted_gamma_guidance_near_oracle(para, para_pred):
    m, rem = para
    o = _exact(m, ORACLE_NL, rem=rem)["pmf"][:BUDGET].sum()
    gm = _exact(m, GAMMA_NL, pred=para_pred, rem=rem)["pmf"][:BUDGET].sum()
    assert abs(o - gm) < 0.02


# --- untrained candidates, mask and fallback, docs/models/gamma.md (8), (12) -------

def test_untrained_tokens_masked_are_never_chosen(para):
    m, rem = para
    pred = g.fit_predictor(m, untrained_tokens=("Wait",), rem=rem)
    wait = m.tokens.index("Wait")
    faithful = g.Method("f", predictor="gamma", trigger="newline", mode="faithful", rate_min=0.0)
    bayes = g.Method("b", predictor="gamma", trigger="newline", mode="bayes")
    rf = g.decode(m, faithful, BUDGET, trials=5000, seed=0, backend="numba", predictor=pred)
    rb = g.decode(m, bayes, BUDGET, trials=5000, seed=0, backend="numba", predictor=pred)
    assert rf["picks"][wait] == 0
    assert rb["picks"][wait] > 0
    tab = g.guided_table(m, faithful, BUDGET, pred, rem)
    assert np.all(tab.rows[:, tab.guided[1]][..., wait] == 0)


def test_untrained_fallback_counts_match_the_exact_expectation(para):
    m, rem = para
    # An untrained end token fails the mask; every other candidate has a diffuse fit and fails
    # the code's rate >= 10 test, so each guided step falls back to the raw-logit argmax.
    pred = g.fit_predictor(m, untrained_tokens=("</think>",), rem=rem)
    meth = g.Method("f", predictor="gamma", trigger="newline", mode="faithful")
    law = _exact(m, meth, pred=pred, rem=rem)
    r = g.decode(m, meth, BUDGET, trials=5000, seed=0, backend="numba", predictor=pred)
    assert law["fallbacks"] > 0
    assert law["fallbacks"] == pytest.approx(law["guided_steps"])
    se = r["fallbacks"].std(ddof=1) / math.sqrt(r["fallbacks"].size) + 1e-9
    assert abs(r["fallbacks"].mean() - law["fallbacks"]) < 4 * se
    # The fallback is one-hot at the most likely token: never "Wait" at guided steps.
    assert r["picks"][m.tokens.index("Wait")] == 0


def test_faithful_mask_removes_diffuse_toy_predictions(para, para_pred):
    m, rem = para
    meth = g.Method("f", predictor="gamma", trigger="newline", mode="faithful")
    tab = g.guided_table(m, meth, BUDGET, para_pred, rem)
    keep = th.validity_mask(para_pred.alpha, para_pred.rate)
    assert np.allclose(tab.masked, (m.probs * ~keep).sum(axis=1))
    assert tab.masked[m.start] > 0.9


# --- backends -----------------------------------------------------------------

@pytest.mark.parametrize("method", [UNGUIDED, FORCING, ORACLE, ORACLE_NL, GAMMA_NL],
                         ids=lambda m: m.name)
def test_backends_realise_the_same_runs(para, para_pred, method):
    m, rem = para
    a = g.decode(m, method, 60, trials=400, seed=9, backend="numpy", predictor=para_pred,
                 max_tokens=1500)
    b = g.decode(m, method, 60, trials=400, seed=9, backend="numba", predictor=para_pred,
                 max_tokens=1500)
    tab = g.guided_table(m, method, 60, para_pred, rem)
    c = g.decode_array(m, tab, 400, _rng.stream_key(9, STREAM), 1500, xp=np)
    assert np.array_equal(a["lengths"], b["lengths"])
    assert np.array_equal(b["lengths"], c[0])
    assert np.array_equal(a["guided_steps"], b["guided_steps"])
    assert np.array_equal(a["picks"], b["picks"]) and np.array_equal(b["picks"], c[3])


def test_seeds_change_the_runs(para):
    m, _ = para
    a = g.decode(m, UNGUIDED, 60, trials=500, seed=1, backend="numba")["lengths"]
    b = g.decode(m, UNGUIDED, 60, trials=500, seed=2, backend="numba")["lengths"]
    assert not np.array_equal(a, b)


# --- guidance operator on arrays ------------------------------------------------

@given(st.integers(1, 10_000), st.sampled_from(["bayes", "faithful"]), st.integers(0, 2**31))
def test_guide_xp_matches_theory(budget, mode, seed):
    gen = np.random.default_rng(seed)
    V = 64
    z = gen.normal(0, 3, (2, V))
    alpha = np.exp(gen.normal(2.5, 1.5, (2, V)))
    rate = np.exp(gen.normal(1.5, 1.5, (2, V)))
    q = g.guide_xp(np, z, alpha, rate, float(budget), mode=mode)
    ref = th.guide(z, alpha, rate, np.full(2, float(budget)), mode=mode)
    assert np.allclose(q, ref, rtol=1e-9, atol=1e-15)
    assert np.allclose(q.sum(axis=-1), 1.0)


def test_guide_jax_matches_theory():
    pytest.importorskip("jax")
    gen = np.random.default_rng(0)
    V = 1000
    z = gen.normal(0, 3, V).astype(np.float32)
    alpha = np.exp(gen.normal(3, 1, V)).astype(np.float32)
    rate = np.exp(gen.normal(2.5, 1, V)).astype(np.float32)
    for mode in ("bayes", "faithful"):
        q = np.asarray(g.guide_jax(z, alpha, rate, np.float32(300.0), mode=mode))
        ref = th.guide(z.astype(float), alpha.astype(float), rate.astype(float), 300.0,
                       mode=mode)
        assert np.abs(q - ref).max() < 1e-5


# --- summaries ------------------------------------------------------------------

def test_law_summary_on_a_known_law():
    pmf = np.zeros(10)
    pmf[[1, 4, 7]] = [0.5, 0.4, 0.1]          # T = 2, 5, 8
    s = g.law_summary(pmf, budget=5)
    assert s["adherence"] == pytest.approx(0.9)
    assert s["mean_length"] == pytest.approx(2 * 0.5 + 5 * 0.4 + 8 * 0.1)
    assert s["overshoot_p90"] == 0 and s["overshoot_p99"] == 3 and s["overshoot_max"] == 3
    s = g.law_summary(pmf, budget=5, reference=pmf)
    assert s["tv"] == pytest.approx(0.5 * (abs(0.5 - 5 / 9) + abs(0.4 - 4 / 9) + 0.1))


def test_compare_table(para, para_pred):
    m, _ = para
    df = g.compare(m, BUDGET, trials=2000, seed=0, backend="numba", predictor=para_pred)
    assert list(df.name)[:3] == ["unguided", "budget forcing", "oracle, every token"]
    r = df.set_index("name")
    assert r.loc["oracle, every token", "adherence_exact"] == pytest.approx(1.0, abs=1e-12)
    assert r.loc["oracle, every token", "tv_exact"] < 1e-10
    assert r.loc["unguided", "adherence_exact"] < 0.5
    assert {"seed", "backend", "version"} <= set(df.columns)


# --- command line ----------------------------------------------------------------

def test_cli_json(capsys):
    assert g.main(["--budget", "150", "--trials", "4000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["budget"] == 150 and out["params"]["toy"] == "paragraph"
    names = [m["name"] for m in out["methods"]]
    assert "unguided" in names and "budget forcing" in names
    for m in out["methods"]:
        assert {"name", "adherence_exact", "adherence_sim", "mean_length",
                "overshoot_p90"} <= set(m)
        se = max(m["adherence_se"], 1e-9)
        assert abs(m["adherence_sim"] - m["adherence_exact"]) < 4 * se + 1e-9


def test_cli_geometric_report(capsys):
    assert g.main(["--model", "geometric", "--budget", "150", "--trials", "4000"]) == 0
    out = capsys.readouterr().out
    assert "oracle, every token" in out and "57.3" in out


def test_cli_plot(tmp_path):
    path = tmp_path / "g.png"
    assert g.main(["--trials", "2000", "--plot", str(path), "--json"]) == 0
    assert path.stat().st_size > 10_000


def _lengths_file(tmp_path, lengths, kind="csv"):
    df = pd.DataFrame({"length": lengths})
    path = tmp_path / f"l.{kind}"
    if kind == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_cli_fit(tmp_path, capsys, kind):
    gen = np.random.default_rng(4)
    y = gen.gamma(40.0, 1.0 / 8.0, 5000)            # true alpha 40, rate 8
    L = np.maximum(np.ceil(np.exp(y) - 1).astype(int), 1)
    path = _lengths_file(tmp_path, L, kind)
    assert g.main(["--fit", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 5000
    fit = th.fit_gamma(L)
    assert out["alpha"] == pytest.approx(fit.alpha) and out["rate"] == pytest.approx(fit.rate)
    assert out["nll"] == pytest.approx(fit.nll)
    assert abs(out["alpha"] - 40.0) / 40.0 < 0.1
    png = tmp_path / "fit.png"
    assert g.main(["--fit", str(path), "--plot", str(png)]) == 0
    assert "alpha=" in capsys.readouterr().out and png.stat().st_size > 5000


@pytest.mark.parametrize("argv,needle", [
    (["--budget", "0"], "budget"),
    (["--model", "wave"], "model"),
    (["--model", "geometric", "--h", "0"], "h"),
    (["--model", "geometric", "--h", "1.5"], "h"),
    (["--trials", "1"], "trials"),
    (["--seed", "-1"], "seed"),
    (["--strength", "-1"], "strength"),
    (["--untrained", "Hmm"], "untrained"),
    (["--likelihood", "poisson"], "likelihood"),
    (["--backend", "tpu"], "backend"),
    (["--max-tokens", "10"], "max_tokens"),
])
def test_cli_bad_input(cli_exit, argv, needle):
    status, err = cli_exit(g.main, argv)
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and needle in err


@pytest.mark.parametrize("content,needle", [
    ("length\n", "has no rows"),
    ("length\n3\n0\n", "column 'length' must be in [1, inf], got 0"),
    ("length\n3\n2.5\n", "column 'length' must hold integers, got 2.5"),
    ("length\n3\nabc\n", "column 'length' has a missing, non-numeric"),
    ("size\n3\n4\n", "no column 'length'"),
    ("", "empty"),
    ("length\n5\n5\n", "two distinct"),
])
def test_cli_fit_bad_files(tmp_path, cli_exit, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    status, err = cli_exit(g.main, ["--fit", str(path)])
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_cli_fit_missing_and_unknown_format(tmp_path, cli_exit):
    status, err = cli_exit(g.main, ["--fit", str(tmp_path / "none.csv")])
    assert status == 2 and "does not exist" in err
    p = tmp_path / "x.json"
    p.write_text("{}")
    status, err = cli_exit(g.main, ["--fit", str(p)])
    assert status == 2 and ".csv or .parquet" in err
    p = tmp_path / "x.parquet"
    p.write_text("not parquet")
    status, err = cli_exit(g.main, ["--fit", str(p)])
    assert status == 2 and "could not be read" in err


def test_gamma_sweep_points(tmp_path):
    from sim import sweep
    out = tmp_path / "g"
    assert sweep.main(["gamma", "--budget", "60,120", "--trials", "2000", "--out", str(out),
                       "--json"]) == 0
    df = sweep.collect(out)
    assert sorted(df.budget.unique()) == [60, 120]
    assert set(df.method) >= {"unguided", "budget forcing", "oracle, newline"}
    se = np.maximum(df.se, 1e-9)
    assert np.all(np.abs(df.estimate - df.theory) <= 4 * se + 1e-9)
    oracle = df[df.method == "oracle, every token"]
    assert np.allclose(oracle.theory, 1.0)
    from matplotlib.figure import Figure

    ax = sweep.plot_sweep(out, ax=Figure().subplots())
    assert len(ax.get_lines()) >= df.method.nunique()      # one exact line per rule
    assert ax.get_xlabel() == "budget"


@given(st.integers(1, 100_000), st.sampled_from(["bayes", "faithful"]), st.integers(0, 2**31),
       st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_guide_numba_matches_theory(budget, mode, seed, strength):
    gen = np.random.default_rng(seed)
    z = gen.normal(0, 3, (3, 40))
    alpha = np.exp(gen.normal(2.5, 1.5, (3, 40)))
    rate = np.exp(gen.normal(1.5, 1.5, (3, 40)))
    q, fell = g.guide_numba(z, alpha, rate, float(budget), mode=mode, strength=strength,
                            return_fallback=True)
    ref, ref_fell = th.guide(z, alpha, rate, np.full(3, float(budget)), mode=mode,
                             strength=strength, return_fallback=True)
    assert np.allclose(q, ref, rtol=1e-9, atol=1e-14)
    assert np.array_equal(fell, ref_fell)
    assert np.allclose(q.sum(axis=1), 1.0)


def test_guide_numba_fallbacks_and_errors():
    z = np.array([0.0, 2.0, 1.0])
    q, fell = g.guide_numba(z, 0.5, 0.5, 3.0, mode="faithful", return_fallback=True)
    assert fell and np.array_equal(q, [0.0, 1.0, 0.0])   # one-hot at the raw-logit argmax
    # Bayes: weights underflow to 0 in linear space but stay finite in log space.
    q = g.guide_numba(z, np.array([1e4, 1e4, 1.0]), np.array([1.0, 1.0, 1e4]), 1.0)
    assert np.all(np.isfinite(q)) and q.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="budget"):
        g.guide_numba(z, 1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="alpha and rate"):
        g.guide_numba(z, -1.0, 1.0, 3.0)
    with pytest.raises(ValueError, match="mode"):
        g.guide_numba(z, 1.0, 1.0, 3.0, mode="greedy")


def test_cli_fit_evaluates_a_given_law(tmp_path, capsys):
    gen = np.random.default_rng(5)
    L = np.maximum(np.ceil(np.exp(gen.gamma(40.0, 1.0 / 8.0, 4000)) - 1).astype(int), 1)
    path = _lengths_file(tmp_path, L)
    assert g.main(["--fit", str(path), "--alpha", "40", "--rate", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fitted"] is False and out["alpha"] == 40.0 and out["rate"] == 8.0
    assert out["nll"] == pytest.approx(float(np.mean(th.nll(np.log(L + 1.0), 40.0, 8.0))))
    assert out["pit"]["p_value"] > 1e-3                # the true law is calibrated
    assert g.main(["--fit", str(path), "--alpha", "10", "--rate", "8", "--json"]) == 0
    wrong = json.loads(capsys.readouterr().out)
    assert wrong["pit"]["p_value"] < 1e-6               # a wrong law is not


@pytest.mark.parametrize("argv,needle", [
    (["--alpha", "-1", "--rate", "8"], "alpha"),
    (["--alpha", "2", "--rate", "0"], "rate"),
    (["--alpha", "2"], "together"),
])
def test_cli_fit_given_law_bad_input(tmp_path, cli_exit, argv, needle):
    path = _lengths_file(tmp_path, [3, 4, 5])
    status, err = cli_exit(g.main, ["--fit", str(path)] + argv)
    assert status == 2 and len(err.strip().splitlines()) == 1 and needle in err


def test_cli_alpha_without_fit(cli_exit):
    status, err = cli_exit(g.main, ["--alpha", "2", "--rate", "1"])
    assert status == 2 and "--fit" in err


# --- the model interface -----------------------------------------------------------

def test_the_package_provides_the_model_interface():
    from sim.interface import Model
    from sim.registry import model
    from theory.gamma import GammaParams

    assert isinstance(g, Model) and model("gamma") is g
    assert g.NAME == "gamma" and g.Params is GammaParams
    assert [p.name for p in g.SWEEP.params][:2] == ["toy", "budget"]
    with pytest.raises(TypeError, match="GammaParams"):
        g.simulate(dict(budget=10))


def test_simulate_takes_params_and_puts_the_exact_law_beside_the_estimate():
    params = g.Params(toy="geometric", h=0.02, budget=40)
    df = g.simulate(params, trials=4000, seed=1, backend="numba")
    assert list(df.name) == ["unguided", "budget forcing", "oracle, every token",
                             "gamma, every token", "gamma faithful, every token"]
    r = df.set_index("name").loc["oracle, every token"]
    # the every-token oracle is the truncated geometric law, docs/models/gamma.md (20)-(21)
    assert r.mean_length_exact == pytest.approx(th.truncated_geometric_mean(0.02, 40), rel=1e-9)
    assert abs(r.mean_length_sim - r.mean_length_exact) < 4 * r.mean_length_se_sim
    unguided = df.set_index("name").loc["unguided"]
    assert unguided.adherence_exact == pytest.approx(1 - 0.98 ** 40, rel=1e-9)
    assert abs(unguided.adherence_sim - unguided.adherence_exact) < 4 * unguided.adherence_se_sim
    assert {"seed", "backend", "version"} <= set(df.columns)
    assert (df.seed == 1).all() and (df.backend == "numba").all()


def test_the_kernels_draw_the_documented_counter_layout():
    # Unguided geometric toy: T is 1 + the first step whose uniform falls below h, with the
    # uniform of run i at step t at counter i * max_tokens + t of the decoding stream.
    h, budget, cap, n = 0.1, 30, 700, 64
    m = g.geometric_model(h)
    r = g.decode(m, UNGUIDED, budget, trials=n, seed=4, backend="numba", max_tokens=cap)
    key = _rng.stream_key(4, STREAM)
    ctr = (np.arange(n, dtype=np.uint64)[:, None] * np.uint64(cap)
           + np.arange(cap, dtype=np.uint64)[None, :])
    u = (_rng.splitmix64(key, ctr) >> np.uint64(11)).astype(float) / 2.0**53
    stop = u < h
    assert stop.any(axis=1).all()
    assert np.array_equal(r["lengths"], stop.argmax(axis=1) + 1)


def test_plot_lengths_draws_the_exact_law_and_the_simulated_histogram():
    from matplotlib.figure import Figure

    df = g.simulate(g.Params(toy="geometric", budget=60), trials=3000, seed=0, backend="numba")
    ax = Figure().subplots()
    assert g.plot_lengths(df, "oracle, every token", ax) is ax
    stairs = [c for c in ax.patches if type(c).__name__ == "StepPatch"][0]
    values, edges, _ = stairs.get_data()
    pmf = th.truncated_geometric_pmf(np.arange(1, 61), 0.01, 60)
    # the exact panel carries the whole truncated law: mass per bin times width sums to 1
    assert (values * np.diff(edges)).sum() == pytest.approx(pmf.sum(), abs=1e-9)
    bars = [b for b in ax.patches if type(b).__name__ == "Rectangle"]
    assert sum(b.get_height() * b.get_width() for b in bars) == pytest.approx(1.0, abs=1e-9)


# --- command line: defaults, conventions, refusals -------------------------------------

def test_parser_defaults_are_the_params_defaults():
    import dataclasses

    from sim import _cli
    from sim.gamma.__main__ import build_parser

    parser = build_parser()
    d = g.Params()
    for f in dataclasses.fields(d):
        assert parser.get_default(f.name) == getattr(d, f.name), f.name
    assert parser.get_default("trials") == g.TRIALS
    assert parser.get_default("seed") == _cli.DEFAULT_SEED == 0


def test_cli_json_carries_params_and_version(capsys):
    import dataclasses

    from sim import __version__

    argv = ["--toy", "geometric", "--h", "0.05", "--budget", "30", "--trials", "2000",
            "--untrained", "step", "--json"]
    assert g.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    want = dataclasses.asdict(g.Params(toy="geometric", h=0.05, budget=30, untrained=("step",)))
    assert out["params"] == dict(want, untrained=["step"])
    assert out["version"] == __version__
    assert out["trials"] == 2000 and out["seed"] == 0


def test_cli_version(capsys):
    from sim import __version__

    with pytest.raises(SystemExit) as exc:
        g.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"budgetlab {__version__}"


@pytest.mark.parametrize("argv", [
    ["--budget", "150"], ["--toy", "geometric"], ["--model", "paragraph"], ["--h", "0.1"],
    ["--p-wait", "0.3"], ["--backend", "numpy"], ["--trials", "100"],
    ["--likelihood", "discrete"], ["--untrained", "Wait"], ["--strength", "2"],
    ["--max-tokens", "500"], ["--rate-min", "1"], ["--distortion", "0.1"],
])
def test_cli_fit_refuses_the_toy_options(tmp_path, cli_exit, argv):
    path = _lengths_file(tmp_path, [3, 4, 5, 9])
    status, err = cli_exit(g.main, ["--fit", str(path), *argv])
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert f"{argv[0] if argv[0] != '--model' else '--toy'} does not apply to --fit" in err


@pytest.mark.parametrize("argv,needle", [
    (["--toy", "geometric", "--p-wait", "0.3"], "--p-wait does not apply to --toy geometric"),
    (["--model", "geometric", "--max-paragraph", "5"],
     "--max-paragraph does not apply to --toy geometric"),
    (["--h", "0.1"], "--h does not apply to --toy paragraph"),
    (["--rate", "3"], "--rate does not apply to the toy comparison"),
])
def test_cli_refuses_options_of_another_mode(cli_exit, argv, needle):
    status, err = cli_exit(g.main, argv)
    assert status == 2 and len(err.strip().splitlines()) == 1 and needle in err
