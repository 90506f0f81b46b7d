"""The smoke pipeline through a real single-node SLURM cluster with the workflow profile
profiles/slurm (snakemake-executor-plugin-slurm), compared with a local run.

Opt-in, because it installs and starts system daemons (SLURM, slurmdbd, MariaDB, munge):
it runs only with FLOSS_SLURM_TEST=1, as root, where apt-get exists; otherwise every test
here is skipped with the reason printed. `.ci/slurm-cluster.sh up` starts the cluster and
`.ci/slurm-cluster.sh down` stops it afterwards, also when a test fails.

    FLOSS_SLURM_TEST=1 .venv/bin/python -m pytest -s tests/test_slurm.py

The local reference is the session's smoke run (the `smoke` fixture of tests/conftest.py,
shared with tests/test_pipeline.py), made before the cluster starts, so that the SLURM jobs
have the machine to themselves."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from test_pipeline import RESULTS  # results/smoke: the smoke config's folder
from test_pipeline import jobs as job_counts  # the dry-run table parser, one copy

from floss.core.compare import differences

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "config" / "smoke.yaml"
PROFILE = ROOT / "profiles" / "slurm"
CLUSTER = ROOT / ".ci" / "slurm-cluster.sh"
PLUGIN = "snakemake-executor-plugin-slurm==2.8.0"  # tested with snakemake 9.27.1
BIN = Path(sys.executable).parent
# hang guards (s), not timing tests: ~4x what the runs took on a busy 2-core machine (315 s
# and 115 s); a hung snakemake ignores SIGTERM, hence `timeout -k`
LIMIT_SLURM, LIMIT_FAIL = 1200, 600
BUNDLE = 3
GROUP_COMPONENTS = ("prep=3", "analysis=6", "figures=2", f"compute={BUNDLE}")
FAMILIES = ("surrogate", "hessian", "gait")
FAIL_TARGET = f"{RESULTS}/lambda_control/vanilla/init.nc"


def skip_reason() -> str | None:
    if os.environ.get("FLOSS_SLURM_TEST") != "1":
        return "FLOSS_SLURM_TEST=1 is not set (opt-in: installs and starts a SLURM cluster)"
    if os.geteuid() != 0:
        return "not root (the SLURM test installs packages and starts daemons)"
    if shutil.which("apt-get") is None:
        return "apt-get not found (the SLURM test installs Debian's SLURM packages)"
    return None


# Skipped at collection (before the session's smoke run is set up); `-rs` in pyproject.toml
# prints the reason in every test run's summary.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(skip_reason() is not None, reason=f"SLURM test: {skip_reason()}"),
]


def say(request, message: str) -> None:
    """A line on the terminal even while pytest captures output (the SLURM timings and the
    skip reason belong in the CI log)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        print(message, flush=True)
        return
    with capture.global_and_fixture_disabled():
        print(message, flush=True)


def env() -> dict[str, str]:
    """The venv's bin first on PATH: rules call a bare `python`, and SLURM jobs inherit it.
    FLOSS_SLURM_BUNDLE: the profile bundles the smoke config's tiny compute jobs too, 3
    components per submission (each submission costs ~10 s of scheduling and start-up)."""
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e['PATH']}"
    e["FLOSS_SLURM_BUNDLE"] = str(BUNDLE)
    return e


