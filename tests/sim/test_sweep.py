"""Tests of ``python -m sim.sweep``: ranges, resume, seeds, executors, the phase boundary."""

import json
import os
import socket
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import sim.phase
from sim import sweep
from sim.sweep import main, make_spec, parse_values, point_seed, run_sweep, sweep_model

# a small phase sweep: 3 x 4 points of depth-5 trees, well under a second in all
SMALL = dict(rho="0:0.6:3", gamma="0.7,0.8,0.9,1", depth=5)


def small_spec(**kw):
    return make_spec("phase", dict(SMALL), trials=kw.pop("trials", 640),
                     seed=kw.pop("seed", 11), backend="numba", **kw)


# ----------------------------------------------------------------------------
# ranges
# ----------------------------------------------------------------------------

def test_parse_ranges_and_lists():
    rho = sweep_model("phase").param("rho")
    assert parse_values(rho, "0:0.95:20")[7] == 0.35  # linspace noise rounded away
    assert len(parse_values(rho, "0:0.95:20")) == 20
    assert parse_values(rho, "0.1, 0.2") == (0.1, 0.2)
    assert parse_values(rho, 0.3) == (0.3,)
    assert parse_values(rho, [0, 0.5]) == (0.0, 0.5)
    assert parse_values(sweep_model("phase").param("b"), "3,5,7") == (3, 5, 7)
    assert parse_values(sweep_model("phase").param("depth"), "4:12:5") == (4, 6, 8, 10, 12)
    assert parse_values(sweep_model("phase").param("root_channel"), "true,false") == (True, False)
    assert parse_values(sweep_model("phase").param("correlation"), "herding,item") == (
        "herding", "item")


@pytest.mark.parametrize("name, text, words", [
    ("rho", "0:1:0", "rho range '0:1:0' is empty"),
    ("rho", "0:1", "rho range must be START:STOP:N"),
    ("rho", "a:1:3", "rho range must be START:STOP:N"),
    ("rho", "0.1,,0.2", "rho must be a value"),
    ("rho", "x", "rho values must be a finite number"),
    ("depth", "4:5:3", "depth values must be integers"),
    ("b", "3.5", "b values must be an integer"),
    ("root_channel", "maybe", "root_channel values must be true or false"),
])
def test_parse_errors_name_the_parameter(name, text, words):
    with pytest.raises(ValueError, match="^" + words.replace("(", r"\(").replace("[", r"\[")):
        parse_values(sweep_model("phase").param(name), text)


def test_spec_errors():
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        make_spec("nope", {})
    with pytest.raises(ValueError, match="unknown parameter 'sigma' for model phase"):
        make_spec("phase", {"sigma": "1,2"})
    with pytest.raises(ValueError, match=r"rho must be in \[0, 1\), got 1.5"):
        make_spec("phase", {"rho": "0.5,1.5"})
    with pytest.raises(ValueError, match="pass --yes"):
        make_spec("phase", {"rho": "0:0.9:1000", "gamma": "0.5:1:1000", "p0": "0.5:0.9:11"})
    with pytest.raises(ValueError, match="random design needs --points"):
        make_spec("phase", {"rho": "0:0.9:3"}, design="random")


# ----------------------------------------------------------------------------
# command line: bad input is one line on stderr and exit status 2
# ----------------------------------------------------------------------------

