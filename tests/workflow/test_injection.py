"""Config strings never run as shell code: a hostile `surrogate.reduced` (pasted into the
figure job's --params JSON) reaches the job as exactly that string and runs nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
import yaml

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "config" / "smoke.yaml"
pytestmark = pytest.mark.slow

# quotes of both kinds, command substitution both ways, a separator, a glob, braces
HOSTILE = 'it\'s "{x}" $(touch PWNED_1) `touch PWNED_2`; touch PWNED_3 * {{y}} \\ end'


def test_hostile_config_string_is_data_not_code(tmp_path):
    cfg = yaml.safe_load(SMOKE.read_text())
    cfg["surrogate"]["reduced"] = HOSTILE
    config = tmp_path / "hostile.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    target = "results/figures/S1A_binary_lambda1.nc"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work),
           "--configfile", str(config), "--cores", "2", target]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ran = [p for d in (tmp_path, work, ROOT) for p in d.rglob("PWNED_*")]
    assert ran == []
    with xr.open_dataset(work / target) as fig:
        params = json.loads(fig.attrs["floss_config"])
    assert params["reduced"] == HOSTILE