def snakemake_cmd(workdir: Path, configfile: Path, limit: int, *args: str) -> list[str]:
    exe = BIN / "snakemake"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    return [
        "timeout",
        "-k",
        "15",
        str(limit),
        *base,
        "-s",
        str(ROOT / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(configfile),
        *args,
    ]


@dataclass
class Run:
    returncode: int
    output: str
    seconds: float

    def tail(self, n: int = 4000) -> str:
        return self.output[-n:]


@dataclass
class Runs:
    slurm_dir: Path
    local_dir: Path
    fail_dir: Path
    slurm: Run
    fail: Run
    jobs: list[dict[str, str]] = field(default_factory=list)  # sacct rows, all runs


def run_together(*commands: tuple[list[str], int]) -> list[Run]:
    """Run the (command, limit) pairs side by side (a run that waits on the scheduler leaves
    the cores to the other) and return each one's Run, timed from the common start."""
    t, logs, procs = time.monotonic(), [], []
    for cmd, _ in commands:
        logs.append(tempfile.TemporaryFile("w+"))
        procs.append(
            subprocess.Popen(cmd, stdout=logs[-1], stderr=subprocess.STDOUT, text=True, env=env())
        )
    runs = []
    for proc, log, (_, limit) in zip(procs, logs, commands):
        returncode = proc.wait(timeout=limit + 60)
        seconds = time.monotonic() - t
        log.seek(0)
        runs.append(Run(returncode, log.read(), seconds))
        log.close()
    return runs


def sacct_jobs(since: str) -> list[dict[str, str]]:
    keys = ["JobID", "JobName", "State", "Comment", "WorkDir", "Elapsed"]
    out = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-S", since, "-o", ",".join(keys)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [dict(zip(keys, line.split("|"))) for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def runs(request, smoke, tmp_path_factory) -> Runs:
    """The SLURM runs; the local reference is the session's smoke run (tests/conftest.py),
    made before the cluster starts so that the SLURM jobs have both cores."""
    t_start = time.monotonic()
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 2))
    base = tmp_path_factory.mktemp("slurm")
    slurm_dir, fail_dir = base / "slurm", base / "fail"
    for d in (slurm_dir, fail_dir):
        d.mkdir()
    config, fail_config = base / "smoke_core.yaml", base / "fail.yaml"
    config.write_text(yaml.safe_dump(core_smoke()))
    fail_config.write_text(yaml.safe_dump({**core_smoke(), "fail_rule": "init"}))
    try:
        if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
            t = time.monotonic()
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", PLUGIN], check=True)
            say(request, f"[slurm] pip install {PLUGIN}: {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        up = subprocess.run(
            ["bash", str(CLUSTER), "up"], capture_output=True, text=True,
            env={**os.environ, "SLURM_CPUS": str(2 * (os.cpu_count() or 1))},
        )  # fmt: skip
        assert up.returncode == 0, f"cluster did not start:\n{up.stdout}\n{up.stderr}"
        say(request, f"[slurm] cluster up: {time.monotonic() - t:.0f} s")

        # smaller bundles than the profile's (made for paper scale): 3-4 submissions per
        # stage keep the 2 x nproc job slots busy
        # poll every second (the profile keeps the plugin's defaults, made for real clusters)
        profile = (
            "--workflow-profile", str(PROFILE), "--group-components", *GROUP_COMPONENTS,
            "--slurm-init-seconds-before-status-checks", "1",
            "--seconds-between-status-checks", "1",
        )  # fmt: skip
        # one init job suffices to see a failure propagate; no retry of the doomed job; it
        # runs beside the smoke run (it takes one of the 2 x nproc job slots for ~15 s)
        fail_args = (*profile, "--retries", "0", FAIL_TARGET)
        slurm, fail = run_together(
            (snakemake_cmd(slurm_dir, config, LIMIT_SLURM, *profile), LIMIT_SLURM),
            (snakemake_cmd(fail_dir, fail_config, LIMIT_FAIL, *fail_args), LIMIT_FAIL),
        )
        say(request, f"[slurm] SLURM smoke run: {slurm.seconds:.0f} s, exit {slurm.returncode}")
        say(
            request,
            f"[slurm] SLURM run with fail_rule init, beside it: {fail.seconds:.0f} s, "
            f"exit {fail.returncode}",
        )
        result = Runs(slurm_dir, smoke, fail_dir, slurm, fail, sacct_jobs(since))
        say(request, f"[slurm] sbatch jobs since {since}:")
        for j in result.jobs:
            where = Path(j["WorkDir"]).name
            say(
                request,
                f"  {j['JobID']:>6} {j['State']:<10} {j['Elapsed']} {where:<6} {j['Comment']}",
            )
        yield result
    finally:
        t = time.monotonic()
        down = subprocess.run(["bash", str(CLUSTER), "down"], capture_output=True, text=True)
        say(request, f"[slurm] cluster down: {time.monotonic() - t:.0f} s, exit {down.returncode}")
        say(request, f"[slurm] module wall time: {time.monotonic() - t_start:.0f} s")


def core_smoke() -> dict:
    """The smoke config with the other paper families and F7's architectures switched off,
    the gradient-flossing pipeline (~35 jobs). All smoke jobs through SLURM take ~6 minutes
    on 2 cores (each job's Python and Snakemake start-up is paid inside the allocation),
    beyond this test's
    budget; the other rules run in the local smoke run (tests/workflow/test_pipeline.py)."""
    cfg = yaml.safe_load(SMOKE.read_text())
    for family in (*FAMILIES, "architectures"):
        if family in cfg:
            cfg[family] = {**cfg[family], "enabled": False}
    return cfg  # batch_delays as in the smoke config: the local smoke run is its reference


def groups() -> dict[str, set[str]]:
    """Group name -> rules, from the profile's `groups:` mapping."""
    spec = yaml.safe_load((PROFILE / "config.yaml").read_text())
    out: dict[str, set[str]] = {}
    for rule, group in spec.get("groups", {}).items():
        # `?if ...` keys are YTE conditions (true here: env() sets FLOSS_SLURM_BUNDLE)
        pairs = group.items() if rule.startswith("?if") else [(rule, group)]
        for r, g in pairs:
            out.setdefault(g, set()).add(r)
    return out


