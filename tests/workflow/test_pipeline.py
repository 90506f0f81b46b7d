"""The Snakemake pipeline: DAGs of all configs, the smoke config end to end, re-runs, and
bad configs failing before any job. The smoke run takes about two minutes."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from user_files import place_user_files

from floss import families
from floss.core import io
from floss.core.compare import differences
from floss.core.plan import results_dir
from floss.flossing import plan as X

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "config" / "smoke.yaml"
RESULTS = results_dir(yaml.safe_load(SMOKE.read_text()))  # results/smoke
pytestmark = pytest.mark.slow


def snakemake(workdir, *args, configfile=SMOKE, check=False):
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # rules call python
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(configfile),
        *args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if check and out.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def jobs(dry_run_output: str) -> dict[str, int]:
    """The first job-count table of a dry run, without its total."""
    counts, inside = {}, False
    for line in dry_run_output.splitlines():
        fields = line.split()
        if fields == ["job", "count"]:
            inside = True
        elif inside and fields and fields[0] == "total":
            break
        elif inside and len(fields) == 2 and fields[1].isdigit():
            counts[fields[0]] = int(fields[1])
    return counts


def planned_paths(dry_run_output: str) -> set[str]:
    """Every input, output, log and benchmark path a dry run lists."""
    found = set()
    for line in dry_run_output.splitlines():
        key, _, paths = line.strip().partition(": ")
        if key in ("input", "output", "log", "benchmark"):
            found.update(p.strip() for p in paths.split(","))
    return found


CONFIGS = ["config.yaml", "config/paper.yaml", "config/smoke.yaml", "config/verify.yaml"]


@pytest.mark.parametrize("name", CONFIGS)
def test_dry_run_builds_the_dag(tmp_path, name):
    cfg = yaml.safe_load((ROOT / name).read_text())
    place_user_files(cfg, tmp_path)  # the paper config's MNIST files, as empty stand-ins
    out = snakemake(tmp_path, "-n", configfile=ROOT / name, check=True)
    counts = jobs(out.stdout + out.stderr)
    assert counts["figure"] == len(families.figures(cfg)) >= 7
    # one training job per delay, or per condition with batch_delays (an output per delay)
    trains = sum(n for rule, n in counts.items() if rule.startswith("train"))
    if cfg["batch_delays"]:
        assert 0 < trains <= counts["evaluate"] and "train" not in counts
    else:
        assert counts["train"] == counts["evaluate"] > 0
    # each scale has its own folders: a smoke run never overwrites the quick results
    tops = tuple(f"{top}/{cfg['scale']}/" for top in ("results", "logs", "benchmarks"))
    paths = planned_paths(out.stdout + out.stderr)
    assert len(paths) > 100 and [p for p in paths if not p.startswith(tops)] == []


def test_smoke_outputs(smoke):
    cfg = yaml.safe_load(SMOKE.read_text())
    for fig in families.figures(cfg):
        for ext in ("png", "pdf", "nc"):
            assert (smoke / RESULTS / "figures" / f"{fig}.{ext}").stat().st_size > 0
    # the other families' figures (S*, H*, G*) too, each with its PDF and plotted data
    pngs = {p.stem for p in (smoke / RESULTS / "figures").glob("*.png")}
    assert {p[0] for p in pngs} >= {"F", "S", "H", "G"}
    for stem in pngs:
        for ext in ("pdf", "nc"):
            assert (smoke / RESULTS / "figures" / f"{stem}.{ext}").stat().st_size > 0
    files = sorted((smoke / RESULTS).rglob("*.nc"))
    assert len(files) > 50
    for path in files:
        ds = io.read(path)
        assert "floss_step" in ds.attrs and "git_commit" in ds.attrs, path
        name = path.name
        core = path.relative_to(smoke / RESULTS).parts[0] in X.EXPERIMENTS
        if core and name.startswith(("init", "floss_", "train_")):
            for var in ("J", "W_in", "x0") if "architectures/gru" not in str(path) else ("W_hh",):
                assert var in ds and np.isfinite(ds[var].values).all(), (path, var)
        if core and name.startswith("train_"):
            assert ds["loss"].dims == ("network", "epoch")
            assert np.isfinite(ds["loss"].values).all() and (ds["status"].values == 0).all()
        if core and name.startswith("spectrum_"):
            assert ds["lyapunov"].dims == ("network", "exponent")
            assert np.isfinite(ds["lyapunov"].values).all()
        if core and name.startswith("eval_"):
            assert ((ds["accuracy"] >= 0) & (ds["accuracy"] <= 1)).all()
        if core and name.startswith("jacobian_"):
            assert np.isfinite(ds["log_singular_value"].values[..., 0]).all()
        for var in ds.data_vars.values():
            assert "units" in var.attrs and "long_name" in var.attrs, (path, var.name)
        for var in ds.variables.values():  # CF: UDUNITS strings; coordinates named too
            assert var.attrs.get("units") not in ("1/step", "1/step^2"), (path, var.name)
            assert "long_name" in var.attrs, (path, var.name)
    assert (smoke / "logs").is_dir() and any((smoke / "benchmarks").rglob("*.tsv"))


def test_rerun_does_nothing_and_deleting_reruns_dependents(smoke):
    out = snakemake(smoke, "-n", check=True)
    assert "Nothing to be done" in out.stdout + out.stderr
    victim = smoke / RESULTS / "training/vanilla/eval_copy_d2_none.nc"
    kept = smoke.parent / "kept_eval.nc"
    shutil.copy2(victim, kept)
    victim.unlink()
    out = snakemake(smoke, "-n", check=True)
    # the evaluation, the figures that read it (F3, F5, F6 and H4), the claims and `all`
    assert jobs(out.stdout + out.stderr) == {
        "all": 1,
        "evaluate": 1,
        "figure": 4,
        "claims": 1,
    }
    # the file back as it was (its mtime too): the DAG is complete again, without the
    # ~40 s of rerunning it (the later tests compare with the session's smoke run)
    shutil.copy2(kept, victim)
    out = snakemake(smoke, "-n", check=True)
    assert "Nothing to be done" in out.stdout + out.stderr


def test_bad_config_fails_before_any_job(tmp_path):
    cfg = yaml.safe_load(SMOKE.read_text())
    cfg["training"]["n_neurons"] = -3
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    out = snakemake(tmp_path, "--cores", "1", configfile=bad)
    assert out.returncode != 0
    assert "training" in out.stderr and "n_neurons" in out.stderr
    assert not (tmp_path / "results").exists()
    cfg = yaml.safe_load(SMOKE.read_text())
    cfg["jacobian"]["k"] = 99
    bad.write_text(yaml.safe_dump(cfg))
    out = snakemake(tmp_path, "--cores", "1", configfile=bad)
    assert out.returncode != 0
    assert "config key jacobian.k: 99 exceeds the state size 8" in out.stderr
    assert not (tmp_path / "results").exists()


def test_fail_rule_fails_its_job_with_one_line(tmp_path):
    """The failure tests' switch: the named rule's job fails and says why in its log; a name
    that is no rule is refused before any job."""
    cfg = {**yaml.safe_load(SMOKE.read_text()), "fail_rule": "init"}
    path = tmp_path / "fail.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = snakemake(
        tmp_path, "--cores", "1", f"{RESULTS}/training/vanilla/init.nc", configfile=path
    )
    assert out.returncode != 0
    assert (
        "fail_rule: init fails on purpose"
        in (tmp_path / "logs/smoke/training/vanilla/init.log").read_text()
    )
    path.write_text(yaml.safe_dump({**cfg, "fail_rule": "no_such_rule"}))
    out = snakemake(tmp_path / "other", "--cores", "1", configfile=path)
    assert out.returncode != 0
    assert "config key fail_rule: 'no_such_rule' is no rule; allowed: [" in out.stderr
    assert not (tmp_path / "other" / "results").exists()


def test_jobs_run_the_workflows_own_floss(tmp_path):
    """A job whose `python` has no floss installed (as in the conda env of envs/floss.yaml)
    still runs: the shell prefix puts the workflow's floss/ on PYTHONPATH. `python -S` skips
    the venv's .pth files (the editable install); PYTHONPATH still gives the packages."""
    site = next(p for p in sys.path if p.endswith("site-packages"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "python"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    shim.chmod(0o755)
    check = subprocess.run(
        [str(shim), "-c", "import floss"], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": site},
    )  # fmt: skip
    assert check.returncode != 0 and "No module named 'floss'" in check.stderr
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": site}
    target = f"{RESULTS}/data/training/copy_d2.nc"
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
           "--configfile", str(SMOKE), "--cores", "1", target]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (tmp_path / target).exists()


def test_snakemake_lint_clean(tmp_path):
    """`snakemake --lint` on a copy of the workflow without results (lint exits 1 on any)."""
    for name in ("Snakefile", "config.yaml", "workflow", "envs", "config"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"], cwd=tmp_path, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_snakefmt_clean():
    exe = shutil.which("snakefmt", path=str(Path(sys.executable).parent)) or "snakefmt"
    out = subprocess.run(
        [exe, "--check", "Snakefile", "workflow"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


#: figures whose DAGs the determinism test reruns, for the surrogate, Hessian and GAIT-prop
#: families (surrogate init, flossing and training; Hessian training; GAIT-prop training;
#: data). The flossing family's whole smoke DAG is rerun by tests/workflow/test_slurm.py
#: under SLURM and compared with the session's run; without SLURM, training determinism is
#: checked by tests/rnn/test_training.py::test_determinism.
RERUN = (
    "S1A_binary_lambda1", "S2A_xor_accuracy", "H1_curvature_training", "G1_gait_accuracy",
)  # fmt: skip


def test_determinism(smoke, tmp_path):
    """Running the smoke config again gives identical data variables in every NetCDF: every
    job behind the figures RERUN is rerun."""
    cfg = yaml.safe_load(SMOKE.read_text())
    figures = [f for f in families.figures(cfg) if f in RERUN]
    assert len(figures) == len(RERUN)
    targets = [f"{RESULTS}/figures/{f}.nc" for f in figures]
    first = tmp_path / "first"
    shutil.copytree(smoke / RESULTS, first)
    snakemake(smoke, "--cores", "2", *targets, "--forceall", check=True)  # 15 of 97 jobs
    rerun = [
        p for p in sorted((smoke / RESULTS).rglob("*.nc"))
        if p.stat().st_mtime_ns != (first / p.relative_to(smoke / RESULTS)).stat().st_mtime_ns
    ]  # fmt: skip
    assert len(rerun) >= 12 and {f"{f}.nc" for f in figures} <= {p.name for p in rerun}
    assert differences(first, smoke / RESULTS) == []