def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("argv, words", [
    (["nope", "--out", "{d}/x"], "unknown model 'nope'"),
    (["phase", "--sigma", "1,2", "--out", "{d}/x"], "unknown parameter --sigma for model phase"),
    (["phase", "--rho", "0:1:0", "--out", "{d}/x"], "rho range '0:1:0' is empty"),
    (["phase", "--rho", "0:0.9:400", "--gamma", "0.5:1:300", "--b", "3:9:4", "--p0",
      "0.5:1:30", "--out", "{d}/x"], "more than 1e+07"),
    (["phase", "--rho", "0,0.5", "--out", "{d}/file.txt/sub"], "cannot create --out"),
    (["phase", "--rho", "0,0.5"], "--out DIR is required"),
    (["phase", "--rho", "0,0.5", "--out", "{d}/x", "--executor", "threads"],
     "executor must be inline"),
    (["phase", "--rho", "0,0.5", "--out", "{d}/x", "--executor", "tcp://127.0.0.1:{port}",
      "--connect-timeout", "1"], "does not answer within 1 s"),
    (["coop", "--theta", "0,0.5", "--phi-C", "2.5", "--out", "{d}/x"],
     "theta*phi_C must be < 1"),
    (["phase", "--config", "{d}/missing.toml"], "config file"),
])
def test_cli_bad_input(cli_exit, tmp_path, argv, words):
    (tmp_path / "file.txt").write_text("not a directory")
    port = closed_port()
    argv = [a.format(d=tmp_path, port=port) for a in argv]
    status, err = cli_exit(main, argv)
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("python -m sim.sweep: error: ")
    assert words in err


def test_cli_refuses_a_different_sweep(cli_exit, tmp_path):
    out = str(tmp_path / "run")
    base = ["phase", "--rho", "0,0.3", "--depth", "3", "--json"]
    assert cli_exit(main, base + ["--trials", "64", "--out", out])[0] == 0
    status, err = cli_exit(main, base + ["--trials", "128", "--out", out])
    assert status == 2 and "holds a different sweep (differs in trials)" in err
    assert err.count("\n") == 1
    parts = sorted(os.listdir(os.path.join(out, "parts")))
    assert len(parts) == 2  # nothing overwritten
    assert cli_exit(main, base + ["--trials", "128", "--out", out, "--force"])[0] == 0
    assert json.load(open(os.path.join(out, "sweep.json")))["trials"] == 128
    os.makedirs(tmp_path / "other")
    (tmp_path / "other" / "notes.txt").write_text("mine")
    status, err = cli_exit(main, base + ["--out", str(tmp_path / "other")])
    assert status == 2 and "not empty and holds no sweep manifest" in err


