import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "config" / "smoke.yaml"


@pytest.fixture(autouse=True)
def _one_thread():
    # tests compare numbers, not speed; one thread keeps reductions in a fixed order
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The smoke config run locally once per session (test_pipeline.py, and test_slurm.py's
    reference for the SLURM run's outputs)."""
    work = tmp_path_factory.mktemp("smoke")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # rules call python
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work)]
    out = subprocess.run(
        [*cmd, "--configfile", str(SMOKE), "--cores", "2"],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    if out.returncode != 0:
        raise AssertionError(f"smoke run failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return work
