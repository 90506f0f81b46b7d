"""Config strings never run as shell code: a hostile `surrogate.reduced` (pasted into the
figure job's --params JSON) reaches the job as exactly that string and runs nothing, and data
files under a folder whose name holds spaces, quotes and `$(...)` are read end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from test_pipeline import RESULTS, snakemake  # the one runner of the workflow tests

from floss.core.datasets import write_idx

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
    target = f"{RESULTS}/figures/S1A_binary_lambda1.nc"
    snakemake(work, "--cores", "2", target, configfile=config, check=True)
    ran = [p for d in (tmp_path, work, ROOT) for p in d.rglob("PWNED_*")]
    assert ran == []
    with xr.open_dataset(work / target) as fig:
        params = json.loads(fig.attrs["floss_config"])
    assert params["reduced"] == HOSTILE


def test_data_paths_with_spaces_quotes_and_substitutions(tmp_path):
    """GAIT-prop on MNIST-format files the user provides, in a folder named like the worst
    path a user could have: the job reads them (its result records the images' path) and
    no command inside the name runs."""
    folder = tmp_path / "my data" / "it's $(touch PWNED_4); `touch PWNED_5`"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = {}
    for split, n in (("train", 200), ("test", 50)):
        paths[f"{split}_images"] = folder / f"{split} images.idx"
        paths[f"{split}_labels"] = folder / f"{split} labels.idx"
        write_idx(paths[f"{split}_images"], rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(paths[f"{split}_labels"], (np.arange(n) % 10).astype(np.uint8))
    cfg = yaml.safe_load(SMOKE.read_text())
    cfg["gait"].update(datasets=["mnist"], data={"mnist": {k: str(v) for k, v in paths.items()}})
    config = tmp_path / "paths.yaml"
    config.write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    target = f"{RESULTS}/gait/mnist/square_bp.nc"
    snakemake(work, "--cores", "1", target, configfile=config, check=True)
    assert [p for d in (tmp_path, ROOT) for p in d.rglob("PWNED_*")] == []
    with xr.open_dataset(work / target) as run:
        assert any(str(paths["train_images"]) in str(v) for v in run.attrs.values())