def test_cli_run_collect_plot_and_toml(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = tmp_path / "sweep.toml"
    cfg.write_text('model = "phase"\ntrials = 256\nseed = 3\nbackend = "numba"\n'
                   f'out = "{out}"\n[params]\nrho = "0:0.6:3"\ngamma = [0.7, 0.9]\n'
                   'depth = 4\n')
    assert main(["--config", str(cfg), "--json", "--plot", str(tmp_path / "p.png")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["total"], summary["done"], summary["failed"]) == (6, 6, 0)
    assert (tmp_path / "p.png").stat().st_size > 10_000
    # flags override the file; a rerun skips everything
    assert main(["--config", str(cfg)]) == 0
    text = capsys.readouterr().out
    assert "run 0, skipped 6 (already done), failed 0" in text
    csv = tmp_path / "all.csv"
    assert main(["collect", str(out), "--csv", str(csv)]) == 0
    assert "collected 6 of 6 points (30 rows)" in capsys.readouterr().out
    df = pd.read_csv(csv)
    for col in ("point", "rho", "gamma", "depth", "theory", "estimate", "se", "seed", "backend",
                "version", "level"):
        assert col in df.columns
    assert set(df["backend"]) == {"numba"} and df["trials"].eq(256).all()


# ----------------------------------------------------------------------------
# seeds, resume, executors
# ----------------------------------------------------------------------------

def test_point_seed_depends_only_on_root_seed_and_values():
    a = dict(b=3, rho=0.3, gamma=0.9)
    assert point_seed(0, "phase", a) == point_seed(0, "phase", dict(reversed(list(a.items()))))
    assert point_seed(0, "phase", a) != point_seed(1, "phase", a)
    assert point_seed(0, "phase", a) != point_seed(0, "phase", dict(a, gamma=0.91))
    assert 0 <= point_seed(2**40, "phase", a) < 2**63


def test_order_of_axes_and_points_does_not_change_rows(tmp_path):
    one = small_spec()
    two = make_spec("phase", dict(gamma=SMALL["gamma"], depth=5, rho=SMALL["rho"]),
                    trials=640, seed=11, backend="numba")
    run_sweep(one, tmp_path / "a")
    run_sweep(two, tmp_path / "b")
    a = sweep.collect(tmp_path / "a").sort_values(["point", "level"]).reset_index(drop=True)
    b = sweep.collect(tmp_path / "b").sort_values(["point", "level"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b[a.columns])


def test_resume_after_interrupt_gives_the_rows_of_one_run(tmp_path):
    spec = small_spec()
    whole = run_sweep(spec, tmp_path / "whole")
    assert (whole.done, whole.failed, whole.interrupted) == (12, 0, False)

    calls = []

    def ctrl_c_after_five():
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt

    with ThreadPoolExecutor(max_workers=2) as ex:
        first = run_sweep(spec, tmp_path / "cut", ex, progress=ctrl_c_after_five, max_pending=2)
    assert first.interrupted and first.done == 5
    parts = tmp_path / "cut" / "parts"
    assert len(list(parts.glob("*.parquet"))) == 5
    (parts / ".deadbeef.parquet.tmp-1").write_bytes(b"half a part from a crash")
    second = run_sweep(spec, tmp_path / "cut")
    assert (second.skipped, second.done, second.failed) == (5, 7, 0)
    pd.testing.assert_frame_equal(sweep.collect(tmp_path / "cut"),
                                  sweep.collect(tmp_path / "whole"))


def test_local_and_dask_executors_give_the_same_numbers(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = small_spec(trials=320)
    run_sweep(spec, tmp_path / "local")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            summary = run_sweep(spec, tmp_path / "dask", client.get_executor())
    assert (summary.done, summary.failed) == (12, 0)
    pd.testing.assert_frame_equal(sweep.collect(tmp_path / "dask"),
                                  sweep.collect(tmp_path / "local"))


def test_random_design_is_reproducible(tmp_path):
    spec = make_spec("phase", dict(rho="0:0.9:2", gamma="0.6:1:2", b="3,5", depth=3),
                     trials=64, seed=5, design="random", points=6)
    pts = list(sweep.point_params(spec))
    assert pts == list(sweep.point_params(spec)) and len(pts) == 6
    assert all(0 <= p["rho"] <= 0.9 and 0.6 <= p["gamma"] <= 1 and p["b"] in (3, 5)
               for p in pts)


def test_failed_points_are_counted_not_written(tmp_path):
    # b**depth beyond the numpy backend's limit fails at run time only
    spec = make_spec("phase", dict(depth="2,17"), trials=64, backend="numpy")
    summary = run_sweep(spec, tmp_path / "f")
    assert (summary.done, summary.failed) == (1, 1)
    assert "depth=17" in summary.errors[0] and "numpy backend" in summary.errors[0]


# ----------------------------------------------------------------------------
# data that is trusted is verified; one writer; bounded sizes
# ----------------------------------------------------------------------------

def _damage(parts):
    """Truncate one part, empty another, replace a third by a foreign table; return their ids."""
    names = sorted(parts.glob("*.parquet"))
    data = names[0].read_bytes()
    names[0].write_bytes(data[: len(data) // 2])
    names[1].write_bytes(b"")
    pd.DataFrame({"x": [1, 2, 3]}).to_parquet(names[2])
    return {n.name[:-8] for n in names[:3]}


def test_damaged_parts_are_recomputed_and_never_collected(tmp_path):
    spec = small_spec()
    whole = tmp_path / "whole"
    run_sweep(spec, whole)
    cut = tmp_path / "cut"
    run_sweep(spec, cut)
    bad = _damage(cut / "parts")
    damaged = []
    df = sweep.collect(cut, damaged)
    assert {d[:-8] for d in damaged} == bad
    assert set(df["point"]) == set(sweep.collect(whole)["point"]) - bad
    again = run_sweep(spec, cut)
    assert (again.skipped, again.done, again.failed) == (12 - 3, 3, 0)
    pd.testing.assert_frame_equal(sweep.collect(cut), sweep.collect(whole))


def test_a_part_that_does_not_read_back_is_not_written(tmp_path, monkeypatch):
    from sim.sweep import store

    spec = small_spec()
    monkeypatch.setattr(store, "part_ok", lambda *a, **k: False)
    with pytest.raises(OSError, match="did not read back whole"):
        run_sweep(spec, tmp_path / "v")  # a disk that loses writes stops the sweep
    assert list((tmp_path / "v" / "parts").iterdir()) == []


def test_a_part_of_another_sweep_does_not_count(tmp_path):
    a, b = small_spec(), small_spec(trials=128)
    run_sweep(a, tmp_path / "a")
    part = next((tmp_path / "a" / "parts").glob("*.parquet"))
    key_a = sweep.sweep_key(a.manifest())
    assert sweep.part_ok(part, key_a, part.name[:-8])
    assert not sweep.part_ok(part, sweep.sweep_key(b.manifest()), part.name[:-8])
    assert not sweep.part_ok(part, key_a, "0" * 16)


def test_one_writer_per_sweep_directory(tmp_path, cli_exit):
    import subprocess
    import sys

    out = tmp_path / "locked"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir()
        (out / ".lock").write_text(json.dumps(dict(pid=holder.pid,
                                                   host=socket.gethostname())))
        status, err = cli_exit(main, ["phase", "--rho", "0,0.5", "--depth", "2", "--trials",
                                      "64", "--out", str(out), "--force"])
        assert status == 2 and f"pid {holder.pid}" in err and err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale and taken over
    status, _ = cli_exit(main, ["phase", "--rho", "0,0.5", "--depth", "2", "--trials", "64",
                                "--out", str(out)])
    assert status == 0 and not (out / ".lock").exists()
    assert len(list((out / "parts").glob("*.parquet"))) == 2


def test_sizes_are_refused_before_any_work(cli_exit, tmp_path):
    status, err = cli_exit(main, ["phase", "--rho", "0:0.9:1e15", "--out", str(tmp_path / "a")])
    assert status == 2 and "has 1e+15 values, more than 1e+07" in err
    status, err = cli_exit(main, ["phase", "--depth", "60", "--out", str(tmp_path / "b")])
    assert status == 2 and "leaf-votes, above this machine's limit" in err
    assert err.count("\n") == 1
    status, err = cli_exit(main, ["phase", "--rho", "0,0.5", "--connect-timeout", "nan",
                                  "--executor", "tcp://127.0.0.1:9", "--out",
                                  str(tmp_path / "c")])
    assert status == 2 and "connect-timeout must be in (0, 3600], got nan" in err


def test_a_service_that_is_not_dask_is_refused_in_one_line(cli_exit, tmp_path):
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]

    def greet():  # greets first, like an SSH server, with bytes that are no Dask frame
        for _ in range(2):
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    threading.Thread(target=greet, daemon=True).start()
    try:
        status, err = cli_exit(main, ["phase", "--rho", "0,0.5", "--out", str(tmp_path / "x"),
                                      "--executor", f"tcp://127.0.0.1:{port}",
                                      "--connect-timeout", "5"])
    finally:
        srv.close()
    assert status == 2 and "is not a Dask scheduler" in err and err.count("\n") == 1


def test_workers_end_with_the_sweep_process(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    code = ("import os, time\n"
            "from sim.sweep import make_executor\n"
            "c = make_executor('processes:2')\n"
            "futs = [c.executor.submit(os.getpid) for _ in range(8)]\n"
            "print(' '.join(str(p) for p in sorted({f.result() for f in futs})), flush=True)\n"
            "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers
        os.kill(proc.pid, signal.SIGKILL)  # only the main process
        proc.wait()
        deadline = time.time() + 10
        alive = workers
        while alive and time.time() < deadline:
            time.sleep(0.2)
            alive = [w for w in workers if _running(w)]
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# ----------------------------------------------------------------------------
# every model: tidy rows whose estimates agree with theory
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("model, values, trials", [
    ("bbam", dict(budget="200,600"), 4000),
    ("knapsack", dict(n="4,12"), 300),
    ("coop", dict(theta="0,0.2", n=4), 400),
])
def test_models_give_tidy_rows(tmp_path, model, values, trials):
    spec = make_spec(model, values, trials=trials, seed=1)
    summary = run_sweep(spec, tmp_path / model)
    assert (summary.done, summary.failed) == (2, 0)
    df = sweep.collect(tmp_path / model)
    for col in ("point", "model", "quantity", "theory", "estimate", "se", "trials", "seed",
                "backend", "version"):
        assert col in df.columns
    assert df["point"].nunique() == 2
    ok = df.dropna(subset=["theory"])
    if model == "coop":
        # noisy best responses clipped to [a_min, a_max]: below the equilibrium's cap
        assert (ok["estimate"] <= ok["a_max"]).all() and (ok["se"] >= 0).all()
        assert ok["theory"].iloc[0] < ok["theory"].iloc[1]  # loyalty raises effort
    else:
        z = (ok["estimate"] - ok["theory"]) / ok["se"]
        assert np.all(np.abs(z) <= 5), z.to_numpy()


# ----------------------------------------------------------------------------
# the phase diagram's empirical boundary against gamma_c
# ----------------------------------------------------------------------------

def test_empirical_phase_boundary_matches_gamma_c_at_depth_12(tmp_path):
    # 2 x 7 points of 4096 trees with 3**12 leaves: about 10 s on 2 cores
    spec = make_spec("phase", dict(rho="0,0.5", gamma="0.62:0.86:7", depth=12, p0=0.6),
                     trials=4096, seed=2024, backend="numba")
    run_sweep(spec, tmp_path / "boundary")
    df = sweep.collect(tmp_path / "boundary")
    bnd = sim.phase.phase_boundary(df)
    assert len(bnd) == 2 and bnd["gamma_emp"].notna().all()
    # the criterion: within 0.02 of the theoretical critical fidelity
    assert np.all(np.abs(bnd["gamma_emp"] - bnd["gamma_c"]) <= 0.02), bnd
    # the finite-depth theory crosses close to gamma_c too (p0 = 0.6 bends it by ~0.004)
    assert np.all(np.abs(bnd["gamma_depth"] - bnd["gamma_c"]) <= 0.01), bnd
    # and the simulated crossing sits within 4 standard errors of the theoretical one
    root = df[df["level"] == df["depth"]]
    for r in bnd.itertuples():
        g = root[root["rho"] == r.rho].sort_values("gamma")
        slope = np.gradient(g["theory"].to_numpy(), g["gamma"].to_numpy())
        i = np.searchsorted(g["gamma"].to_numpy(), r.gamma_depth)
        se_gamma = g["se"].to_numpy()[i] / slope[i]
        assert abs(r.gamma_emp - r.gamma_depth) <= 4 * se_gamma, (r, se_gamma)


@pytest.mark.slow
def test_phase_boundary_across_rho_at_depth_13(tmp_path):
    spec = make_spec("phase", dict(rho="0:0.6:5", gamma="0.6:0.92:17", depth=13, p0=0.6),
                     trials=8192, seed=7, backend="numba")
    run_sweep(spec, tmp_path / "b13")
    bnd = sim.phase.phase_boundary(sweep.collect(tmp_path / "b13"))
    assert np.all(np.abs(bnd["gamma_emp"] - bnd["gamma_c"]) <= 0.02), bnd