def rules_of(comment: str, known: set[str], group_rules: dict[str, set[str]]) -> set[str]:
    """Rules behind a job's comment: rule_<rule>[_wildcards_...] for one job,
    rule_<group>_<rule>_<rule>... for a group job (rule names may contain underscores)."""
    assert comment.startswith("rule_"), comment
    name = comment.removeprefix("rule_").split("_wildcards_")[0]
    if name in known:
        return {name}
    group = next((g for g in group_rules if name.startswith(g + "_")), None)
    assert group is not None, f"unknown comment {comment!r}"
    rest, rules = name.removeprefix(group + "_"), set()
    while rest:
        rule = next(
            (r for r in sorted(group_rules[group], key=len, reverse=True)
             if rest == r or rest.startswith(r + "_")),
            None,
        )  # fmt: skip
        assert rule is not None, (comment, group_rules[group])
        rules.add(rule)
        rest = rest.removeprefix(rule).removeprefix("_")
    return rules


def test_slurm_run_succeeds(runs):
    assert runs.slurm.returncode == 0, runs.slurm.tail()
    assert "steps (100%) done" in runs.slurm.output


def test_every_rule_went_through_sbatch(runs):
    counts = job_counts(runs.slurm.output)
    expected = set(counts) - {"all"}  # `all` has no action: it never leaves snakemake
    assert {"data", "init", "floss", "spectrum", "evaluate", "figure"} <= expected
    assert any(rule.startswith("train") for rule in expected)  # train or train_<condition>
    jobs = [j for j in runs.jobs if j["WorkDir"] == str(runs.slurm_dir)]
    assert jobs, "sacct lists no job of the SLURM run"
    assert all(j["State"] == "COMPLETED" for j in jobs), jobs
    group_rules = groups()
    seen: set[str] = set()
    single: dict[str, int] = {}
    for j in jobs:
        rules = rules_of(j["Comment"], expected, group_rules)
        seen |= rules
        if j["Comment"].removeprefix("rule_").split("_wildcards_")[0] in expected:
            (rule,) = rules
            single[rule] = single.get(rule, 0) + 1
    assert seen == expected
    # ungrouped rules: exactly one submission per job; grouped ones: fewer submissions
    grouped = set().union(*group_rules.values())
    for rule in expected - grouped:
        assert single.get(rule) == counts[rule], (rule, single, counts)
    assert len(jobs) < sum(counts[r] for r in expected)


def test_slurm_outputs_equal_local(runs):
    assert runs.slurm.returncode == 0, runs.slurm.tail()
    assert len(sorted((runs.slurm_dir / RESULTS).rglob("*.nc"))) >= 40  # 42 without F7
    found = differences(runs.local_dir / RESULTS, runs.slurm_dir / RESULTS, subset=True)
    # the claims table differs by design: the SLURM run has the other families switched off,
    # so their rows are `not run` there; every row it did measure must equal the local one
    assert [d for d in found if not d.startswith("claims.nc:")] == []
    with (
        xr.open_dataset(runs.local_dir / RESULTS / "claims.nc") as local,
        xr.open_dataset(runs.slurm_dir / RESULTS / "claims.nc") as slurm,
    ):
        assert list(local["id"].values) == list(slurm["id"].values)
        timed = slurm["value"].attrs.get("floss_measured_rows", "")
        skip = {int(i) for i in timed.split(",") if i}
        ran = [i for i, v in enumerate(slurm["verdict"].values) if v != "not run" and i not in skip]
        assert len(ran) >= 10, "the flossing family measured too few claims"
        for f in ("verdict", "detail", "n"):
            assert list(local[f].values[ran]) == list(slurm[f].values[ran]), f
        np.testing.assert_array_equal(local["value"].values[ran], slurm["value"].values[ran])


def test_failing_rule_fails_the_run(runs):
    fail = runs.fail
    # 124/137: `timeout` stopped it; -9: `timeout` had to SIGKILL it (and itself)
    assert fail.returncode not in (124, 137, -9), f"hung until the timeout:\n{fail.tail()}"
    assert fail.returncode != 0, fail.tail()
    # the stage's message goes to the rule's `log:` file, which the job writes on the node
    logs = (runs.fail_dir / "logs").rglob("*.log")
    assert any("fail_rule: init fails on purpose" in p.read_text() for p in logs)
    jobs = [j for j in runs.jobs if j["WorkDir"] == str(runs.fail_dir)]
    assert any(j["State"] == "FAILED" for j in jobs), jobs
    assert not (runs.fail_dir / RESULTS / "figures").exists()
